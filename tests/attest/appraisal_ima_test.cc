// Incremental IMA appraisal and offline (continuity) appraisal, on evidence
// signed in software by a key built like a TPM AK: each test chooses the
// exact log slice, PCR value and clock fields an attacker (or a rebooted
// node) would send. The end-to-end versions with swtpm are in tests/cloud.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "edgeward/attest/appraisal.h"
#include "edgeward/attest/reference.h"
#include "eventlog_test_util.h"
#include "soft_ak.h"

namespace edgeward::attest {
namespace {

using crypto::HashAlg;
using testutil::SoftAk;

const Bytes kNonce = *HexDecode("00112233445566778899aabbccddeeff");
const char* const kFiles[] = {"/usr/bin/sensor", "/etc/sensor.yaml", "/usr/lib/libc.so.6", "/usr/bin/uploader"};

// The node's IMA log as the kernel keeps it: lines, and the sha256 PCR 10
// after each prefix.
struct ImaNode {
  std::vector<std::string> lines;
  std::vector<Bytes> pcr10 = {Bytes(32, 0)};  // pcr10[n]: after n entries

  void Measure(const std::string& path, const std::string& content = "") {
    auto e = testutil::ImaLine("ima-ng", "sha256", crypto::Digest(HashAlg::kSha256, AsBytes(path + content)), path);
    lines.push_back(e.line);
    Bytes cat = pcr10.back();
    const Bytes& d = e.template_hash.at(HashAlg::kSha256);
    cat.insert(cat.end(), d.begin(), d.end());
    pcr10.push_back(crypto::Digest(HashAlg::kSha256, cat));
  }
  void MeasureAll(size_t n) {
    for (size_t i = 0; i < n; ++i) Measure(kFiles[lines.size() % std::size(kFiles)]);
  }
  // Entries [from, to) as an evidence log starting at `from`.
  EvidenceEventLog Slice(size_t from, size_t to) const {
    EvidenceEventLog l;
    l.format = EventLogFormat::kIma;
    l.template_hash_alg = HashAlg::kSha1;
    for (size_t i = from; i < to; ++i) l.data += lines[i] + "\n";
    l.start_entry = from;
    return l;
  }
};

bool HasFail(const Verdict& v, const std::string& check) {
  for (const Finding& f : v.findings) {
    if (f.check == check && f.severity == Severity::kFail) return true;
  }
  return false;
}

std::string Failures(const Verdict& v) { return FormatVerdictText(v); }

class ImaIncremental : public ::testing::Test {
 protected:
  void SetUp() override {
    node_.MeasureAll(5);
    // Reference values from the known-good first quote: the four files, the
    // IMA log required for PCR 10.
    Evidence first = Quote(0, 5, 5);
    auto ref = ReferenceFromEvidence(first);
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    ref_ = std::move(ref).value();
  }

  // The quote after `quoted` entries, carrying entries [from, to).
  Evidence Quote(size_t from, size_t to, size_t quoted, uint64_t clock = 5000, uint32_t resets = 3,
                 bool safe = true) const {
    return ak_.Quote(kNonce, {{10, node_.pcr10[quoted]}}, {node_.Slice(from, to)}, clock, resets, safe);
  }

  AppraisalOptions Options(const std::optional<AppraisalState>& previous) const {
    AppraisalOptions o;
    o.reference = &ref_;
    o.expected_ak_name = ak_.name();
    o.previous = previous;
    return o;
  }

  Verdict Check(const Evidence& e, const AppraisalOptions& o) {
    auto v = Appraise(e, kNonce, o);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? std::move(v).value() : Verdict{};
  }

  // A first full pass: the state every incremental test starts from.
  AppraisalState FirstPass() {
    Verdict v = Check(Quote(0, 5, 5, 5000), Options(std::nullopt));
    EXPECT_TRUE(v.pass) << Failures(v);
    EXPECT_TRUE(v.state && v.state->ima);
    return v.state ? *v.state : AppraisalState{};
  }

  SoftAk ak_;
  ImaNode node_;
  ReferenceValues ref_;
};

TEST_F(ImaIncremental, FullPassRecordsWhereTheLogStopsAndTheRunningPcr) {
  AppraisalState s = FirstPass();
  ASSERT_TRUE(s.ima);
  EXPECT_EQ(s.ima->entries, 5u);
  EXPECT_EQ(s.ima->reset_count, 3u);
  EXPECT_EQ(s.ima->pcrs.at(HashAlg::kSha256).at(10), node_.pcr10[5]);
}

TEST_F(ImaIncremental, SecondPassCarriesOnlyNewEntriesAndReplaysFromTheStoredPcr) {
  AppraisalState s = FirstPass();
  node_.MeasureAll(3);
  Evidence e = Quote(5, 8, 8, 6000);
  EXPECT_EQ(std::count(e.event_logs[0].data.begin(), e.event_logs[0].data.end(), '\n'), 3);
  Verdict v = Check(e, Options(s));
  EXPECT_TRUE(v.pass) << Failures(v);
  EXPECT_FALSE(v.full_log_required);
  EXPECT_EQ(v.files_checked, 3u);
  ASSERT_TRUE(v.state && v.state->ima);
  EXPECT_EQ(v.state->ima->entries, 8u);
  EXPECT_EQ(v.state->ima->pcrs.at(HashAlg::kSha256).at(10), node_.pcr10[8]);

  // An idle node: no new entries, an empty slice, the PCR unchanged.
  Verdict idle = Check(Quote(8, 8, 8, 7000), Options(*v.state));
  EXPECT_TRUE(idle.pass) << Failures(idle);
  ASSERT_TRUE(idle.state && idle.state->ima);
  EXPECT_EQ(idle.state->ima->entries, 8u);
}

TEST_F(ImaIncremental, EntriesAfterTheQuoteAreLeftForTheNextSlice) {
  AppraisalState s = FirstPass();
  node_.MeasureAll(4);  // the quote sees 7 of 9
  Verdict v = Check(Quote(5, 9, 7, 6000), Options(s));
  EXPECT_TRUE(v.pass) << Failures(v);
  ASSERT_TRUE(v.state && v.state->ima);
  EXPECT_EQ(v.state->ima->entries, 7u);
  EXPECT_EQ(v.state->ima->pcrs.at(HashAlg::kSha256).at(10), node_.pcr10[7]);
}

// Attack: hide a measured file by dropping its entry from the slice.
TEST_F(ImaIncremental, SliceWithADroppedEntryFailsReplay) {
  AppraisalState s = FirstPass();
  node_.MeasureAll(3);
  Evidence e = Quote(5, 8, 8, 6000);
  std::string& data = e.event_logs[0].data;
  data.erase(0, data.find('\n') + 1);  // drop entry 5
  Verdict v = Check(e, Options(s));
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(HasFail(v, "replay")) << Failures(v);
  EXPECT_FALSE(v.full_log_required);
  // A failing verdict does not move the IMA state: the entries come again.
  ASSERT_TRUE(v.state && v.state->ima);
  EXPECT_EQ(v.state->ima->entries, 5u);
}

// Attack: cut the slice short of what the quote covers.
TEST_F(ImaIncremental, TruncatedSliceFailsReplay) {
  AppraisalState s = FirstPass();
  node_.MeasureAll(3);
  Evidence e = Quote(5, 7, 8, 6000);  // entry 7 left out, the quote covers it
  Verdict v = Check(e, Options(s));
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(HasFail(v, "replay")) << Failures(v);
}

// Attack: replace an entry by another well-formed one (a different file).
TEST_F(ImaIncremental, SliceWithAReplacedEntryFailsReplay) {
  AppraisalState s = FirstPass();
  node_.MeasureAll(2);
  Evidence e = Quote(5, 7, 7, 6000);
  ImaNode other;
  other.Measure("/usr/bin/sensor", "trojaned");
  std::string& data = e.event_logs[0].data;
  data = other.lines[0] + "\n" + data.substr(data.find('\n') + 1);
  Verdict v = Check(e, Options(s));
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(HasFail(v, "replay")) << Failures(v);
}

TEST_F(ImaIncremental, AnUnknownFileFailsAndTheStateStaysBehindIt) {
  AppraisalState s = FirstPass();
  node_.Measure("/tmp/dropper");
  node_.MeasureAll(1);
  Verdict v = Check(Quote(5, 7, 7, 6000), Options(s));
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(HasFail(v, "unknown_file")) << Failures(v);
  ASSERT_TRUE(v.state && v.state->ima);
  EXPECT_EQ(v.state->ima->entries, 5u);  // the dropper is appraised again next time
  EXPECT_EQ(v.state->clock, 6000u);      // the counters do advance (signed, monotonic)
  // ...and fails again from there: the incremental scheme forgets nothing.
  Verdict again = Check(Quote(5, 7, 7, 7000), Options(*v.state));
  EXPECT_TRUE(HasFail(again, "unknown_file")) << Failures(again);
}

TEST_F(ImaIncremental, SliceNotStartingWhereTheStateEndsRequiresTheFullLog) {
  AppraisalState s = FirstPass();
  node_.MeasureAll(3);
  Verdict v = Check(Quote(4, 8, 8, 6000), Options(s));
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(v.full_log_required);
  EXPECT_TRUE(HasFail(v, "ima_continuity")) << Failures(v);
  ASSERT_TRUE(v.state && v.state->ima);
  EXPECT_EQ(v.state->ima->entries, 5u);
}

TEST_F(ImaIncremental, IncrementalWithoutStoredStateRequiresTheFullLog) {
  node_.MeasureAll(3);
  Verdict v = Check(Quote(5, 8, 8, 6000), Options(std::nullopt));
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(v.full_log_required);
  EXPECT_TRUE(HasFail(v, "ima_continuity"));
}

TEST_F(ImaIncremental, TpmResetRequiresTheFullLogAndTheFullLogThenPasses) {
  AppraisalState s = FirstPass();
  // The node rebooted: a new IMA log, the PCR restarted from zero.
  ImaNode rebooted;
  rebooted.MeasureAll(6);
  Evidence inc = ak_.Quote(kNonce, {{10, rebooted.pcr10[6]}}, {rebooted.Slice(5, 6)}, 6000, 4);
  Verdict v = Check(inc, Options(s));
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(v.full_log_required);
  EXPECT_TRUE(HasFail(v, "ima_continuity")) << Failures(v);
  for (const Finding& f : v.findings) {
    if (f.check == "ima_continuity") {
      EXPECT_NE(f.message.find("resetCount 3 -> 4"), std::string::npos) << f.message;
    }
  }
  Evidence full = ak_.Quote(kNonce, {{10, rebooted.pcr10[6]}}, {rebooted.Slice(0, 6)}, 6000, 4);
  Verdict w = Check(full, Options(s));
  EXPECT_TRUE(w.pass) << Failures(w);
  ASSERT_TRUE(w.state && w.state->ima);
  EXPECT_EQ(w.state->ima->entries, 6u);
  EXPECT_EQ(w.state->ima->reset_count, 4u);
}

TEST_F(ImaIncremental, EvidenceWithoutAnImaLogClearsTheImaState) {
  AppraisalState s = FirstPass();
  ReferenceValues no_ima;  // nothing required
  AppraisalOptions o = Options(s);
  o.reference = &no_ima;
  Evidence e = ak_.Quote(kNonce, {{10, node_.pcr10[5]}}, {}, 6000);
  Verdict v = Check(e, o);
  EXPECT_TRUE(v.pass) << Failures(v);
  ASSERT_TRUE(v.state);
  EXPECT_FALSE(v.state->ima);
}

TEST_F(ImaIncremental, StateJsonRoundTripsTheImaPart) {
  AppraisalState s = FirstPass();
  const std::string text = EncodeAppraisalState(s);
  auto back = DecodeAppraisalState(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, s);
  // Old states (no "ima") still decode.
  auto old = DecodeAppraisalState(R"({"ak_name":"000b","clock":1,"reset_count":2,"restart_count":3})");
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->ima);
  auto bad = DecodeAppraisalState(
      R"({"ak_name":"000b","clock":1,"reset_count":2,"restart_count":3,)"
      R"("ima":{"entries":1,"reset_count":2,"pcrs":{"sha256":{"10":"abcd"}}}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("appraisal state.ima.pcrs.sha256.10"), std::string::npos)
      << bad.status().message();
  auto bad_pcr = DecodeAppraisalState(
      R"({"ak_name":"000b","clock":1,"reset_count":2,"restart_count":3,)"
      R"("ima":{"entries":1,"reset_count":2,"pcrs":{"sha1":{"24":"00"}}}})");
  ASSERT_FALSE(bad_pcr.ok());
  EXPECT_NE(bad_pcr.status().message().find("not a PCR index"), std::string::npos) << bad_pcr.status().message();
}

TEST_F(ImaIncremental, EvidenceJsonCarriesStartEntryOnlyForIma) {
  node_.MeasureAll(1);
  Evidence e = Quote(5, 6, 6);
  auto json = EncodeEvidence(e, -1);
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("\"start_entry\":5"), std::string::npos);
  auto back = DecodeEvidence(*json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->event_logs[0].start_entry, 5u);

  std::string cel = *json;
  cel.replace(cel.find("\"format\":\"ima\""), 14, "\"format\":\"cel\"");
  const std::string tha = ",\"template_hash_alg\":\"sha1\"";
  ASSERT_NE(cel.find(tha), std::string::npos) << cel;
  cel.erase(cel.find(tha), tha.size());
  auto bad = DecodeEvidence(cel);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("evidence.event_logs[0].start_entry"), std::string::npos)
      << bad.status().message();
  std::string negative = *json;
  negative.replace(negative.find("\"start_entry\":5"), 15, "\"start_entry\":-5");
  auto neg = DecodeEvidence(negative);
  ASSERT_FALSE(neg.ok());
  EXPECT_NE(neg.status().message().find("start_entry"), std::string::npos) << neg.status().message();
}

// --- offline (continuity) appraisal ------------------------------------------

class OfflineContinuity : public ImaIncremental {
 protected:
  AppraisalOptions Offline(const std::optional<AppraisalState>& previous) const {
    AppraisalOptions o = Options(previous);
    o.offline = true;
    return o;
  }
};

TEST_F(OfflineContinuity, QuoteContinuingTheStoredStateHolds) {
  AppraisalState s = FirstPass();
  node_.MeasureAll(2);
  Verdict v = Check(Quote(5, 7, 7, 9000), Offline(s));
  EXPECT_TRUE(v.pass) << Failures(v);
  ASSERT_TRUE(v.state);
  EXPECT_EQ(v.state->clock, 9000u);
}

TEST_F(OfflineContinuity, ClockGoingBackwardsBreaksContinuity) {
  AppraisalState s = FirstPass();  // clock 5000
  node_.MeasureAll(2);
  Verdict v = Check(Quote(5, 7, 7, 4000), Offline(s));
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(HasFail(v, "clock")) << Failures(v);
  EXPECT_EQ(*v.state, s);  // nothing advances
}

TEST_F(OfflineContinuity, ResetWithoutTheFullLogBreaksContinuity) {
  AppraisalState s = FirstPass();
  ImaNode rebooted;
  rebooted.MeasureAll(6);
  Evidence e = ak_.Quote(kNonce, {{10, rebooted.pcr10[6]}}, {rebooted.Slice(5, 6)}, 6000, 4);
  Verdict v = Check(e, Offline(s));
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(HasFail(v, "ima_continuity")) << Failures(v);
}

TEST_F(OfflineContinuity, NoStoredStateOrAnUnsafeClockGoingBackBreaksContinuity) {
  AppraisalState s = FirstPass();  // clock 5000, resetCount 3
  Verdict none = Check(Quote(0, 5, 5, 9000), Offline(std::nullopt));
  EXPECT_FALSE(none.pass);
  EXPECT_TRUE(HasFail(none, "continuity")) << Failures(none);
  // Unsafe or not, the clock never runs backwards within one reset cycle.
  Verdict back = Check(Quote(0, 5, 5, 4000, 3, /*safe=*/false), Offline(s));
  EXPECT_FALSE(back.pass);
  EXPECT_TRUE(HasFail(back, "clock")) << Failures(back);
  // Across a reset, a lower clock needs the TPM to admit it (safe cleared).
  ImaNode rebooted;
  rebooted.MeasureAll(5);
  Verdict lied = Check(ak_.Quote(kNonce, {{10, rebooted.pcr10[5]}}, {rebooted.Slice(0, 5)}, 4000, 4, true), Offline(s));
  EXPECT_FALSE(lied.pass);
  EXPECT_TRUE(HasFail(lied, "clock")) << Failures(lied);
  // After a disorderly reboot the clock is unsafe (and may fall back), but
  // the higher resetCount places the quote after the state: it holds, with
  // the whole log of the new boot.
  Verdict after = Check(ak_.Quote(kNonce, {{10, rebooted.pcr10[5]}}, {rebooted.Slice(0, 5)}, 4000, 4, false), Offline(s));
  EXPECT_TRUE(after.pass) << Failures(after);
  bool info = false;
  for (const Finding& f : after.findings) info |= f.check == "continuity" && f.severity == Severity::kInfo;
  EXPECT_TRUE(info) << Failures(after);
}

}  // namespace
}  // namespace edgeward::attest
