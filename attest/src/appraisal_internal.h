// Private: the pieces of Appraise() that live in separate files.
#pragma once

#include <string>

#include "edgeward/attest/appraisal.h"

namespace edgeward::attest::internal {

inline Finding& AddFinding(Verdict& v, std::string_view check, Severity severity, std::string message) {
  Finding& f = v.findings.emplace_back();
  f.check = check;
  f.severity = severity;
  f.message = std::move(message);
  return f;
}

// Event logs: replay against the verified PCRs, then (when `reference`)
// file digests against the allowed list. Fills v.log_verified.
void AppraiseEventLogs(const Evidence& e, const ReferenceValues* reference, Verdict& v);

// Golden PCR values against v.verified_pcrs.
void AppraiseGoldenPcrs(const ReferenceValues& reference, Verdict& v);

}  // namespace edgeward::attest::internal
