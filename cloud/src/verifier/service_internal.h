// Shared between the Service's implementation files.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "edgeward/attest/reference.h"
#include "edgeward/bundle/root.h"
#include "edgeward/cloud/verifier.h"
#include "edgeward/crypto/x509.h"

namespace edgeward::cloud {

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
};

int64_t NowSeconds();
// 16 random bytes as 32 hex digits.
StatusOr<std::string> RandomId();
HttpReply Json(int status, std::string body);
HttpReply Error(int status, std::string_view reason);
// 400/401/403/404/409/413/500 from a Status code.
HttpReply ErrorFromStatus(const Status& s);
std::string NodeGroup(const NodeRecord& node);

}  // namespace edgeward::cloud
