// Runtime logs, required logs and AK pinning, on evidence signed in
// software by a key built like a TPM AK (restricted ECDSA P-256): this lets
// each test choose the exact PCR values and log an attacker would send.
// Each test names the attack it proves is caught.
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "edgeward/attest/appraisal.h"
#include "edgeward/attest/cel.h"
#include "edgeward/attest/reference.h"
#include "soft_ak.h"

namespace edgeward::attest {
namespace {

using crypto::HashAlg;

using testutil::SoftAk;

// One file measured into a PCR, as edgeward's agent records it.
struct Measured {
  uint32_t pcr;
  std::string path;
  std::string content;
  std::vector<HashAlg> banks = {HashAlg::kSha256};
};

CelRecord Record(uint64_t recnum, const Measured& m) {
  CelFileMeasurement fm;
  fm.path = m.path;
  fm.file_digest = crypto::Digest(HashAlg::kSha256, AsBytes(m.content));
  auto r = BuildCelFileRecord(recnum, m.pcr, fm, m.banks);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

// The log text for `records` (renumbered 0, 1, ...).
EvidenceEventLog CelLog(const std::vector<Measured>& records) {
  std::string text;
  for (size_t i = 0; i < records.size(); ++i) text += Record(i, records[i]).line + "\n";
  return {EventLogFormat::kCel, text, std::nullopt};
}

// What the TPM's sha256 PCRs hold after extending `extended` in order.
std::map<uint32_t, Bytes> Pcrs(const std::vector<Measured>& extended, std::vector<uint32_t> also = {}) {
  std::map<uint32_t, Bytes> out;
  for (uint32_t p : also) out[p] = Bytes(32, 0);
  for (size_t i = 0; i < extended.size(); ++i) {
    const CelRecord r = Record(i, extended[i]);
    auto it = r.digests.find(HashAlg::kSha256);
    if (it == r.digests.end()) continue;
    Bytes& v = out.try_emplace(extended[i].pcr, Bytes(32, 0)).first->second;
    Bytes cat = v;
    cat.insert(cat.end(), it->second.begin(), it->second.end());
    v = crypto::Digest(HashAlg::kSha256, cat);
  }
  return out;
}

const Bytes kNonce = *HexDecode("00112233445566778899aabbccddeeff");
const Measured kApp{15, "/opt/app/bin/sensor-reader", "app v1"};
const Measured kConf{15, "/opt/app/etc/sensor.yaml", "interval: 5s\n"};
const Measured kBadConf{15, "/opt/app/etc/sensor.yaml", "interval: 5s\nupload: https://attacker.example/\n"};
const Measured kDecoy{14, "/opt/app/bin/sensor-reader", "app v1"};

Verdict Check(const Evidence& e, const AppraisalOptions& o = {}) {
  auto v = Appraise(e, kNonce, o);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? std::move(v).value() : Verdict{};
}
bool HasFail(const Verdict& v, const std::string& check, std::optional<uint32_t> pcr = std::nullopt) {
  for (const Finding& f : v.findings) {
    if (f.check == check && f.severity == Severity::kFail && (!pcr || f.pcr == pcr)) return true;
  }
  return false;
}

// The known-good node: app and config measured into PCR 15; reference made from it.
struct Good {
  SoftAk ak;
  Evidence evidence = ak.Quote(kNonce, Pcrs({kApp, kConf}, {14}), {CelLog({kApp, kConf})});
  ReferenceValues ref = *ReferenceFromEvidence(evidence);
};

TEST(AppraisalLogs, ReferenceFromEvidenceRequiresTheLogAndPinsTheComputedAkName) {
  Good g;
  EXPECT_EQ(g.ref.runtime_logs, (std::vector<RequiredLog>{{EventLogFormat::kCel, 15}}));
  EXPECT_FALSE(g.ref.pcrs.at(HashAlg::kSha256).count(15));
  EXPECT_TRUE(g.ref.pcrs.at(HashAlg::kSha256).count(14));
  ASSERT_TRUE(g.ref.ak_name.has_value());
  EXPECT_EQ(*g.ref.ak_name, *ComputeName(g.evidence.ak));
  EXPECT_EQ(*g.ref.ak_name, g.ak.name());
  AppraisalOptions o;
  o.reference = &g.ref;
  Verdict v = Check(g.evidence, o);
  EXPECT_TRUE(v.pass) << FormatVerdictText(v);
  EXPECT_EQ(v.files_checked, 2u);
}

// C2: [decoy@14, real@15..., junk@15] used to verify as the 1-event prefix
// that matched PCR 14, leaving the tampered config on PCR 15 unchecked.
TEST(AppraisalLogs, CelLogReorderedBehindADecoyPcrWithJunkTailFails) {
  Good g;
  const Evidence e = g.ak.Quote(kNonce, Pcrs({kApp, kBadConf, kDecoy}), {CelLog({kDecoy, kApp, kBadConf, kApp})});
  AppraisalOptions o;
  o.reference = &g.ref;
  Verdict v = Check(e, o);
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(HasFail(v, "replay", 15u)) << FormatVerdictText(v);  // the junk event after PCR 15's match point
  EXPECT_TRUE(HasFail(v, "golden_pcr", 14u)) << FormatVerdictText(v);
}

TEST(AppraisalLogs, TamperedFileOnOnePcrIsCheckedEvenWhenAnotherPcrMatchesFirst) {
  Good g;
  g.ref.pcrs.clear();  // only the files matter here
  const Evidence e = g.ak.Quote(kNonce, Pcrs({kDecoy, kApp, kBadConf}), {CelLog({kDecoy, kApp, kBadConf})});
  AppraisalOptions o;
  o.reference = &g.ref;
  Verdict v = Check(e, o);
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(HasFail(v, "file_digest", 15u)) << FormatVerdictText(v);
  EXPECT_EQ(v.files_checked, 3u);
}

TEST(AppraisalLogs, PcrThatNeverReachesItsQuotedValueFailsEvenIfAnotherPcrMatches) {
  Good g;
  // PCR 15 holds app + bad config; the log leaves the bad config out.
  const Evidence e = g.ak.Quote(kNonce, Pcrs({kDecoy, kApp, kBadConf}), {CelLog({kDecoy, kApp})});
  Verdict v = Check(e);
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(HasFail(v, "replay", 15u)) << FormatVerdictText(v);
  EXPECT_FALSE(v.log_verified[0]);
}

TEST(AppraisalLogs, CelEventsAfterTheQuoteFail) {
  Good g;
  const Evidence e = g.ak.Quote(kNonce, Pcrs({kApp, kConf}, {14}), {CelLog({kApp, kConf, kBadConf})});
  Verdict v = Check(e);
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(HasFail(v, "replay", 15u)) << FormatVerdictText(v);
}

// L1: a record with digests only in a bank the quote doesn't cover extended
// nothing the signature vouches for; its file must not be believed.
TEST(AppraisalLogs, CelEventWithNoDigestInAQuotedBankFails) {
  Good g;
  Measured sha1_only = kBadConf;
  sha1_only.banks = {HashAlg::kSha1};
  const Evidence e = g.ak.Quote(kNonce, Pcrs({kApp, kConf}, {14}), {CelLog({kApp, sha1_only, kConf})});
  Verdict v = Check(e);
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(HasFail(v, "replay")) << FormatVerdictText(v);
}

// C1: leaving the log out (or PCR 15 out of the quote) must not hide files.
TEST(AppraisalLogs, MissingRequiredLogFails) {
  Good g;
  AppraisalOptions o;
  o.reference = &g.ref;
  Evidence no_log = g.ak.Quote(kNonce, Pcrs({kApp, kBadConf}, {14}), {});
  Verdict v = Check(no_log, o);
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(HasFail(v, "required_log", 15u)) << FormatVerdictText(v);

  auto pcr14_only = Pcrs({}, {14});
  Evidence unquoted = g.ak.Quote(kNonce, pcr14_only, {CelLog({kApp, kBadConf})});
  v = Check(unquoted, o);
  EXPECT_TRUE(HasFail(v, "required_log", 15u)) << FormatVerdictText(v);

  // A log of the right format that says nothing about PCR 15.
  Evidence other_pcr = g.ak.Quote(kNonce, Pcrs({kApp, kBadConf}, {14}), {CelLog({})});
  v = Check(other_pcr, o);
  EXPECT_TRUE(HasFail(v, "required_log", 15u)) << FormatVerdictText(v);
}

TEST(AppraisalLogs, ImaLogDoesNotSatisfyARequiredCelLog) {
  Good g;
  g.ref.runtime_logs = {{EventLogFormat::kIma, 15}};
  AppraisalOptions o;
  o.reference = &g.ref;
  Verdict v = Check(g.evidence, o);
  EXPECT_TRUE(HasFail(v, "required_log", 15u)) << FormatVerdictText(v);
}

// C3a: the reference's ak_name pins the AK when the verifier passes none.
TEST(AppraisalLogs, ReferenceAkNameRejectsAnotherAk) {
  Good g;
  SoftAk other;
  const Evidence e = other.Quote(kNonce, Pcrs({kApp, kConf}, {14}), {CelLog({kApp, kConf})});
  AppraisalOptions o;
  o.reference = &g.ref;
  Verdict v = Check(e, o);
  EXPECT_TRUE(HasFail(v, "ak_identity")) << FormatVerdictText(v);
  EXPECT_EQ(v.state, std::nullopt);
  // The verifier's own pin comes first.
  o.expected_ak_name = other.name();
  v = Check(e, o);
  EXPECT_FALSE(HasFail(v, "ak_identity")) << FormatVerdictText(v);
}

// H1: without a pinned AK any key could have signed: no state is produced.
TEST(AppraisalLogs, StateDoesNotAdvanceWithoutAPinnedAk) {
  Good g;
  AppraisalOptions o;
  Verdict v = Check(g.evidence, o);
  EXPECT_TRUE(v.pass) << FormatVerdictText(v);
  EXPECT_EQ(v.state, std::nullopt);
  const AppraisalState prev{g.ak.name(), 1, 3, 0};
  o.previous = prev;
  v = Check(g.evidence, o);
  EXPECT_EQ(v.state, prev);
}

TEST(AppraisalLogs, StateAdvancesOnlyForThePinnedAkAndStoresItsComputedName) {
  Good g;
  AppraisalOptions o;
  o.expected_ak_name = g.ak.name();
  Verdict v = Check(g.evidence, o);
  ASSERT_TRUE(v.state.has_value());
  EXPECT_EQ(v.state->ak_name, *ComputeName(g.evidence.ak));
  EXPECT_EQ(v.state->clock, 5000u);

  // A forged quote from another key never moves the state, even if it claims the pinned name.
  SoftAk other;
  Evidence forged = other.Quote(kNonce, Pcrs({kApp, kConf}, {14}), {}, 1, 0);
  forged.ak_name = g.ak.name();
  o.previous = v.state;
  Verdict f = Check(forged, o);
  EXPECT_FALSE(f.pass);
  EXPECT_EQ(f.state, v.state);
}

TEST(AppraisalLogs, StateOfAnotherAkIsAFailureNotInfo) {
  Good g;
  SoftAk other;
  AppraisalOptions o;
  o.expected_ak_name = g.ak.name();
  const AppraisalState prev{other.name(), 999999, 7, 0};
  o.previous = prev;
  Verdict v = Check(g.evidence, o);
  EXPECT_TRUE(HasFail(v, "state")) << FormatVerdictText(v);
  EXPECT_EQ(v.state, prev);
}

TEST(AppraisalLogs, CountersGoingBackwardsDoNotBecomeTheNewState) {
  Good g;
  AppraisalOptions o;
  o.expected_ak_name = g.ak.name();
  const AppraisalState prev{g.ak.name(), 9000, 3, 0};
  o.previous = prev;
  Verdict v = Check(g.evidence, o);
  EXPECT_TRUE(HasFail(v, "clock")) << FormatVerdictText(v);
  EXPECT_EQ(v.state, prev);
}

}  // namespace
}  // namespace edgeward::attest
