// Evidence: what a node sends a verifier — a TPM quote and its signature,
// the PCR values it claims, the AK and EK, the nonce and the event logs —
// as one versioned JSON document (schema: docs/evidence.md).
//
// Decoding checks structure only (types, sizes, encodings, and that the TPM
// structures inside decode strictly); it does NOT imply trust. Appraise()
// (appraisal.h) decides what the TPM's signature and the log replays
// actually vouch for.
//
// Errors are kInvalidArgument (kResourceExhausted for an oversized
// document) naming the JSON field path, e.g.
// "evidence.quote.attest: invalid base64 character at offset 12".
// All functions are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/attest/eventlog.h"
#include "edgeward/attest/tpm_wire.h"
#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/tpm/pcr_types.h"

namespace edgeward::attest {

inline constexpr int kEvidenceVersion = 1;

// Caps on outside input, checked before anything is allocated for it.
inline constexpr size_t kMaxEvidenceBytes = 128u << 20;   // the whole JSON text
inline constexpr size_t kMaxNonceBytes = 64;
inline constexpr size_t kMaxNodeIdBytes = 256;
inline constexpr size_t kMaxEventLogs = 16;
inline constexpr size_t kMaxPemBytes = 64u << 10;         // public_pem, certificate_pem

struct EvidenceEventLog {
  EventLogFormat format = EventLogFormat::kCel;
  // The log exactly as read on the node: the binary UEFI log, or the text
  // of an IMA or CEL log.
  std::string data;
  // IMA only: the bank of the template-hash column (sha1 for
  // ascii_runtime_measurements). Default sha1.
  std::optional<crypto::HashAlg> template_hash_alg;
  // IMA only: the index (0-based, since boot) of the node's log entry that
  // `data` starts with. 0: the whole log. Greater: an incremental log that
  // continues where the verifier's last passing appraisal of this node
  // stopped (AppraisalState::ima); appraisal replays it from the stored
  // running PCR values. JSON "start_entry", left out when 0.
  uint64_t start_entry = 0;
};

// Largest accepted start_entry (2^53 - 1: exact in every JSON reader).
inline constexpr uint64_t kMaxImaStartEntry = (uint64_t{1} << 53) - 1;

struct Evidence {
  int version = kEvidenceVersion;
  std::string node_id;
  std::string collected_at;  // RFC 3339, as the node's clock said (not trusted)
  Bytes nonce;               // what the node says it put into the quote

  // Raw TPM structures, exactly as the TPM returned them.
  Bytes quote_attest;     // marshalled TPMS_ATTEST (TPM2B_ATTEST's buffer)
  Bytes quote_signature;  // marshalled TPMT_SIGNATURE
  tpm::PcrValues pcrs;    // the PCR values the node claims

  Bytes ak_public;        // TPM2B_PUBLIC of the attestation key
  std::string ak_public_pem;
  Bytes ak_name;          // nameAlg || H(TPMT_PUBLIC)

  bool has_ek = false;
  std::string ek_certificate_pem;
  Bytes ek_public;        // optional TPM2B_PUBLIC; empty when absent

  std::vector<EvidenceEventLog> event_logs;

  // Decoded forms of quote_attest, quote_signature and ak_public, filled by
  // DecodeEvidence() or DecodeEvidenceWire(). Appraisal reads these.
  TpmsAttest attest;
  TpmtSignature signature;
  TpmtPublic ak;
};

// JSON text → Evidence. Unknown version, unknown or missing fields, wrong
// JSON types, bad hex/base64, oversized values, PCR values of the wrong
// length and TPM structures that don't decode are errors naming the field.
StatusOr<Evidence> DecodeEvidence(std::string_view json);

// Fills the decoded fields from the raw ones (for producers that build an
// Evidence in memory). Errors name the evidence field, as DecodeEvidence.
Status DecodeEvidenceWire(Evidence& evidence);

// Evidence → JSON text (compact when indent < 0). The raw fields are what is
// written; the decoded fields are ignored. Fails (kInvalidArgument) only on
// values the schema can't carry (e.g. an unknown version).
StatusOr<std::string> EncodeEvidence(const Evidence& evidence, int indent = 2);

// True if `s` is an RFC 3339 date-time ("2026-11-23T20:39:56Z",
// "2026-11-23T21:39:56.123+01:00").
bool IsRfc3339(std::string_view s);

}  // namespace edgeward::attest
