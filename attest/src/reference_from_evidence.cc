// Reference values from a known-good node's evidence. The evidence is
// appraised against its own nonce first, so only signed PCR values and
// files from events the quote covers become reference values.
#include <algorithm>

#include "appraisal_internal.h"
#include "edgeward/attest/appraisal.h"
#include "edgeward/attest/reference.h"

namespace edgeward::attest {

StatusOr<ReferenceValues> ReferenceFromEvidence(const Evidence& evidence) {
  if (evidence.nonce.empty()) return InvalidArgument("evidence.nonce: is empty");
  AppraisalOptions options;
  std::vector<internal::LogAppraisal> logs;
  EW_ASSIGN_OR_RETURN(Verdict v, internal::AppraiseDetailed(evidence, evidence.nonce, options, &logs));
  if (!v.pass) {
    std::string reasons;
    for (const Finding& f : v.findings) {
      if (f.severity != Severity::kFail) continue;
      if (!reasons.empty()) reasons += "; ";
      reasons += f.check + ": " + f.message;
    }
    return FailedPrecondition("reference from evidence: the evidence does not appraise (" + reasons + ")");
  }
  ReferenceValues ref;
  ref.node_id = evidence.node_id.empty() ? std::nullopt : std::optional<std::string>(evidence.node_id);
  // The name of the key that actually signed, computed from its public
  // area — never the evidence's own (unsigned) ak.name field.
  EW_ASSIGN_OR_RETURN(Bytes ak_name, ComputeName(evidence.ak));
  ref.ak_name = std::move(ak_name);
  ref.pcrs = v.verified_pcrs;
  ref.unknown_files = UnknownFilePolicy::kFail;
  for (const internal::LogAppraisal& log : logs) {
    if (log.format == EventLogFormat::kUefi) continue;  // firmware events carry no file paths
    if (!log.parsed) return Internal("reference from evidence: a log did not parse after a passing appraisal");
    // PCRs a runtime log extends change with measurement order and across
    // boots: their content is checked file by file instead of as a golden
    // value, and the log becomes required so that leaving it out of later
    // evidence cannot hide those files.
    for (uint32_t pcr : log.verified_pcrs) {
      bool dropped = false;
      for (HashAlg bank : log.log.banks) {
        auto it = ref.pcrs.find(bank);
        if (it == ref.pcrs.end()) continue;
        dropped |= it->second.erase(pcr) > 0;
        if (it->second.empty()) ref.pcrs.erase(it);
      }
      RequiredLog r{log.format, pcr};
      if (dropped && std::find(ref.runtime_logs.begin(), ref.runtime_logs.end(), r) == ref.runtime_logs.end()) {
        ref.runtime_logs.push_back(r);
      }
    }
    for (size_t i = 0; i < log.log.events.size(); ++i) {
      const LogEvent& ev = log.log.events[i];
      if (!log.event_verified[i]) continue;  // e.g. IMA events after the quote
      if (ev.path.empty() || ev.not_extended || !ev.file_digest_alg) continue;
      AllowedDigest d{*ev.file_digest_alg, ev.file_digest};
      auto& allowed = ref.files[ev.path];
      if (std::find(allowed.begin(), allowed.end(), d) == allowed.end()) allowed.push_back(std::move(d));
    }
  }
  std::sort(ref.runtime_logs.begin(), ref.runtime_logs.end());
  return ref;
}

}  // namespace edgeward::attest
