// CloudClient: the node's side of the verifier's REST API v1 (cloud/api.h,
// docs/api.md), over HttpsClient (mutual TLS 1.3 once the node has a
// certificate). The flows:
//   Register()   POST /v1/register with EK certificate/public, AK public and
//                name, and the node's Ed25519 event key; TPM2_ActivateCredential
//                on the answer; POST /v1/activate with the recovered secret.
//   Attest()     POST /v1/challenge; quote with qualifying data
//                QuoteQualifyingData(nonce, TLS SPKI) (binds the TLS key);
//                POST /v1/evidence with a CSR; stores the issued certificate
//                in NodeIdentity and presents it from then on. The IMA log
//                is sent from the challenge's ima_offset (only entries the
//                verifier has not yet seen pass); when the verifier answers
//                409 full_log_required (e.g. after a reboot), once more with
//                a new challenge and the whole log.
//   AttestOffline() while the verifier can't be reached: a quote over a
//                nonce of the node's own, labelled offline (quote time in
//                the TPM clock it signs), appended to the spool as an
//                attestation-priority message; SendEvents delivers it and
//                the verifier appraises it for continuity, not freshness.
//                Deliver the spool before the next Attest(): an offline
//                quote older than the verifier's state breaks continuity.
//   SendEvents() drains the spool in sequence order: each message signed and
//                sealed (cloud/events.h) to the verifier's X25519 key, sent
//                in batches, acknowledged in the spool once the verifier
//                answered accepted or duplicate. Failures are retried with
//                exponential backoff; a retry resends the same ids, which
//                the verifier deduplicates.
//   FetchBundle() GET /v1/bundle with If-None-Match.
// Errors: transport → HttpsClient's codes; an HTTP error answer →
// kPermissionDenied (401/403), kFailedPrecondition (409), kNotFound (404
// with code unknown_node: the verifier has no record of this node),
// kInvalidArgument (other 4xx) or kUnavailable (5xx), each naming the
// endpoint, the status and the verifier's reason; last_error_code() keeps
// the verifier's machine-readable code (cloud::ErrorResponse::code) of the
// last call, so a caller can tell "register again" (unknown_node) from
// "revoked" without parsing messages. Not thread-safe; borrows the Tpm,
// identity, signing key (all must outlive it).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "edgeward/attest_node/collect.h"
#include "edgeward/base/status.h"
#include "edgeward/channel/https_client.h"
#include "edgeward/channel/node_identity.h"
#include "edgeward/channel/spool.h"
#include "edgeward/cloud/api.h"
#include "edgeward/crypto/ed25519.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::channel {

struct CloudClientOptions {
  std::string base_url;   // "https://verifier.example:8443" (no trailing slash)
  std::string node_id;
  std::string state_dir;  // AK blob (attest_node/collect.h)
  std::map<std::string, std::string> labels;
  std::string uefi_log_path;  // "" → attest_node's default
  std::string ima_log_path;   // "" → attest_node's default
  size_t events_per_batch = 500;
  int max_attempts = 5;       // per batch, for kUnavailable failures
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10'000};
};

struct SendResult {
  uint64_t sent = 0;        // messages the verifier accepted now
  uint64_t duplicates = 0;  // already had them (an earlier, unacknowledged send)
  uint64_t rejected = 0;    // could not be opened/verified: acked and counted, never resent
  uint64_t batches = 0;
  uint64_t retries = 0;
  uint64_t wire_bytes = 0;  // request bodies sent
};

struct BundleFetch {
  bool not_modified = false;
  std::string etag;
  std::string bundle;  // the bundle file, when modified
};

class CloudClient {
 public:
  CloudClient(CloudClientOptions options, HttpsClient https, tpm::Tpm& tpm, NodeIdentity& identity,
              const crypto::Ed25519SigningKey& signing_key);

  StatusOr<cloud::VerifierInfo> FetchVerifierInfo();
  Status Register();
  // Returns the verdict; on a pass with a certificate, stores and uses it.
  StatusOr<cloud::VerdictResponse> Attest();
  // Quotes offline into `spool` (Priority::kAttestation); returns the
  // spooled message (id, seq). The IMA log starts where the last verdict
  // said the verifier's state continues (0 before any: the whole log).
  StatusOr<SpoolMessage> AttestOffline(Spool& spool);
  // The verifier's IMA continuation point from the last verdict.
  uint64_t ima_offset() const { return ima_offset_; }
  void set_ima_offset(uint64_t offset) { ima_offset_ = offset; }
  // Request body bytes of the last evidence sent or spooled.
  size_t last_evidence_bytes() const { return last_evidence_bytes_; }
  // How often Attest() had to resend the whole IMA log.
  uint64_t full_log_retries() const { return full_log_retries_; }
  StatusOr<SendResult> SendEvents(Spool& spool, const cloud::VerifierInfo& verifier);
  StatusOr<BundleFetch> FetchBundle(const std::string& etag);

  // The verifier's error code (cloud::kErrorUnknownNode, kErrorRevoked, …)
  // from the last HTTP call of any of the methods above; "" when that call
  // succeeded, failed without an answer, or the answer carried no code.
  const std::string& last_error_code() const { return last_error_code_; }

  HttpsClient& https() { return https_; }

 private:
  Status HttpError(const std::string& endpoint, const HttpResponse& r);
  StatusOr<HttpResponse> Call(const std::string& endpoint, const std::string* body, int want_status,
                              const std::vector<std::string>& headers = {});
  StatusOr<cloud::EventBatch> SealBatch(const std::vector<SpoolMessage>& msgs, const cloud::VerifierInfo& verifier);
  attest_node::CollectOptions CollectOptionsFor(Bytes nonce, uint64_t ima_start) const;

  CloudClientOptions options_;
  HttpsClient https_;
  tpm::Tpm& tpm_;
  NodeIdentity& identity_;
  const crypto::Ed25519SigningKey& signing_key_;
  uint64_t ima_offset_ = 0;
  size_t last_evidence_bytes_ = 0;
  uint64_t full_log_retries_ = 0;
  std::string last_error_code_;
};

// The hex form of a spool message id: the EventMessage id on the wire.
std::string MessageIdHex(const MessageId& id);

}  // namespace edgeward::channel
