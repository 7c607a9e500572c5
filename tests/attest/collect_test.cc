// Evidence collection end to end on a real swtpm: an IMA log (extended into
// PCR 10 exactly as the kernel would) and our own measurement log are both
// carried in the evidence, quoted, and pass appraisal; tampering with the
// carried IMA log is caught.
#include "edgeward/attest_node/collect.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "edgeward/attest/appraisal.h"
#include "edgeward/attest_node/measure.h"
#include "edgeward/base/file.h"
#include "edgeward/tpm/pcr.h"
#include "eventlog_test_util.h"
#include "swtpm.h"

namespace edgeward::attest_node {
namespace {

using crypto::HashAlg;

class CollectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = testing::Swtpm::Start();
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    swtpm_ = std::move(*t);
    auto tpm = tpm::Tpm::Open(swtpm_->tcti());
    ASSERT_TRUE(tpm.ok()) << tpm.status().ToString();
    tpm_ = std::make_unique<tpm::Tpm>(std::move(*tpm));

    // Three IMA measurements, extended into PCR 10 as the kernel does.
    std::string ima;
    for (const char* path : {"/usr/bin/sensor", "/etc/sensor.yaml", "/usr/lib/libc.so.6"}) {
      auto e = attest::testutil::ImaLine("ima-ng", "sha256", crypto::Digest(HashAlg::kSha256, AsBytes(path)), path);
      ASSERT_TRUE(tpm::ExtendPcr(*tpm_, 10, attest::testutil::ImaExtendValue(e)).ok());
      ima += e.line + "\n";
    }
    ASSERT_TRUE(WriteFileAtomic(dir_.File("ima.log"), AsBytes(ima), 0644).ok());
    ASSERT_TRUE(WriteFileAtomic(dir_.File("app.conf"), AsBytes("x=1\n"), 0644).ok());
    auto m = Measure(*tpm_, {dir_.File("app.conf")}, {dir_.File("state"), kDefaultMeasurementPcr});
    ASSERT_TRUE(m.ok()) << m.status().ToString();
  }

  CollectOptions Options(const Bytes& nonce) {
    CollectOptions o;
    o.state_dir = dir_.File("state");
    o.nonce = nonce;
    o.node_id = "node-7";
    o.uefi_log_path = dir_.File("no-such-uefi-log");
    o.ima_log_path = dir_.File("ima.log");
    return o;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::Swtpm> swtpm_;
  std::unique_ptr<tpm::Tpm> tpm_;
};

TEST_F(CollectTest, ImaAndMeasurementLogsAreQuotedAndPassAppraisal) {
  const Bytes nonce(16, 0x42);
  auto ev = CollectEvidence(*tpm_, Options(nonce));
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_EQ(ev->node_id, "node-7");
  ASSERT_EQ(ev->event_logs.size(), 2u);
  EXPECT_EQ(ev->event_logs[0].format, attest::EventLogFormat::kIma);
  EXPECT_EQ(ev->event_logs[1].format, attest::EventLogFormat::kCel);
  // Both logs' PCRs were added to the default selection, in both banks.
  for (HashAlg b : {HashAlg::kSha1, HashAlg::kSha256}) {
    EXPECT_TRUE(ev->pcrs[b].count(10)) << crypto::HashAlgName(b);
    EXPECT_TRUE(ev->pcrs[b].count(15)) << crypto::HashAlgName(b);
  }
  EXPECT_TRUE(ev->has_ek);

  // Round trip through JSON, as a verifier receives it.
  auto json = attest::EncodeEvidence(*ev);
  ASSERT_TRUE(json.ok());
  auto decoded = attest::DecodeEvidence(*json);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  auto ca = testing::SwtpmCaBundlePath();
  ASSERT_TRUE(ca.ok());
  attest::AppraisalOptions opts;
  opts.ek_ca_bundle_path = *ca;
  auto v = attest::Appraise(*decoded, nonce, opts);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->pass) << attest::FormatVerdictText(*v);
  ASSERT_EQ(v->log_verified.size(), 2u);
  EXPECT_TRUE(v->log_verified[0]);
  EXPECT_TRUE(v->log_verified[1]);
}

TEST_F(CollectTest, ATamperedImaLogInTheEvidenceFailsReplay) {
  const Bytes nonce(8, 0x17);
  auto ev = CollectEvidence(*tpm_, Options(nonce));
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  // Drop the middle entry: the log still parses, but no longer replays to
  // the quoted PCR 10.
  std::string& ima = ev->event_logs[0].data;
  size_t first = ima.find('\n');
  size_t second = ima.find('\n', first + 1);
  ima.erase(first + 1, second - first);
  auto v = attest::Appraise(*ev, nonce, {});
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->pass);
  bool replay_finding = false;
  for (const auto& f : v->findings) replay_finding |= f.check == "replay" && f.pcr == 10u;
  EXPECT_TRUE(replay_finding) << attest::FormatVerdictText(*v);
}

TEST_F(CollectTest, ImaStartEntryCarriesOnlyTheLaterEntries) {
  CollectOptions o = Options(Bytes(16, 0x21));
  o.ima_start_entry = 2;
  auto ev = CollectEvidence(*tpm_, o);
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  ASSERT_EQ(ev->event_logs[0].format, attest::EventLogFormat::kIma);
  EXPECT_EQ(ev->event_logs[0].start_entry, 2u);
  EXPECT_EQ(ev->event_logs[0].data.find("10 "), 0u);
  EXPECT_NE(ev->event_logs[0].data.find("/usr/lib/libc.so.6"), std::string::npos);
  EXPECT_EQ(std::count(ev->event_logs[0].data.begin(), ev->event_logs[0].data.end(), '\n'), 1);
  // All three already appraised: an empty slice at 3.
  o.ima_start_entry = 3;
  auto idle = CollectEvidence(*tpm_, o);
  ASSERT_TRUE(idle.ok()) << idle.status().ToString();
  EXPECT_EQ(idle->event_logs[0].start_entry, 3u);
  EXPECT_TRUE(idle->event_logs[0].data.empty());
  // Past the end of the log (the node rebooted since): the whole log.
  o.ima_start_entry = 7;
  auto whole = CollectEvidence(*tpm_, o);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->event_logs[0].start_entry, 0u);
  EXPECT_EQ(std::count(whole->event_logs[0].data.begin(), whole->event_logs[0].data.end(), '\n'), 3);
}

TEST_F(CollectTest, NonceMustBeOneToSixtyFourBytes) {
  EXPECT_EQ(CollectEvidence(*tpm_, Options({})).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CollectEvidence(*tpm_, Options(Bytes(65, 1))).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgeward::attest_node
