// Event-log replay against the verified PCRs, file digests against the
// allowed list, required runtime logs, and golden PCR values. An event
// counts only when its PCR's replay reaches the value the quote's signature
// covers at or after it.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "appraisal_internal.h"

namespace edgeward::attest::internal {
namespace {

StatusOr<ParsedLog> ParseOne(const EvidenceEventLog& log, const TpmlPcrSelection& sel) {
  switch (log.format) {
    case EventLogFormat::kUefi:
      return ParseUefiLog(AsBytes(log.data));
    case EventLogFormat::kIma: {
      // Compute template hashes only for the banks the quote covers.
      std::vector<crypto::HashAlg> banks;
      for (const TpmsPcrSelection& b : sel.banks) {
        if (auto h = HashFromTpm(b.hash_alg)) banks.push_back(*h);
      }
      if (banks.empty()) banks.assign(std::begin(kDefaultImaBanks), std::end(kDefaultImaBanks));
      return ParseImaLog(log.data, log.template_hash_alg.value_or(crypto::HashAlg::kSha1), banks);
    }
    case EventLogFormat::kCel:
      return ParseCelLog(log.data);
  }
  return InvalidArgument("unknown event log format");
}

// Runtime logs (IMA, CEL): each (bank, PCR) the log extends must reach its
// quoted value at some event — its match point (before its first event when
// the quoted value is the PCR's initial value). An event is covered by the
// quote iff it is at or before its own PCR's match point in every quoted
// bank it has a digest for. IMA keeps growing after a quote, so its later
// events are reported (info) and not believed; edgeward's CEL log is read
// under its lock after the quote, so there any event past its PCR's match
// point fails. A PCR is never required to match merely because another PCR
// did: every PCR is judged on its own.
//
// `start` (an incremental IMA log): the running values the log continues
// from, per (bank, PCR); PCRs it doesn't name start from zero. Every PCR in
// `start` is tracked even when the slice has no event for it, so an idle
// node's empty slice must still match the quote. When the log replays,
// out.ima_next_entries/ima_next_pcrs say where the next slice starts: the
// earliest match point over all tracked PCRs, and the values there.
void ReplayRuntimeLog(const ParsedLog& log, size_t log_index, const std::string& name, Verdict& v,
                      LogAppraisal& out, const tpm::PcrValues* start = nullptr) {
  const bool ima = log.format == EventLogFormat::kIma;
  struct Track {
    Bytes value;
    const Bytes* quoted = nullptr;       // nullptr: the quote's bank doesn't cover this PCR
    std::optional<size_t> match_end;     // events [0, match_end) are at or before the match point
    std::optional<size_t> first_after;   // first event of this PCR past the match point
    size_t after = 0;                    // how many
    bool bad_digest = false;
  };
  std::map<std::pair<crypto::HashAlg, uint32_t>, Track> tracks;
  auto start_value = [&](crypto::HashAlg bank, uint32_t pcr) {
    if (start != nullptr) {
      auto b = start->find(bank);
      if (b != start->end()) {
        auto p = b->second.find(pcr);
        if (p != b->second.end()) return p->second;
      }
    }
    return Bytes(crypto::DigestSize(bank), 0);
  };
  auto track = [&](crypto::HashAlg bank, uint32_t pcr,
                   const std::map<uint32_t, Bytes>& quoted_bank) -> Track& {
    auto [it, fresh] = tracks.try_emplace({bank, pcr});
    Track& t = it->second;
    if (fresh) {
      t.value = start_value(bank, pcr);
      auto q = quoted_bank.find(pcr);
      if (q != quoted_bank.end()) {
        t.quoted = &q->second;
        if (t.value == *t.quoted) t.match_end = 0;
      }
    }
    return t;
  };
  if (start != nullptr) {
    for (const auto& [bank, values] : *start) {
      auto quoted_bank = v.verified_pcrs.find(bank);
      if (quoted_bank == v.verified_pcrs.end()) continue;
      for (const auto& [pcr, value] : values) {
        if (pcr >= tpm::kNumPcrs) continue;
        out.touched_pcrs.insert(pcr);
        track(bank, pcr, quoted_bank->second);
      }
    }
  }
  for (size_t i = 0; i < log.events.size(); ++i) {
    const LogEvent& ev = log.events[i];
    if (ev.not_extended || ev.pcr >= tpm::kNumPcrs) continue;
    out.touched_pcrs.insert(ev.pcr);
    for (const auto& [bank, digest] : ev.digests) {
      auto quoted_bank = v.verified_pcrs.find(bank);
      if (quoted_bank == v.verified_pcrs.end()) continue;  // a bank the quote doesn't cover
      const size_t size = crypto::DigestSize(bank);
      Track& t = track(bank, ev.pcr, quoted_bank->second);
      if (digest.size() != size) {
        t.bad_digest = true;
        continue;
      }
      const bool violation = ima && std::all_of(digest.begin(), digest.end(), [](uint8_t b) { return b == 0; });
      crypto::ExtendInPlace(bank, t.value, violation ? Bytes(size, 0xff) : digest);
      if (t.quoted != nullptr && !t.match_end && t.value == *t.quoted) t.match_end = i + 1;
    }
  }
  // Per (bank, PCR): quoted and reached?
  std::set<uint32_t> failed_pcrs;
  for (const auto& [key, t] : tracks) {
    const auto& [bank, pcr] = key;
    if (t.quoted == nullptr) {
      Finding& f = AddFinding(v, "replay", Severity::kFail,
                              name + " extends a PCR that the quote does not cover, so its events there "
                                     "are unverified");
      f.bank = bank;
      f.pcr = pcr;
      f.log_index = log_index;
      f.actual = HexEncode(t.value);
      failed_pcrs.insert(pcr);
    } else if (t.bad_digest || !t.match_end) {
      Finding& f = AddFinding(v, "replay", Severity::kFail,
                              name + " does not replay to the quoted PCR value at any event (events added, "
                                     "removed, reordered or altered)");
      f.bank = bank;
      f.pcr = pcr;
      f.log_index = log_index;
      f.expected = HexEncode(*t.quoted);
      f.actual = HexEncode(t.value);
      failed_pcrs.insert(pcr);
    }
  }
  // Per event: covered by its PCR's match point?
  out.event_verified.assign(log.events.size(), false);
  size_t no_bank = 0, late = 0;
  std::optional<size_t> first_no_bank, first_late;
  for (size_t i = 0; i < log.events.size(); ++i) {
    const LogEvent& ev = log.events[i];
    if (ev.not_extended || ev.pcr >= tpm::kNumPcrs) continue;
    bool any = false, covered = true, past = false;
    for (const auto& [bank, digest] : ev.digests) {
      auto it = tracks.find({bank, ev.pcr});
      if (it == tracks.end()) continue;
      any = true;
      Track& t = it->second;
      if (t.quoted == nullptr || t.bad_digest || !t.match_end) {
        covered = false;
      } else if (i >= *t.match_end) {
        covered = false;
        past = true;
        if (!t.first_after) t.first_after = i;
        ++t.after;
      }
    }
    if (!any) {
      // L1: an event with no digest in any quoted bank extended nothing the
      // signature covers; its file is not believed.
      ++no_bank;
      if (!first_no_bank) first_no_bank = i;
      if (!ima) failed_pcrs.insert(ev.pcr);
      continue;
    }
    if (past && ima) {
      ++late;
      if (!first_late) first_late = i;
    }
    out.event_verified[i] = covered;
  }
  if (no_bank > 0) {
    Finding& f = AddFinding(v, "replay", ima ? Severity::kInfo : Severity::kFail,
                            name + " has " + std::to_string(no_bank) +
                                " event(s) with no digest in any bank the quote covers; their files are not " +
                                (ima ? "checked" : "believed"));
    f.log_index = log_index;
    f.event_index = *first_no_bank;
  }
  for (const auto& [key, t] : tracks) {
    if (!t.first_after || ima) continue;
    Finding& f = AddFinding(v, "replay", Severity::kFail,
                            name + " has " + std::to_string(t.after) +
                                " event(s) after this PCR reached its quoted value: the quote does not cover them "
                                "(events added after the quote, or the log reordered)");
    f.bank = key.first;
    f.pcr = key.second;
    f.log_index = log_index;
    f.event_index = *t.first_after;
    f.expected = HexEncode(*t.quoted);
    f.actual = HexEncode(t.value);
    failed_pcrs.insert(key.second);
  }
  if (late > 0) {
    Finding& f = AddFinding(v, "replay", Severity::kInfo,
                            name + " has " + std::to_string(late) +
                                " events after the quote; they are not covered by it and were not checked");
    f.log_index = log_index;
    f.event_index = *first_late;
  }
  for (uint32_t pcr : out.touched_pcrs) {
    if (failed_pcrs.count(pcr)) continue;
    bool quoted_somewhere = false;
    for (const auto& [key, t] : tracks) quoted_somewhere |= key.second == pcr && t.quoted != nullptr;
    if (quoted_somewhere) out.verified_pcrs.insert(pcr);
  }
  if (!ima || !failed_pcrs.empty()) return;
  // Where the next incremental slice starts: every tracked PCR has reached
  // its quoted value by `next`, so the events before it are all covered.
  size_t next = log.events.size();
  for (const auto& [key, t] : tracks) next = std::min(next, *t.match_end);
  if (tracks.empty()) next = 0;  // nothing extended a quoted bank: nothing covered
  tpm::PcrValues values;
  for (const auto& [key, t] : tracks) {
    const auto& [bank, pcr] = key;
    if (*t.match_end == next) {
      values[bank][pcr] = *t.quoted;
      continue;
    }
    // This PCR matched later than `next`: its value at `next` is replayed
    // again (rare: only a log extending several PCRs gets here).
    Bytes value = start_value(bank, pcr);
    for (size_t i = 0; i < next; ++i) {
      const LogEvent& ev = log.events[i];
      if (ev.not_extended || ev.pcr != pcr) continue;
      auto d = ev.digests.find(bank);
      if (d == ev.digests.end()) continue;
      const bool violation = std::all_of(d->second.begin(), d->second.end(), [](uint8_t b) { return b == 0; });
      crypto::ExtendInPlace(bank, value, violation ? Bytes(value.size(), 0xff) : d->second);
    }
    values[bank][pcr] = std::move(value);
  }
  out.ima_next_entries = next;
  out.ima_next_pcrs = std::move(values);
}

// An incremental IMA log continues from the stored IMA state only if that
// state is of this TPM reset cycle, ends exactly where the log starts, and
// covers every bank the log is replayed in. Returns "" or why not.
std::string ImaContinuityProblem(const Evidence& e, const EvidenceEventLog& log, const ParsedLog& parsed,
                                 const AppraisalOptions& o, const Verdict& v) {
  if (!o.previous || !o.previous->ima) {
    return "the verifier holds no IMA state for this node (no passing appraisal with an IMA log in this TPM "
           "reset cycle)";
  }
  const ImaState& s = *o.previous->ima;
  const uint32_t reset = e.attest.clock_info.reset_count;
  if (s.reset_count != reset) {
    return "the TPM was reset since the stored IMA state (resetCount " + std::to_string(s.reset_count) + " -> " +
           std::to_string(reset) + "): the node rebooted and its IMA log restarted";
  }
  if (s.entries != log.start_entry) {
    return "the verifier has appraised " + std::to_string(s.entries) + " IMA entries, but the log starts at entry " +
           std::to_string(log.start_entry);
  }
  for (HashAlg bank : parsed.banks) {
    if (v.verified_pcrs.count(bank) && !s.pcrs.count(bank)) {
      return "the quote covers bank " + std::string(crypto::HashAlgName(bank)) +
             ", which the stored IMA state has no running value for";
    }
  }
  return "";
}

void CheckFiles(const ParsedLog& parsed, const std::vector<bool>& verified, size_t log_index,
                const ReferenceValues& ref, Verdict& v) {
  for (size_t i = 0; i < parsed.events.size(); ++i) {
    if (!verified[i]) continue;
    const LogEvent& ev = parsed.events[i];
    if (ev.path.empty() || ev.not_extended) continue;
    if (ref.IsExcluded(ev.path)) continue;
    ++v.files_checked;
    const std::string actual = ev.file_digest_alg ? FormatDigest(*ev.file_digest_alg, ev.file_digest)
                                                  : "unsupported-alg:" + HexEncode(ev.file_digest);
    auto it = ref.files.find(ev.path);
    if (it == ref.files.end()) {
      if (ref.unknown_files == UnknownFilePolicy::kIgnore) continue;
      Finding& f = AddFinding(v, "unknown_file",
                              ref.unknown_files == UnknownFilePolicy::kFail ? Severity::kFail : Severity::kWarn,
                              "a measured file has no entry in the reference values");
      f.pcr = ev.pcr;
      f.log_index = log_index;
      f.event_index = ev.index;
      f.path = ev.path;
      f.actual = actual;
      continue;
    }
    bool allowed = false;
    for (const AllowedDigest& d : it->second) {
      if (ev.file_digest_alg && d.alg == *ev.file_digest_alg && d.digest == ev.file_digest) {
        allowed = true;
        break;
      }
    }
    if (allowed) continue;
    Finding& f = AddFinding(v, "file_digest", Severity::kFail, "a measured file's digest is not an allowed one");
    f.pcr = ev.pcr;
    f.log_index = log_index;
    f.event_index = ev.index;
    f.path = ev.path;
    for (const AllowedDigest& d : it->second) {
      if (!f.expected.empty()) f.expected += " | ";
      f.expected += FormatDigest(d.alg, d.digest);
    }
    f.actual = actual;
  }
}

// UEFI logs are complete at quote time: the whole log must replay.
void ReplayWholeLog(const ParsedLog& parsed, size_t i, const std::string& name, Verdict& v, LogAppraisal& out) {
  const tpm::PcrValues replayed = Replay(parsed);
  bool ok = true;
  for (const auto& [bank, values] : replayed) {
    auto quoted = v.verified_pcrs.find(bank);
    if (quoted == v.verified_pcrs.end()) continue;  // a bank the quote doesn't cover: nothing to compare
    for (const auto& [pcr, value] : values) {
      out.touched_pcrs.insert(pcr);
      auto q = quoted->second.find(pcr);
      if (q == quoted->second.end()) {
        Finding& f = AddFinding(v, "replay", Severity::kFail,
                                name + " extends a PCR that the quote does not cover, so its events there "
                                       "are unverified");
        f.bank = bank;
        f.pcr = pcr;
        f.log_index = i;
        f.actual = HexEncode(value);
        ok = false;
      } else if (q->second != value) {
        Finding& f = AddFinding(v, "replay", Severity::kFail,
                                name + " does not replay to the quoted PCR value (events added, removed or "
                                       "altered)");
        f.bank = bank;
        f.pcr = pcr;
        f.log_index = i;
        f.expected = HexEncode(q->second);
        f.actual = HexEncode(value);
        ok = false;
      }
    }
  }
  if (ok) {
    out.verified_pcrs = out.touched_pcrs;
    out.event_verified.assign(parsed.events.size(), true);
  } else {
    out.event_verified.assign(parsed.events.size(), false);
  }
}

}  // namespace

std::vector<LogAppraisal> AppraiseEventLogs(const Evidence& e, const AppraisalOptions& o, Verdict& v) {
  const ReferenceValues* reference = o.reference;
  std::vector<LogAppraisal> results(e.event_logs.size());
  v.log_verified.assign(e.event_logs.size(), false);
  const TpmlPcrSelection& sel = e.attest.quote.pcr_select;
  const size_t ima_logs = static_cast<size_t>(std::count_if(
      e.event_logs.begin(), e.event_logs.end(), [](const EvidenceEventLog& l) { return l.format == EventLogFormat::kIma; }));
  for (size_t i = 0; i < e.event_logs.size(); ++i) {
    const EvidenceEventLog& log = e.event_logs[i];
    LogAppraisal& out = results[i];
    out.format = log.format;
    const std::string name = std::string(EventLogFormatName(log.format)) + " log";
    auto parsed = ParseOne(log, sel);
    if (!parsed.ok()) {
      Finding& f = AddFinding(v, "event_log", Severity::kFail, name + " does not parse: " + parsed.status().message());
      f.log_index = i;
      continue;
    }
    out.parsed = true;
    out.log = std::move(parsed).value();
    if (!v.pcrs_verified) {
      Finding& f = AddFinding(v, "replay", Severity::kFail,
                              "not checked: the PCR values are not verified, so " + name + " proves nothing");
      f.log_index = i;
      out.event_verified.assign(out.log.events.size(), false);
      continue;
    }
    const size_t first_finding = v.findings.size();
    const tpm::PcrValues* start = nullptr;
    if (log.start_entry > 0) {
      std::string problem = ima_logs > 1 ? "an incremental IMA log must be the evidence's only IMA log"
                                         : ImaContinuityProblem(e, log, out.log, o, v);
      if (!problem.empty()) {
        Finding& f = AddFinding(v, "ima_continuity", Severity::kFail,
                                name + " is incremental (starts at entry " + std::to_string(log.start_entry) +
                                    ") but cannot continue from the stored state: " + problem +
                                    "; the full log is required");
        f.log_index = i;
        out.event_verified.assign(out.log.events.size(), false);
        v.full_log_required = true;
        continue;
      }
      start = &o.previous->ima->pcrs;
    }
    if (log.format == EventLogFormat::kUefi) {
      ReplayWholeLog(out.log, i, name, v, out);
    } else {
      ReplayRuntimeLog(out.log, i, name, v, out, start);
    }
    const bool extends_quoted_bank = std::any_of(out.log.events.begin(), out.log.events.end(), [&](const LogEvent& ev) {
      return !ev.not_extended && std::any_of(ev.digests.begin(), ev.digests.end(), [&](const auto& d) {
        return v.verified_pcrs.count(d.first) > 0;
      });
    });
    const bool extends_any = std::any_of(out.log.events.begin(), out.log.events.end(),
                                         [](const LogEvent& ev) { return !ev.not_extended; });
    if (extends_any && !extends_quoted_bank) {
      Finding& f = AddFinding(v, "replay", Severity::kFail, name + " has no digests in any bank the quote covers");
      f.log_index = i;
      out.verified_pcrs.clear();
    }
    const bool ok = std::none_of(v.findings.begin() + first_finding, v.findings.end(),
                                 [](const Finding& f) { return f.severity == Severity::kFail; });
    v.log_verified[i] = ok;
    if (ok && reference != nullptr) CheckFiles(out.log, out.event_verified, i, *reference, v);
  }
  return results;
}

void AppraiseRequiredLogs(const ReferenceValues& ref, const std::vector<LogAppraisal>& logs, Verdict& v) {
  for (const RequiredLog& r : ref.runtime_logs) {
    const std::string what = std::string(EventLogFormatName(r.format)) + " log for PCR " + std::to_string(r.pcr);
    auto fail = [&](std::string message) {
      Finding& f = AddFinding(v, "required_log", Severity::kFail, std::move(message));
      f.pcr = r.pcr;
      f.expected = what;
    };
    bool quoted = false;
    if (v.pcrs_verified) {
      for (const auto& [bank, values] : v.verified_pcrs) quoted |= values.count(r.pcr) > 0;
    }
    if (!quoted) {
      fail("the reference requires a " + what + ", but PCR " + std::to_string(r.pcr) +
           " is not among the verified quoted PCRs, so its measurements cannot be checked");
      continue;
    }
    bool have_log = false, explained = false;
    for (const LogAppraisal& l : logs) {
      if (l.format != r.format) continue;
      have_log = true;
      if (!l.parsed) continue;
      if (l.verified_pcrs.count(r.pcr)) {
        explained = true;
        break;
      }
      // A log with no events for the PCR explains it only if the PCR was
      // never extended (its initial value in every quoted bank).
      if (!l.touched_pcrs.count(r.pcr)) {
        bool initial = true;
        for (const auto& [bank, values] : v.verified_pcrs) {
          auto q = values.find(r.pcr);
          if (q != values.end()) initial &= q->second == Bytes(crypto::DigestSize(bank), 0);
        }
        if (initial) {
          explained = true;
          break;
        }
      }
    }
    if (!have_log) {
      fail("the reference requires a " + what + ", but the evidence carries no " +
           std::string(EventLogFormatName(r.format)) + " log (its file measurements would go unchecked)");
    } else if (!explained) {
      fail("the reference requires a " + what + ", but no " + std::string(EventLogFormatName(r.format)) +
           " log in the evidence replays to PCR " + std::to_string(r.pcr) + "'s quoted value");
    }
  }
}

void AppraiseGoldenPcrs(const ReferenceValues& ref, Verdict& v) {
  if (ref.pcrs.empty()) return;
  if (!v.pcrs_verified) {
    AddFinding(v, "golden_pcr", Severity::kFail, "not checked: the PCR values are not verified");
    return;
  }
  for (const auto& [bank, values] : ref.pcrs) {
    auto quoted = v.verified_pcrs.find(bank);
    for (const auto& [pcr, golden] : values) {
      const Bytes* actual = nullptr;
      if (quoted != v.verified_pcrs.end()) {
        auto q = quoted->second.find(pcr);
        if (q != quoted->second.end()) actual = &q->second;
      }
      if (actual == nullptr) {
        Finding& f = AddFinding(v, "golden_pcr", Severity::kFail,
                                "a PCR with a golden value is not in the quote, so it cannot be checked");
        f.bank = bank;
        f.pcr = pcr;
        f.expected = HexEncode(golden);
        continue;
      }
      if (*actual != golden) {
        Finding& f = AddFinding(v, "golden_pcr", Severity::kFail, "the quoted PCR value is not the golden value");
        f.bank = bank;
        f.pcr = pcr;
        f.expected = HexEncode(golden);
        f.actual = HexEncode(*actual);
      }
    }
  }
}

}  // namespace edgeward::attest::internal
