// Measurement into a real swtpm: the CEL log and the PCR must agree after
// every run, after a crash between log write and extend, and across a TPM
// reset; a foreign extend of our PCR is refused loudly.
#include "edgeward/attest_node/measure.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "edgeward/attest/cel.h"
#include "edgeward/attest/eventlog.h"
#include "edgeward/base/file.h"
#include "edgeward/tpm/pcr.h"
#include "swtpm.h"

namespace edgeward::attest_node {
namespace {

using crypto::HashAlg;

class MeasureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = testing::Swtpm::Start();
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    swtpm_ = std::move(*t);
    Reopen();
    ASSERT_TRUE(MakeDirs(dir_.File("app"), 0755).ok());
    Write("app/a", "alpha\n");
    Write("app/b", "beta\n");
  }
  void Reopen() {
    tpm_.reset();
    auto tpm = tpm::Tpm::Open(swtpm_->tcti());
    ASSERT_TRUE(tpm.ok()) << tpm.status().ToString();
    tpm_ = std::make_unique<tpm::Tpm>(std::move(*tpm));
  }
  void Write(const std::string& rel, std::string_view s) {
    ASSERT_TRUE(WriteFileAtomic(dir_.File(rel), AsBytes(s), 0644).ok());
  }
  MeasureOptions Options() { return {dir_.File("state"), kDefaultMeasurementPcr}; }

  // The log, parsed and replayed, must equal PCR 15 in every active bank.
  void ExpectLogMatchesTpm() {
    auto text = ReadFileToString(MeasurementLogPath(dir_.File("state")), 1 << 24);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    auto log = attest::ParseCelLog(*text);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    tpm::PcrValues replayed = attest::Replay(*log);
    auto banks = tpm::ActivePcrBanks(*tpm_);
    ASSERT_TRUE(banks.ok());
    tpm::PcrSelection sel;
    for (HashAlg b : *banks) sel[b].insert(15);
    auto actual = tpm::ReadPcrs(*tpm_, sel);
    ASSERT_TRUE(actual.ok());
    for (HashAlg b : *banks) EXPECT_EQ(replayed[b][15], (*actual)[b][15]) << crypto::HashAlgName(b);
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::Swtpm> swtpm_;
  std::unique_ptr<tpm::Tpm> tpm_;
};

TEST_F(MeasureTest, LogReplaysToPcr15AndStateIsPrivate) {
  auto r = Measure(*tpm_, {dir_.File("app")}, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->extended.size(), 2u);
  ExpectLogMatchesTpm();
  struct stat st {};
  ASSERT_EQ(::stat(dir_.File("state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(MeasurementLogPath(dir_.File("state")).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(MeasureTest, ChangedFileIsMeasuredAgainUnchangedIsNot) {
  ASSERT_TRUE(Measure(*tpm_, {dir_.File("app")}, Options()).ok());
  Write("app/b", "beta, changed\n");
  auto r = Measure(*tpm_, {dir_.File("app")}, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->extended.size(), 1u);
  EXPECT_EQ(r->extended[0].path, dir_.File("app/b"));
  EXPECT_EQ(r->unchanged.size(), 1u);
  ExpectLogMatchesTpm();
}

TEST_F(MeasureTest, CrashBetweenLogWriteAndExtendIsCompletedOnNextRun) {
  ASSERT_TRUE(Measure(*tpm_, {dir_.File("app/a")}, Options()).ok());
  // Simulate the crash: record 1 is durable in the log, the extend never ran.
  auto banks = tpm::ActivePcrBanks(*tpm_);
  ASSERT_TRUE(banks.ok());
  attest::CelFileMeasurement m;
  m.path = dir_.File("app/b");
  m.file_digest = crypto::Digest(HashAlg::kSha256, AsBytes("beta\n"));
  auto rec = attest::BuildCelFileRecord(1, 15, m, *banks);
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  ASSERT_TRUE(attest::AppendCelRecord(MeasurementLogPath(dir_.File("state")), rec->line).ok());

  auto r = Measure(*tpm_, {dir_.File("app")}, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_NE(r->notes[0].find("completed the extend of record 1"), std::string::npos) << r->notes[0];
  // b's digest is in the log now, so it counts as unchanged.
  EXPECT_EQ(r->extended.size(), 0u);
  ExpectLogMatchesTpm();
}

TEST_F(MeasureTest, ForeignExtendOfOurPcrIsRefusedWithBothValues) {
  ASSERT_TRUE(Measure(*tpm_, {dir_.File("app/a")}, Options()).ok());
  auto ext = testing::RunCommand("tpm2_pcrextend -T '" + swtpm_->tcti() + "' 15:sha256=" + std::string(64, 'a'));
  ASSERT_EQ(ext.exit_code, 0) << ext.output;
  auto r = Measure(*tpm_, {dir_.File("app")}, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("does not replay to PCR 15"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("TPM has"), std::string::npos);
}

TEST_F(MeasureTest, TpmResetStartsANewLogAndKeepsTheOld) {
  ASSERT_TRUE(Measure(*tpm_, {dir_.File("app")}, Options()).ok());
  tpm_.reset();
  ASSERT_TRUE(swtpm_->Restart().ok());
  Reopen();
  auto r = Measure(*tpm_, {dir_.File("app")}, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_NE(r->notes[0].find("new boot"), std::string::npos);
  EXPECT_EQ(r->extended.size(), 2u);  // everything is measured afresh this boot
  ExpectLogMatchesTpm();
  struct stat st {};
  EXPECT_EQ(::stat((MeasurementLogPath(dir_.File("state")) + ".prev").c_str(), &st), 0);
}

TEST_F(MeasureTest, ResettablePcrsAreRejected) {
  for (uint32_t pcr : {16u, 23u, 24u}) {
    auto r = Measure(*tpm_, {dir_.File("app")}, {dir_.File("state"), pcr});
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << pcr;
  }
}

}  // namespace
}  // namespace edgeward::attest_node
