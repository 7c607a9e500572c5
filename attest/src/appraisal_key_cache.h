// Private: a process-wide cache of AK public keys, keyed by the exact
// TPM2B_PUBLIC bytes. Building an EC or RSA key validates it (for EC a
// scalar multiplication) and parsing a PEM goes through OpenSSL's decoder
// framework; each costs more than the signature check itself, and a verifier
// sees the same AK again and again. Caching a pure function of the bytes is
// safe: a different TPM2B_PUBLIC is a different entry.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "edgeward/attest/tpm_wire.h"
#include "edgeward/crypto/public_key.h"

namespace edgeward::attest::internal {

class CachedAk {
 public:
  explicit CachedAk(StatusOr<crypto::PublicKey> key) : key_(std::move(key)) {}
  // The AK's key, or why ak.public has none. Immutable.
  const StatusOr<crypto::PublicKey>& key() const { return key_; }
  // Whether `pem` was already found to encode key().
  bool KnownMatchingPem(const std::string& pem) const {
    std::lock_guard<std::mutex> lock(mu_);
    return !matching_pem_.empty() && matching_pem_ == pem;
  }
  void SetMatchingPem(const std::string& pem) const {
    std::lock_guard<std::mutex> lock(mu_);
    matching_pem_ = pem;
  }

 private:
  const StatusOr<crypto::PublicKey> key_;
  mutable std::mutex mu_;
  mutable std::string matching_pem_;
};

// Returns the entry for `ak_public` (decoded as `ak`), building it on a
// miss. Thread-safe; the entry stays valid while held even if the cache
// evicts it.
std::shared_ptr<const CachedAk> LookupAk(ByteView ak_public, const TpmtPublic& ak);

}  // namespace edgeward::attest::internal
