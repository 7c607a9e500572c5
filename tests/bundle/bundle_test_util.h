// Keys, root documents and bundles for the bundle tests, made with the
// library's own builders and real Ed25519 keys.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "edgeward/bundle/bundle.h"
#include "edgeward/bundle/root.h"
#include "edgeward/crypto/ed25519.h"

namespace edgeward::bundle::test {

// 2026-11-23T00:00:00Z and friends.
inline constexpr int64_t kDay = 86400;
inline constexpr int64_t kNow = 1795392000;  // 2026-11-23T00:00:00Z

crypto::Ed25519SigningKey NewKey();

// Three root keys (threshold 2) and two policy keys (threshold `policy_threshold`).
struct Keys {
  std::vector<crypto::Ed25519SigningKey> root;
  std::vector<crypto::Ed25519SigningKey> policy;
};
Keys NewKeys();

RootContent RootContentFor(const Keys& keys, uint64_t version, uint32_t policy_threshold = 1,
                           int64_t expires = kNow + 365 * kDay, int64_t policy_expires = kNow + 180 * kDay);
// Signed by root keys 0 and 1.
RootDocument MakeRoot(const Keys& keys, uint64_t version, uint32_t policy_threshold = 1);

// A bundle with `n` small policies, targets `all` unless given.
Bundle MakeTestBundle(uint64_t version, int n_policies = 2, int64_t issued_at = kNow - kDay,
                      int64_t expires_at = kNow + 30 * kDay, const Targets* targets = nullptr);
// Signed by the given policy keys, encoded.
Bytes SignedBundle(Bundle b, const std::vector<const crypto::Ed25519SigningKey*>& signers);

}  // namespace edgeward::bundle::test
