// Reference values from a known-good node's evidence. The evidence is
// appraised against its own nonce first, so only signed PCR values and
// files from logs that replay to them become reference values.
#include <algorithm>

#include "edgeward/attest/appraisal.h"
#include "edgeward/attest/reference.h"

namespace edgeward::attest {

StatusOr<ReferenceValues> ReferenceFromEvidence(const Evidence& evidence) {
  if (evidence.nonce.empty()) return InvalidArgument("evidence.nonce: is empty");
  AppraisalOptions options;
  EW_ASSIGN_OR_RETURN(Verdict v, Appraise(evidence, evidence.nonce, options));
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
  ref.pcrs = v.verified_pcrs;
  ref.unknown_files = UnknownFilePolicy::kFail;
  for (size_t i = 0; i < evidence.event_logs.size(); ++i) {
    const EvidenceEventLog& log = evidence.event_logs[i];
    if (log.format == EventLogFormat::kUefi) continue;  // firmware events carry no file paths
    auto parsed = log.format == EventLogFormat::kIma
                      ? ParseImaLog(log.data, log.template_hash_alg.value_or(crypto::HashAlg::kSha1))
                      : ParseCelLog(log.data);
    if (!parsed.ok()) return parsed.status();  // cannot happen after a passing appraisal
    // PCRs a runtime log extends change with measurement order and across
    // boots; their content is checked file by file instead of as a golden value.
    for (const auto& [bank, values] : Replay(*parsed)) {
      auto it = ref.pcrs.find(bank);
      if (it == ref.pcrs.end()) continue;
      for (const auto& [pcr, value] : values) it->second.erase(pcr);
      if (it->second.empty()) ref.pcrs.erase(it);
    }
    for (const LogEvent& ev : parsed->events) {
      if (ev.path.empty() || ev.not_extended || !ev.file_digest_alg) continue;
      AllowedDigest d{*ev.file_digest_alg, ev.file_digest};
      auto& allowed = ref.files[ev.path];
      if (std::find(allowed.begin(), allowed.end(), d) == allowed.end()) allowed.push_back(std::move(d));
    }
  }
  return ref;
}

}  // namespace edgeward::attest
