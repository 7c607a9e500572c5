// Tpm::Open, TpmInfo, PCR read/extend and NV reads against swtpm.
#include <gtest/gtest.h>

#include "edgeward/crypto/hash.h"
#include "edgeward/tpm/info.h"
#include "edgeward/tpm/nv.h"
#include "edgeward/tpm/pcr.h"
#include "tpm_test_util.h"

namespace edgeward::tpm::test {
namespace {

using crypto::HashAlg;

using TpmInfoTest = SwtpmTest;
using PcrTest = SwtpmTest;
using NvTest = SwtpmTest;

TEST(TpmOpen, NothingListeningIsUnavailable) {
  // Port 1 on loopback: nothing listens there and nothing may.
  auto t = Tpm::Open("swtpm:host=127.0.0.1,port=1");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kUnavailable) << t.status().ToString();
  EXPECT_NE(t.status().message().find("Tss2_TctiLdr_Initialize"), std::string::npos) << t.status().message();
}

TEST(TpmOpen, BadTctiIsInvalidArgument) {
  EXPECT_EQ(Tpm::Open("swtpm:port=99999").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TpmInfoTest, ReportsSwtpmIdentityAlgorithmsAndBanks) {
  auto info = GetTpmInfo(tpm());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->manufacturer_id, 0x49424D00u);
  EXPECT_EQ(info->manufacturer, "IBM");
  EXPECT_EQ(info->vendor, "SW   TPM");
  EXPECT_EQ(info->spec_family, "2.0");
  EXPECT_GE(info->spec_revision, 116u);
  EXPECT_NE(info->firmware_version_1, 0u);
  EXPECT_TRUE(info->ecc_p256);
  EXPECT_TRUE(info->ecc_p384);
  EXPECT_TRUE(info->rsa_2048);
  EXPECT_EQ(info->pcr_banks, (std::vector<HashAlg>{HashAlg::kSha1, HashAlg::kSha256}));
}

TEST_F(TpmInfoTest, ClockResetCountGrowsAcrossPowerCycle) {
  auto before = ReadClock(tpm());
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_TRUE(swtpm().Restart().ok());
  Reopen();
  auto after = ReadClock(tpm());
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->reset_count, before->reset_count + 1);
}

TEST_F(PcrTest, ActiveBanksAreSha1AndSha256) {
  auto banks = ActivePcrBanks(tpm());
  ASSERT_TRUE(banks.ok()) << banks.status().ToString();
  EXPECT_EQ(*banks, (std::vector<HashAlg>{HashAlg::kSha1, HashAlg::kSha256}));
}

TEST_F(PcrTest, ReadsAll24PcrsOfBothBanksAcrossSeveralCalls) {
  auto sel = ParsePcrSelection("sha1:0-23+sha256:0-23");
  ASSERT_TRUE(sel.ok());
  auto values = ReadPcrs(tpm(), *sel);
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  ASSERT_EQ(values->at(HashAlg::kSha1).size(), 24u);
  ASSERT_EQ(values->at(HashAlg::kSha256).size(), 24u);
  // After TPM2_Startup(CLEAR): PCRs 0-16 and 23 are zero, 17-22 all ones.
  EXPECT_EQ(values->at(HashAlg::kSha256).at(0), Bytes(32, 0x00));
  EXPECT_EQ(values->at(HashAlg::kSha256).at(17), Bytes(32, 0xFF));
  EXPECT_EQ(values->at(HashAlg::kSha1).at(23), Bytes(20, 0x00));
}

TEST_F(PcrTest, ExtendEqualsSoftwareComputationInSha1AndSha256) {
  const uint32_t kPcr = 14;
  auto sel = ParsePcrSelection("sha1:14+sha256:14");
  ASSERT_TRUE(sel.ok());
  auto start = ReadPcrs(tpm(), *sel);
  ASSERT_TRUE(start.ok()) << start.status().ToString();
  Bytes sha1 = start->at(HashAlg::kSha1).at(kPcr);
  Bytes sha256 = start->at(HashAlg::kSha256).at(kPcr);
  for (const char* event : {"first event", "second event", "third"}) {
    Bytes d1 = crypto::Digest(HashAlg::kSha1, AsBytes(event));
    Bytes d256 = crypto::Digest(HashAlg::kSha256, AsBytes(event));
    ASSERT_TRUE(ExtendPcr(tpm(), kPcr, {{HashAlg::kSha1, d1}, {HashAlg::kSha256, d256}}).ok());
    crypto::ExtendInPlace(HashAlg::kSha1, sha1, d1);
    crypto::ExtendInPlace(HashAlg::kSha256, sha256, d256);
  }
  auto end = ReadPcrs(tpm(), *sel);
  ASSERT_TRUE(end.ok()) << end.status().ToString();
  EXPECT_EQ(HexEncode(end->at(HashAlg::kSha1).at(kPcr)), HexEncode(sha1));
  EXPECT_EQ(HexEncode(end->at(HashAlg::kSha256).at(kPcr)), HexEncode(sha256));
  EXPECT_NE(sha256, Bytes(32, 0));
}

TEST_F(PcrTest, ExtendOfOneBankLeavesTheOtherUnchanged) {
  Bytes d = crypto::Digest(HashAlg::kSha256, AsBytes("only sha256"));
  ASSERT_TRUE(ExtendPcr(tpm(), 15, {{HashAlg::kSha256, d}}).ok());
  auto v = ReadPcrs(tpm(), *ParsePcrSelection("sha1:15+sha256:15"));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->at(HashAlg::kSha1).at(15), Bytes(20, 0));
  Bytes expect(32, 0);
  crypto::ExtendInPlace(HashAlg::kSha256, expect, d);
  EXPECT_EQ(v->at(HashAlg::kSha256).at(15), expect);
}

TEST_F(PcrTest, ReadOfInactiveBankIsInvalidArgument) {
  auto v = ReadPcrs(tpm(), *ParsePcrSelection("sha256:0+sha384:0"));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(v.status().message().find("sha384"), std::string::npos) << v.status().message();
}

TEST_F(PcrTest, ExtendWithWrongDigestSizeIsInvalidArgument) {
  Status s = ExtendPcr(tpm(), 14, {{HashAlg::kSha256, Bytes(20, 1)}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ExtendPcr(tpm(), 24, {{HashAlg::kSha256, Bytes(32, 1)}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ExtendPcr(tpm(), 14, {}).code(), StatusCode::kInvalidArgument);
}

TEST_F(NvTest, ReadsPublicAreaOfEkCertificateIndex) {
  auto pub = ReadNvPublic(tpm(), 0x01c00002);
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(pub->index, 0x01c00002u);
  EXPECT_EQ(pub->name_alg, 0x000B);
  EXPECT_GT(pub->data_size, 500);
  EXPECT_EQ(pub->name.size(), 34u);
  auto data = ReadNv(tpm(), 0x01c00002);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->size(), pub->data_size);
  EXPECT_EQ(data->at(0), 0x30);  // DER SEQUENCE
}

TEST_F(NvTest, UndefinedIndexIsNotFound) {
  auto pub = ReadNvPublic(tpm(), 0x01c0000a);
  ASSERT_FALSE(pub.ok());
  EXPECT_EQ(pub.status().code(), StatusCode::kNotFound) << pub.status().ToString();
  EXPECT_NE(pub.status().message().find("0x01c0000a"), std::string::npos);
  EXPECT_EQ(ReadNv(tpm(), 0x01c0000a).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace edgeward::tpm::test

namespace edgeward::tpm::test {
namespace {

TEST_F(NvTest, ReadsIndexLargerThanNvBufferMaxInChunks) {
  // Define and fill a 2048-byte index with tpm2-tools (swtpm serves one
  // connection at a time, so ours is closed meanwhile).
  testing::TempDir dir;
  Bytes content(2048);
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<uint8_t>(i * 7 + 3);
  WriteFile(dir.File("data"), content);
  tpm_.reset();
  const std::string tcti = " -T '" + swtpm().tcti() + "'";
  auto def = testing::RunCommand("tpm2_nvdefine" + tcti +
                                 " -C o -s 2048 -a 'ownerread|ownerwrite|authread|authwrite' 0x01500010");
  ASSERT_EQ(def.exit_code, 0) << def.output;
  auto wr =
      testing::RunCommand("tpm2_nvwrite" + tcti + " -C 0x01500010 -i '" + dir.File("data") + "' 0x01500010");
  ASSERT_EQ(wr.exit_code, 0) << wr.output;
  Reopen();
  auto data = ReadNv(tpm(), 0x01500010);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, content);
}

}  // namespace
}  // namespace edgeward::tpm::test
