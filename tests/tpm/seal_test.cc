// SealSecret/UnsealSecret on a private swtpm.
#include "edgeward/tpm/seal.h"

#include <gtest/gtest.h>

#include "tpm_test_util.h"

namespace edgeward::tpm::test {
namespace {

using SealTest = SwtpmTest;

std::string TransientHandles(const std::string& tcti) {
  auto r = testing::RunCommand("tpm2_getcap -T '" + tcti + "' handles-transient");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output;
}

TEST_F(SealTest, SealedSecretRoundTripsAndLeavesNothingLoaded) {
  Bytes secret(32);
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(i * 7 + 1);
  auto blob = SealSecret(tpm(), secret);
  ASSERT_TRUE(blob.ok()) << blob.status().ToString();
  EXPECT_EQ(std::string(blob->begin(), blob->begin() + 4), "EWSL");
  // The secret does not appear in the blob.
  EXPECT_EQ(std::search(blob->begin(), blob->end(), secret.begin(), secret.end()), blob->end());
  auto out = UnsealSecret(tpm(), *blob);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Bytes(out->begin(), out->end()), secret);
  // Across a reconnect and a power cycle: the SRK is recreated from the seed.
  tpm_.reset();
  ASSERT_TRUE(swtpm().Restart().ok());
  Reopen();
  auto again = UnsealSecret(tpm(), *blob);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Bytes(again->begin(), again->end()), secret);
  tpm_.reset();
  EXPECT_EQ(TransientHandles(swtpm().tcti()).find("0x80"), std::string::npos);
}

TEST_F(SealTest, BlobFromBeforeTpmClearDoesNotUnseal) {
  Bytes secret(32, 0x5a);
  auto blob = SealSecret(tpm(), secret);
  ASSERT_TRUE(blob.ok()) << blob.status().ToString();
  tpm_.reset();
  auto r = testing::RunCommand("tpm2_clear -T '" + swtpm().tcti() + "' -c p");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Reopen();
  auto out = UnsealSecret(tpm(), *blob);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kFailedPrecondition) << out.status().ToString();
  EXPECT_NE(out.status().message().find("does not belong to this TPM"), std::string::npos);
}

TEST_F(SealTest, MalformedBlobsAndBadSizesAreRefused) {
  EXPECT_EQ(SealSecret(tpm(), Bytes{}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SealSecret(tpm(), Bytes(kMaxSealedSecretBytes + 1)).status().code(), StatusCode::kInvalidArgument);
  auto blob = SealSecret(tpm(), Bytes(32, 1));
  ASSERT_TRUE(blob.ok());
  Bytes bad_magic = *blob;
  bad_magic[0] = 'X';
  auto a = UnsealSecret(tpm(), bad_magic);
  EXPECT_EQ(a.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(a.status().message().find("bad magic"), std::string::npos);
  Bytes truncated(blob->begin(), blob->end() - 3);
  auto b = UnsealSecret(tpm(), truncated);
  EXPECT_EQ(b.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(b.status().message().find("TPM2B_PRIVATE"), std::string::npos) << b.status().ToString();
  Bytes trailing = *blob;
  trailing.push_back(0);
  EXPECT_EQ(UnsealSecret(tpm(), trailing).status().code(), StatusCode::kDataLoss);
  // A flipped bit in the private part fails the TPM's integrity check.
  Bytes flipped = *blob;
  flipped[flipped.size() - 5] ^= 1;
  auto c = UnsealSecret(tpm(), flipped);
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition) << c.status().ToString();
}

}  // namespace
}  // namespace edgeward::tpm::test
