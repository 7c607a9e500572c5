#include "edgeward/base/bytes.h"

#include <gtest/gtest.h>

namespace edgeward {
namespace {

TEST(BytesTest, HexRoundTripsAndRejectsGarbage) {
  Bytes b = {0x00, 0xab, 0xff, 0x10};
  EXPECT_EQ(HexEncode(b), "00abff10");
  EXPECT_EQ(*HexDecode("00ABff10"), b);
  EXPECT_EQ(*HexDecode("0x00abff10"), b);
  auto odd = HexDecode("abc");
  EXPECT_EQ(odd.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(odd.status().message().find("odd length"), std::string::npos);
  auto bad = HexDecode("zz");
  EXPECT_NE(bad.status().message().find("offset 0"), std::string::npos);
}

TEST(BytesTest, Base64MatchesRfc4648Vectors) {
  const std::pair<const char*, const char*> v[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : v) {
    EXPECT_EQ(Base64Encode(AsBytes(plain)), enc);
    auto d = Base64Decode(enc);
    ASSERT_TRUE(d.ok()) << enc;
    EXPECT_EQ(AsChars(*d), plain);
  }
}

TEST(BytesTest, Base64RejectsMalformedInput) {
  EXPECT_FALSE(Base64Decode("Zg=").ok());       // length
  EXPECT_FALSE(Base64Decode("Z===").ok());      // too much padding
  EXPECT_FALSE(Base64Decode("Zh==").ok());      // non-canonical trailing bits
  EXPECT_FALSE(Base64Decode("Zm9v!A==").ok());  // bad character
  EXPECT_FALSE(Base64Decode("Zg==Zg==").ok());  // padding in the middle
}

}  // namespace
}  // namespace edgeward
