// HMAC, AES-CFB and random bytes against published vectors: RFC 4231 (HMAC)
// and NIST SP 800-38A Appendix F.3 (CFB128).
#include "edgeward/crypto/symmetric.h"

#include <gtest/gtest.h>

#include "edgeward/crypto/random.h"

namespace edgeward::crypto {
namespace {

Bytes Unhex(const std::string& s) { return HexDecode(s).value(); }

TEST(Hmac, MatchesRfc4231TestCase2) {
  auto mac = Hmac(HashAlg::kSha256, AsBytes("Jefe"), {AsBytes("what do ya "), AsBytes("want for nothing?")});
  ASSERT_TRUE(mac.ok()) << mac.status().ToString();
  EXPECT_EQ(HexEncode(*mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Hmac, AcceptsEmptyKey) {
  auto mac = Hmac(HashAlg::kSha256, {}, {AsBytes("x")});
  ASSERT_TRUE(mac.ok()) << mac.status().ToString();
  EXPECT_EQ(mac->size(), 32u);
}

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  const Bytes a = {1, 2, 3};
  const Bytes b = {1, 2, 4};
  EXPECT_TRUE(ConstantTimeEquals(a, a));
  EXPECT_FALSE(ConstantTimeEquals(a, b));
  EXPECT_FALSE(ConstantTimeEquals(a, ByteView(a).first(2)));
  EXPECT_TRUE(ConstantTimeEquals({}, {}));
}

TEST(AesCfb, MatchesSp800_38aVectors) {
  const Bytes iv = Unhex("000102030405060708090a0b0c0d0e0f");
  const Bytes pt = Unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
  auto ct128 = AesCfbEncrypt(Unhex("2b7e151628aed2a6abf7158809cf4f3c"), iv, pt);
  ASSERT_TRUE(ct128.ok()) << ct128.status().ToString();
  EXPECT_EQ(HexEncode(*ct128), "3b3fd92eb72dad20333449f8e83cfb4ac8a64537a0b3a93fcde3cdad9f1ce58b");
  const Bytes key256 = Unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
  auto ct256 = AesCfbEncrypt(key256, iv, ByteView(pt).first(16));
  ASSERT_TRUE(ct256.ok());
  EXPECT_EQ(HexEncode(*ct256), "dc7e84bfda79164b7ecd8486985d3860");
  auto back = AesCfbDecrypt(key256, iv, *ct256);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(HexEncode(*back), "6bc1bee22e409f96e93d7e117393172a");
}

TEST(AesCfb, PartialBlockKeepsLength) {
  auto ct = AesCfbEncrypt(Bytes(16, 7), Bytes(16, 0), Bytes(34, 1));
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(ct->size(), 34u);
}

TEST(AesCfb, RejectsBadKeyAndIvSizes) {
  EXPECT_EQ(AesCfbEncrypt(Bytes(15), Bytes(16), Bytes(1)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AesCfbEncrypt(Bytes(16), Bytes(8), Bytes(1)).status().code(), StatusCode::kInvalidArgument);
}

TEST(RandomBytes, ReturnsRequestedLengthAndVaries) {
  auto a = RandomBytes(32);
  auto b = RandomBytes(32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(HexEncode(*a), HexEncode(*b));
  EXPECT_EQ(RandomBytes(2u << 20).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgeward::crypto
