#include "edgeward/tpm/pcr_types.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "edgeward/tpm/ak.h"

namespace edgeward::tpm {
namespace {

using crypto::HashAlg;

TEST(PcrSelectionTest, ParsesRangesListsAndSeveralBanks) {
  auto a = ParsePcrSelection("sha256:0-9,15");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ((*a)[HashAlg::kSha256], (std::set<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15}));
  auto b = ParsePcrSelection("sha1:0,1+sha256:0-2");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(FormatPcrSelection(*b), "sha1:0-1+sha256:0-2");
  auto c = ParsePcrSelection("sha256:0-9,sha1:0-7");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)[HashAlg::kSha1].size(), 8u);
  EXPECT_EQ(*ParsePcrSelection(FormatPcrSelection(*c)), *c);
}

TEST(PcrSelectionTest, RejectsBadInputNamingTheToken) {
  // "sha20-9,15" once read before the start of the string (found by fuzzing).
  for (const char* bad : {"", "sha20-9,15", "15", "sha256:", "sha256:24", "sha256:9-1", "md5:1", "sha256:1,,2",
                          "sha256:1+2", "sha256:x"}) {
    auto r = ParsePcrSelection(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(ParsePcrSelection("sha256:24").status().message().find("out of range"), std::string::npos);
  EXPECT_NE(ParsePcrSelection("md5:1").status().message().find("unknown bank 'md5'"), std::string::npos);
}

// A size field that disagrees with its structure must not load (found by
// fuzzing: the TSS unmarshaller does not check TPM2B sizes).
TEST(AkBlobTest, NonCanonicalSizeFieldIsDataLoss) {
  std::ifstream f(std::string(EDGEWARD_SOURCE_DIR) + "/fuzz/corpus/ak_blob/099a84b61828", std::ios::binary);
  Bytes blob((std::istreambuf_iterator<char>(f)), {});
  ASSERT_GT(blob.size(), 46u);
  ASSERT_TRUE(Ak::Parse(blob, "ak.blob").ok()) << Ak::Parse(blob, "ak.blob").status().ToString();
  blob[45] ^= 0xfd;  // the low byte of TPM2B_PUBLIC.size
  auto r = Ak::Parse(blob, "ak.blob");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("ak.blob"), std::string::npos);
}

}  // namespace
}  // namespace edgeward::tpm
