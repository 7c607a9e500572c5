// The verifier's REST API v1 (docs/api.md): the JSON messages exchanged
// between a node and the verifier, as C++ structs with encode/decode. Shared
// by the verifier (edgeward::verifier) and the node-side client.
//
// Decoding is strict: unknown fields, missing required fields, wrong JSON
// types, bad base64 and oversized values are kInvalidArgument naming the
// field path ("register.ek_public: invalid base64 ..."); a body larger than
// kMaxBodyBytes is kResourceExhausted. No exception leaves these functions.
// Decoding checks structure only; it implies no trust. Thread-safe.
//
// Quote binding: the TPM quotes qualifying data
//     QuoteQualifyingData(nonce, spki) = SHA-256(nonce || SHA-256(spki))
// where `nonce` is the verifier's challenge and `spki` is the DER
// SubjectPublicKeyInfo of the node's TLS key. A passing quote therefore
// vouches that the TPM (and the attested software state) asked for a
// certificate for exactly that TLS key; the verifier issues a client
// certificate only for a CSR carrying that key.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/attest/appraisal.h"
#include "edgeward/attest/evidence.h"
#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"

namespace edgeward::cloud {

inline constexpr int kApiVersion = 1;
inline constexpr std::string_view kApiPrefix = "/v1";

// Bounds on outside input (checked before decoding).
inline constexpr size_t kMaxBodyBytes = 32u << 20;        // any request body
inline constexpr size_t kMaxIdBytes = 64;                 // node ids, uuids, nonce ids
inline constexpr size_t kMaxLabels = 32;
inline constexpr size_t kMaxLabelBytes = 64;
inline constexpr size_t kMaxPemBytes = 64u << 10;
inline constexpr size_t kMaxTpmPublicBytes = 1024;        // TPM2B_PUBLIC
inline constexpr size_t kMaxTpmNameBytes = 2 + 64;
inline constexpr size_t kMaxSpkiBytes = 2048;
inline constexpr size_t kMaxSecretBytes = 64;
inline constexpr size_t kMaxEventsPerBatch = 1000;
inline constexpr size_t kMaxSealedEventBytes = 64u << 10;
// Priority 0 (attestation) messages carry an offline EvidenceSubmission
// (docs/api.md "Offline reports"), which may hold an IMA log slice.
inline constexpr size_t kMaxSealedReportBytes = 2u << 20;
inline constexpr size_t kMaxFindings = 10000;
inline constexpr size_t kChallengeNonceBytes = 32;

// SHA-256(nonce || SHA-256(spki_der)): what the node's TPM quotes.
Bytes QuoteQualifyingData(ByteView challenge_nonce, ByteView tls_spki_der);

// Node id syntax: 1..64 of [A-Za-z0-9._-] (the same as bundle targets).
Status ValidateNodeId(std::string_view id, std::string_view field = "node_id");

// POST /v1/register
struct RegisterRequest {
  std::string node_id;
  std::string ek_cert_pem;   // the TPM's EK certificate
  Bytes ek_public;           // marshalled TPM2B_PUBLIC of the EK
  Bytes ak_public;           // marshalled TPM2B_PUBLIC of the AK
  Bytes ak_name;             // the AK's TPM name (nameAlg || digest)
  Bytes node_signing_key;    // Ed25519 public key (32 bytes): signs events
  std::map<std::string, std::string> labels;  // "group" selects reference values
};
// 201 answer to RegisterRequest: TPM2_ActivateCredential's inputs.
struct RegisterChallenge {
  std::string registration_id;
  Bytes credential_blob;     // TPM2B_ID_OBJECT with its size prefix
  Bytes encrypted_secret;    // TPM2B_ENCRYPTED_SECRET with its size prefix
  int64_t expires_at = 0;    // seconds since the epoch
};
// POST /v1/activate
struct ActivateRequest {
  std::string registration_id;
  Bytes secret;              // what ActivateCredential returned
};
// POST /v1/challenge
struct ChallengeRequest {
  std::string node_id;
};
struct Challenge {
  std::string nonce_id;
  Bytes nonce;               // kChallengeNonceBytes random bytes
  int64_t expires_at = 0;
  // The IMA entry the node's log should start at (EvidenceEventLog::
  // start_entry): where the last passing appraisal stopped. 0: the whole
  // log. JSON "ima_offset", left out when 0 (absent reads as 0).
  uint64_t ima_offset = 0;
};
// POST /v1/evidence
struct EvidenceSubmission {
  std::string nonce_id;      // empty iff offline
  attest::Evidence evidence; // decoded (and wire-checked) by DecodeEvidenceSubmission
  Bytes tls_public_key_spki_der;
  std::optional<std::string> csr_pem;  // PKCS#10 for the TLS key: ask for a client certificate
  // A quote the node took while the verifier was unreachable, over a nonce
  // of its own: appraised for continuity (counters, clock), never for
  // freshness, and never earns a certificate.
  bool offline = false;
};
struct VerdictResponse {
  std::string verdict_id;
  bool pass = false;
  bool offline = false;
  std::vector<attest::Finding> findings;
  std::optional<std::string> client_cert_pem;
  int64_t cert_expires_at = 0;  // 0 when no certificate was issued
  // The IMA entry the verifier's stored state now continues from: what the
  // next challenge's ima_offset will be (a node keeps it for offline
  // quotes). JSON "ima_offset", left out when 0.
  uint64_t ima_offset = 0;
};
// GET /v1/nodes/{id}, /v1/admin/nodes
struct NodeStatus {
  std::string node_id;
  std::string state;         // "pending", "active", "revoked"
  std::map<std::string, std::string> labels;
  int64_t registered_at = 0;
  int64_t last_verdict_at = 0;  // 0: never appraised
  bool last_pass = false;
  int64_t cert_expires_at = 0;
};
struct NodeList {
  std::vector<NodeStatus> nodes;
};
// GET /v1/nodes/{id}/verdicts
struct VerdictSummary {
  std::string verdict_id;
  int64_t time = 0;
  bool pass = false;
  bool offline = false;
  size_t failures = 0;
  std::string summary;       // the first failure's check and message
};
struct VerdictHistory {
  std::vector<VerdictSummary> verdicts;  // newest first
};
// POST /v1/events. `sealed` is crypto_box_seal to the verifier's X25519 key
// of a signed event (events.h).
struct EventMessage {
  std::string id;            // unique per node (uuid-like), the dedupe key
  uint64_t seq = 0;
  int priority = 0;          // 0 attestation, 1 event, 2 telemetry
  Bytes sealed;
};
struct EventBatch {
  std::vector<EventMessage> messages;
};
struct EventRejection {
  std::string id;
  std::string reason;
};
struct EventAck {
  std::vector<std::string> accepted_ids;
  std::vector<std::string> duplicate_ids;
  std::vector<EventRejection> rejected;  // could not be opened or verified
};
// GET /v1/bundle (and the admin publish answer)
struct BundleInfo {
  uint64_t version = 0;
  std::string sha256;        // of the bundle file; also the ETag (quoted)
  uint64_t size = 0;
};
// GET /v1/verifier-info
struct VerifierInfo {
  int api_version = kApiVersion;
  Bytes x25519_public_key;   // 32 bytes: seal events to this
  std::string node_ca_pem;   // the CA that issues node client certificates
};
struct ErrorResponse {
  std::string error;
  // 409 to POST /v1/evidence only: the evidence's incremental IMA log can't
  // continue from the verifier's state (e.g. the node rebooted); ask for a
  // new challenge and send the whole log (start_entry 0). JSON
  // "full_log_required": true, left out when false.
  bool full_log_required = false;
  // A machine-readable reason, when the client should act on it (JSON
  // "code", left out when empty; at most 64 bytes of a-z 0-9 _):
  //   kErrorUnknownNode (404): the verifier has no record of the node (its
  //     database was restored or wiped, or the node was deleted); the node
  //     may register again with its existing TPM identity.
  //   kErrorRevoked (403): an operator revoked the node; it must not
  //     register again (the verifier refuses it).
  std::string code;
};
inline constexpr std::string_view kErrorUnknownNode = "unknown_node";
inline constexpr std::string_view kErrorRevoked = "revoked";

// One line for a failing finding, as verdict summaries and the agent's
// attestation.verdict reasons show it: "check: message", and for a finding
// about a measured file "check: <path>: message (expected sha256:0123456789ab…,
// got sha256:…)". The path and digests come from the node (attacker-
// controlled): control characters, backslashes and bytes that are not
// printable ASCII are written as \xNN, the path is cut to kMaxReasonPathBytes
// (head and tail kept, "..." between), digests to their first 12 hex
// digits; the whole line is at most kMaxReasonBytes. Safe to log and to put
// in JSON.
inline constexpr size_t kMaxReasonPathBytes = 200;
inline constexpr size_t kMaxReasonBytes = 512;
std::string FindingReason(const attest::Finding& f);

std::string EncodeRegisterRequest(const RegisterRequest& m);
StatusOr<RegisterRequest> DecodeRegisterRequest(std::string_view json);
std::string EncodeRegisterChallenge(const RegisterChallenge& m);
StatusOr<RegisterChallenge> DecodeRegisterChallenge(std::string_view json);
std::string EncodeActivateRequest(const ActivateRequest& m);
StatusOr<ActivateRequest> DecodeActivateRequest(std::string_view json);
std::string EncodeChallengeRequest(const ChallengeRequest& m);
StatusOr<ChallengeRequest> DecodeChallengeRequest(std::string_view json);
std::string EncodeChallenge(const Challenge& m);
StatusOr<Challenge> DecodeChallenge(std::string_view json);
// Fails (kInvalidArgument) only when the evidence cannot be encoded.
StatusOr<std::string> EncodeEvidenceSubmission(const EvidenceSubmission& m);
StatusOr<EvidenceSubmission> DecodeEvidenceSubmission(std::string_view json);
std::string EncodeVerdictResponse(const VerdictResponse& m);
StatusOr<VerdictResponse> DecodeVerdictResponse(std::string_view json);
std::string EncodeNodeStatus(const NodeStatus& m);
StatusOr<NodeStatus> DecodeNodeStatus(std::string_view json);
std::string EncodeNodeList(const NodeList& m);
StatusOr<NodeList> DecodeNodeList(std::string_view json);
std::string EncodeVerdictHistory(const VerdictHistory& m);
StatusOr<VerdictHistory> DecodeVerdictHistory(std::string_view json);
std::string EncodeEventBatch(const EventBatch& m);
StatusOr<EventBatch> DecodeEventBatch(std::string_view json);
std::string EncodeEventAck(const EventAck& m);
StatusOr<EventAck> DecodeEventAck(std::string_view json);
std::string EncodeBundleInfo(const BundleInfo& m);
StatusOr<BundleInfo> DecodeBundleInfo(std::string_view json);
std::string EncodeVerifierInfo(const VerifierInfo& m);
StatusOr<VerifierInfo> DecodeVerifierInfo(std::string_view json);
std::string EncodeErrorResponse(const ErrorResponse& m);
StatusOr<ErrorResponse> DecodeErrorResponse(std::string_view json);

}  // namespace edgeward::cloud
