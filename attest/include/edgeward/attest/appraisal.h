// Appraisal: decides what a node's evidence proves, and reports every
// failure separately with what was expected and what was found (PCR, bank,
// event index, path, digests). Pure parsing and OpenSSL — no TPM, no TSS —
// so the cloud verifier can run it anywhere. What each check does and what
// appraisal does not protect against: docs/appraisal.md.
//
// Trust flows only from the AK's signature: the TPMS_ATTEST is believed once
// the signature verifies; the reported PCR values once their digest equals
// the signed pcrDigest (and only the PCRs the signed selection names); an
// event log's event once its own PCR's replay reaches the quoted value at or
// after it (docs/appraisal.md, "replay"). Reference values are compared
// against nothing else.
//
// Thread-safe: Appraise has no shared state; options are read only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/attest/evidence.h"
#include "edgeward/attest/reference.h"
#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/x509.h"
#include "edgeward/tpm/pcr_types.h"

namespace edgeward::attest {

// Where the last *passing* appraisal left the node's IMA log, so that the
// next evidence may carry only the entries after it (an incremental log,
// EvidenceEventLog::start_entry) and be replayed from `pcrs` instead of
// from zero. Valid only within the TPM reset cycle it was taken in: after a
// reboot the kernel starts a new log and the PCRs restart from zero.
struct ImaState {
  uint64_t entries = 0;     // entries appraised so far: the next incremental log starts here
  uint32_t reset_count = 0; // the TPM resetCount these entries belong to
  tpm::PcrValues pcrs;      // running value per (quoted bank, PCR) after `entries` entries
  bool operator==(const ImaState&) const = default;
};

// What a verifier remembers about a node between appraisals, to detect a
// TPM clock or reset/restart counter going backwards (a replayed or
// rolled-back TPM state), and to appraise IMA incrementally. Taken only
// from signed TPMS_ATTEST fields and logs that replayed to signed PCRs.
struct AppraisalState {
  Bytes ak_name;            // the AK the counters belong to
  uint64_t clock = 0;
  uint32_t reset_count = 0;
  uint32_t restart_count = 0;
  // Advances only on a passing verdict (a failing one leaves the previous
  // value, so its entries are sent and checked again next time).
  std::optional<ImaState> ima;
  bool operator==(const AppraisalState&) const = default;
};
// {"ak_name": hex, "clock": n, "reset_count": n, "restart_count": n,
//  "ima": {"entries": n, "reset_count": n, "pcrs": {"sha256": {"10": hex}}}}
// ("ima" absent when unset). Decoding checks types, digest sizes and PCR
// indices; errors are kInvalidArgument naming the field.
std::string EncodeAppraisalState(const AppraisalState& state);
StatusOr<AppraisalState> DecodeAppraisalState(std::string_view json);

struct AppraisalOptions {
  // Golden PCRs and allowed file digests; nullptr → only the evidence's own
  // consistency is appraised.
  const ReferenceValues* reference = nullptr;
  // EK CA trust anchors. When either is given the EK certificate must be
  // present and chain to one of them (checked at `now`); certificates in
  // the bundle that are not self-signed also serve as intermediates.
  std::string ek_ca_bundle_path;
  const std::vector<crypto::Certificate>* ek_ca_certs = nullptr;
  // The AK name enrolled for this node (after credential activation). When
  // set, evidence signed by any other AK fails ("ak_identity"). When unset,
  // reference->ak_name (if any) is enforced instead. With neither, any key
  // may have signed, and the verdict's state never advances.
  std::optional<Bytes> expected_ak_name;
  // The state returned by this node's previous appraisal.
  std::optional<AppraisalState> previous;
  // A quote the node took while it could not reach the verifier, over a
  // nonce of its own (pass evidence.nonce as expected_nonce): appraised for
  // continuity, not freshness. `previous` is required ("continuity" fails
  // without it); the counters and clock must not go backwards (a lower
  // clock only across a reset and with `safe` cleared; an unsafe clock is
  // an info "continuity" finding); and an incremental IMA log that can't
  // continue from `previous` fails (there is no one to ask for the full log).
  bool offline = false;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

enum class Severity {
  kFail,  // the verdict fails
  kWarn,  // worth a look; the verdict still passes (e.g. unknown_files: warn)
  kInfo,  // a fact (e.g. the TPM was reset since the last appraisal)
};
std::string_view SeverityName(Severity s);  // "fail", "warn", "info"

// One finding. `check` is a stable identifier (docs/appraisal.md lists them):
// ak_public, ak_attributes, ak_name, ak_pem, ak_identity, signature, magic,
// attest_type, nonce, evidence_nonce, pcr_selection, pcr_digest, event_log,
// replay, required_log, clock, state, reset, restart, ek_certificate,
// node_id, golden_pcr, file_digest, unknown_file, ima_continuity,
// continuity.
struct Finding {
  std::string check;
  Severity severity = Severity::kFail;
  std::optional<crypto::HashAlg> bank;
  std::optional<uint32_t> pcr;
  std::optional<size_t> log_index;    // position in evidence.event_logs
  std::optional<size_t> event_index;  // position in that log
  std::string path;                   // measured file, when the finding is about one
  std::string expected;               // hex digest(s) or value, "" when not applicable
  std::string actual;
  std::string message;                // one human sentence
};

struct Verdict {
  bool pass = false;  // true iff no finding has Severity::kFail
  std::vector<Finding> findings;
  // The state to store for the next appraisal: from this evidence only when
  // it is fully trusted as coming from the pinned AK (signature, magic, type
  // and nonce check out, no ak_* failure, an AK is pinned and the name
  // computed from ak.public equals it) and the counters did not go
  // backwards; ak_name is that computed name. Otherwise the previous state
  // unchanged (unverified counters must never move the state).
  std::optional<AppraisalState> state;
  // Facts that were established (for display and reference generation).
  bool signature_valid = false;
  bool pcrs_verified = false;        // pcrDigest matched under a valid signature
  tpm::PcrValues verified_pcrs;      // the quoted PCRs, when pcrs_verified
  std::vector<bool> log_verified;    // per evidence.event_logs entry: replays to verified PCRs (no replay failure)
  size_t files_checked = 0;
  // An incremental IMA log (start_entry > 0) that cannot continue from
  // options.previous: no IMA state stored, a different entry count, a bank
  // the state lacks, or a TPM reset since (the node rebooted and its log
  // restarted). The verdict fails ("ima_continuity"); an online verifier
  // answers by asking for the full log (docs/api.md), never by passing.
  bool full_log_required = false;
};

// Appraises `evidence` against the challenge `expected_nonce`. Problems with
// the evidence are findings in the verdict; a StatusOr error means the
// verifier's own inputs are unusable (empty nonce → kInvalidArgument; an
// unreadable CA bundle → its read/parse error).
StatusOr<Verdict> Appraise(const Evidence& evidence, ByteView expected_nonce, const AppraisalOptions& options);

// One line per finding: "FAIL replay: bank sha256 PCR 10 log 1 event 57
// path /usr/bin/x: expected ab.. actual cd..: <message>", then a summary
// line "verdict: FAIL (3 failures, 1 warning)".
std::string FormatVerdictText(const Verdict& verdict);
// {"pass": bool, "findings": [{"check", "severity", "bank", "pcr",
// "log_index", "event_index", "path", "expected", "actual", "message"}],
// "state": {...}}; absent optional fields are left out.
std::string FormatVerdictJson(const Verdict& verdict, int indent = 2);

}  // namespace edgeward::attest
