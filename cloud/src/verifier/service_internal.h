// Shared between the Service's implementation files.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "edgeward/attest/appraisal.h"
#include "edgeward/attest/reference.h"
#include "edgeward/bundle/root.h"
#include "edgeward/cloud/verifier.h"
#include "edgeward/crypto/x509.h"

namespace edgeward::cloud {

// What AppraiseAndRecord decided.
struct AppraisalOutcome {
  // An online submission whose incremental IMA log can't continue from the
  // stored state: nothing was recorded; `reason` says why.
  bool full_log_required = false;
  std::string reason;
  VerdictResponse response;  // otherwise: the recorded verdict
};

struct Service::Impl {
  VerifierConfig config;
  std::unique_ptr<Storage> storage;
  std::optional<NodeCa> ca;
  std::vector<crypto::Certificate> ek_trusted;  // the whole EK CA bundle (roots and intermediates)
  std::optional<X25519KeyPair> seal_key;
  std::optional<bundle::RootDocument> bundle_root;

  // Parsed reference values per group, keyed by the YAML text they came
  // from so that a change made by another verifier process is seen.
  std::mutex ref_mu;
  std::unordered_map<std::string, std::pair<std::string, std::shared_ptr<const attest::ReferenceValues>>> refs;

  StatusOr<std::shared_ptr<const attest::ReferenceValues>> Reference(const std::string& group);
  // The node's stored appraisal state, decoded; nullopt when it has none.
  StatusOr<std::optional<attest::AppraisalState>> LoadState(const std::string& node_id);
  // Appraises a submission from the active `node` against its stored state
  // and reference values, records the verdict and the new state, and (on a
  // fresh pass with a CSR) issues the client certificate. Offline
  // submissions (sub.offline, expected_nonce = the node's own) get a
  // continuity appraisal: recorded as offline, never a certificate.
  StatusOr<AppraisalOutcome> AppraiseAndRecord(const NodeRecord& node, const EvidenceSubmission& sub,
                                               ByteView expected_nonce, int64_t now);
};

// The IMA entry the stored state continues from (0: none, the whole log).
uint64_t ImaOffset(const std::optional<attest::AppraisalState>& state);

int64_t NowSeconds();
// 16 random bytes as 32 hex digits.
StatusOr<std::string> RandomId();
HttpReply Json(int status, std::string body);
HttpReply Error(int status, std::string_view reason);
// An error the client acts on: ErrorResponse.code (kErrorUnknownNode, kErrorRevoked).
HttpReply ErrorWithCode(int status, std::string_view reason, std::string_view code);
// The answer to a node the verifier has no record of (404 unknown_node), or
// that is revoked (403 revoked), or not active yet (403); nullopt when
// `node` is active.
std::optional<HttpReply> RefuseInactiveNode(const std::optional<NodeRecord>& node, const std::string& node_id);
// 400/401/403/404/409/413/500 from a Status code.
HttpReply ErrorFromStatus(const Status& s);
std::string NodeGroup(const NodeRecord& node);

}  // namespace edgeward::cloud
