// Private: the pieces of Appraise() that live in separate files.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "edgeward/attest/appraisal.h"

namespace edgeward::attest::internal {

inline Finding& AddFinding(Verdict& v, std::string_view check, Severity severity, std::string message) {
  Finding& f = v.findings.emplace_back();
  f.check = check;
  f.severity = severity;
  f.message = std::move(message);
  return f;
}

// What appraisal established about one evidence.event_logs entry.
struct LogAppraisal {
  bool parsed = false;
  EventLogFormat format = EventLogFormat::kUefi;
  ParsedLog log;                    // when parsed
  std::vector<bool> event_verified;  // per event: covered by the quote (its PCR's match point)
  std::set<uint32_t> touched_pcrs;   // PCRs its extended events go to
  std::set<uint32_t> verified_pcrs;  // PCRs whose quoted value (every quoted bank) this log explains
  // IMA logs that replayed: how many of this log's events the quote covers
  // in full (the next incremental log starts after them, relative to
  // start_entry) and the running values there.
  std::optional<size_t> ima_next_entries;
  tpm::PcrValues ima_next_pcrs;
};

// Event logs: replay against the verified PCRs (an incremental IMA log from
// o.previous's IMA state, or "ima_continuity" fails and
// v.full_log_required is set), then (when o.reference) file digests
// against the allowed list. Fills v.log_verified; returns one LogAppraisal
// per evidence.event_logs entry.
std::vector<LogAppraisal> AppraiseEventLogs(const Evidence& e, const AppraisalOptions& o, Verdict& v);

// reference.runtime_logs: each required (format, PCR) is quoted and
// explained by a log of that format.
void AppraiseRequiredLogs(const ReferenceValues& reference, const std::vector<LogAppraisal>& logs, Verdict& v);

// Golden PCR values against v.verified_pcrs.
void AppraiseGoldenPcrs(const ReferenceValues& reference, Verdict& v);

// Appraise(), also handing back the per-log results (for reference generation).
StatusOr<Verdict> AppraiseDetailed(const Evidence& e, ByteView expected_nonce, const AppraisalOptions& o,
                                   std::vector<LogAppraisal>* logs);

}  // namespace edgeward::attest::internal
