// Event-log replay against the verified PCRs, file digests against the
// allowed list, and golden PCR values. A log's events count only when the
// whole log replays to PCR values the quote's signature covers.
#include <algorithm>
#include <map>
#include <optional>
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

// Runtime logs (IMA, CEL) keep growing: a log read after the quote has
// events the quote doesn't cover yet. The quote then pins a prefix of the
// log. Returns the length of the shortest prefix whose replay gives the
// verified value of every PCR it extends (in every verified bank it has
// digests for), or nullopt. Events past the prefix are not believed.
std::optional<size_t> VerifiedPrefix(const ParsedLog& log, const tpm::PcrValues& verified) {
  std::map<std::pair<crypto::HashAlg, uint32_t>, Bytes> state;
  size_t mismatched = 0;
  for (size_t i = 0; i < log.events.size(); ++i) {
    const LogEvent& ev = log.events[i];
    if (ev.not_extended || ev.pcr >= tpm::kNumPcrs) continue;
    for (const auto& [bank, digest] : ev.digests) {
      auto quoted_bank = verified.find(bank);
      if (quoted_bank == verified.end()) continue;
      auto quoted = quoted_bank->second.find(ev.pcr);
      if (quoted == quoted_bank->second.end()) return std::nullopt;  // no prefix past here can verify
      const size_t size = crypto::DigestSize(bank);
      if (digest.size() != size) return std::nullopt;
      auto [it, fresh] = state.try_emplace({bank, ev.pcr}, Bytes(size, 0));
      if (!fresh && it->second == quoted->second) ++mismatched;  // leaves the matching state
      if (fresh) ++mismatched;
      const bool violation = log.format == EventLogFormat::kIma &&
                             std::all_of(digest.begin(), digest.end(), [](uint8_t b) { return b == 0; });
      crypto::ExtendInPlace(bank, it->second, violation ? Bytes(size, 0xff) : digest);
      if (it->second == quoted->second) --mismatched;
    }
    if (!state.empty() && mismatched == 0) return i + 1;
  }
  return std::nullopt;
}

void CheckFiles(const ParsedLog& parsed, size_t verified_events, size_t log_index, const ReferenceValues& ref,
                Verdict& v) {
  for (size_t i = 0; i < verified_events; ++i) {
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

}  // namespace

void AppraiseEventLogs(const Evidence& e, const ReferenceValues* reference, Verdict& v) {
  v.log_verified.assign(e.event_logs.size(), false);
  const TpmlPcrSelection& sel = e.attest.quote.pcr_select;
  for (size_t i = 0; i < e.event_logs.size(); ++i) {
    const EvidenceEventLog& log = e.event_logs[i];
    const std::string name = std::string(EventLogFormatName(log.format)) + " log";
    auto parsed = ParseOne(log, sel);
    if (!parsed.ok()) {
      Finding& f = AddFinding(v, "event_log", Severity::kFail, name + " does not parse: " + parsed.status().message());
      f.log_index = i;
      continue;
    }
    if (!v.pcrs_verified) {
      Finding& f = AddFinding(v, "replay", Severity::kFail,
                              "not checked: the PCR values are not verified, so " + name + " proves nothing");
      f.log_index = i;
      continue;
    }
    const tpm::PcrValues replayed = Replay(*parsed);
    const size_t first_finding = v.findings.size();
    size_t verified_events = parsed->events.size();
    bool ok = true;
    bool any_bank = false;
    for (const auto& [bank, values] : replayed) {
      auto quoted = v.verified_pcrs.find(bank);
      if (quoted == v.verified_pcrs.end()) continue;  // a bank the quote doesn't cover: nothing to compare
      any_bank = true;
      for (const auto& [pcr, value] : values) {
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
    if (!replayed.empty() && !any_bank) {
      Finding& f = AddFinding(v, "replay", Severity::kFail, name + " has no digests in any bank the quote covers");
      f.log_index = i;
      ok = false;
    }
    if (!ok && log.format != EventLogFormat::kUefi) {
      if (auto prefix = VerifiedPrefix(*parsed, v.verified_pcrs)) {
        v.findings.resize(first_finding);
        ok = true;
        verified_events = *prefix;
        Finding& f = AddFinding(v, "replay", Severity::kInfo,
                                name + " has " + std::to_string(parsed->events.size() - *prefix) +
                                    " events after the quote; they are not covered by it and were not checked");
        f.log_index = i;
        f.event_index = *prefix;
      }
    }
    v.log_verified[i] = ok;
    if (ok && reference != nullptr) CheckFiles(*parsed, verified_events, i, *reference, v);
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
