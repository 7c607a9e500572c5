// The root of trust: root.json (docs/bundles.md "Root document").
//
// A root document names the root key set (threshold K of N; kept offline),
// the policy keys that sign bundles (each with its own expiry, threshold),
// and the public keys themselves. It is valid when a threshold of its own
// root keys signed it. A node trusts the root document its operator
// installed; a newer one (rotation) is accepted only if signed by a
// threshold of the CURRENT root keys and a threshold of its own (TUF-style).
//
// Signature input: "edgeward-root-v1\0" || key id || "\0" || signed bytes,
// where the signed bytes are the canonical JSON of the "signed" object.
//
// Errors: malformed input → kInvalidArgument ("FILE: field signed.root.threshold: ...");
// a signature/threshold/version failure → kPermissionDenied; an expired
// document where a current one is needed → kFailedPrecondition.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/ed25519.h"

namespace edgeward::bundle {

inline constexpr size_t kMaxRootBytes = 256 * 1024;
inline constexpr size_t kMaxRootKeys = 64;     // per role, and in the key map
inline constexpr size_t kMaxSignatures = 64;   // on a root document or a bundle

// One signature as stored beside signed bytes (root.json "signatures", the
// bundle container's signature block): the key id and 64 raw bytes.
struct Signature {
  std::string key_id;
  Bytes sig;
};

struct PolicyKey {
  std::string id;
  int64_t expires = 0;  // seconds since the epoch; signatures by it count only before this
};

// The "signed" part, as typed values.
struct RootContent {
  uint64_t version = 0;  // >= 1
  int64_t expires = 0;
  uint32_t root_threshold = 0;
  std::vector<std::string> root_keys;  // key ids, no duplicates
  uint32_t policy_threshold = 0;
  std::vector<PolicyKey> policy_keys;
  std::map<std::string, crypto::Ed25519PublicKey> keys;  // every id above, and only those
};

struct RootDocument {
  RootContent content;
  std::string signed_bytes;  // canonical JSON of "signed"
  std::vector<Signature> signatures;

  const PolicyKey* FindPolicyKey(std::string_view id) const;
};

// Structure only: canonical JSON, schema, every key id equal to its key's
// id, thresholds in 1..number of keys. Signatures are NOT checked here.
// `text` may end in one '\n'.
StatusOr<RootDocument> ParseRootDocument(std::string_view text, const std::string& file_name);
// Validates `content` by the same rules and computes its signed bytes.
StatusOr<RootDocument> MakeRootDocument(const RootContent& content);
// The file form: canonical JSON of {"signatures":[...],"signed":{...}} and "\n".
std::string SerializeRootDocument(const RootDocument& doc);

// Adds a signature by `key`, which must be one of doc's root keys
// (kPermissionDenied otherwise); a key that already signed → kAlreadyExists.
Status SignRootDocument(RootDocument& doc, const crypto::Ed25519SigningKey& key);

// Whether a threshold of `signers`' root keys (their ids and public keys
// from `signers`) signed `doc`. Signatures by one key count once; others
// are ignored. kPermissionDenied: "1 of 2 required root signatures (...)".
Status CheckRootSignatures(const RootDocument& doc, const RootContent& signers, std::string_view role);

// A root document as a node's first trust anchor: structure + signed by a
// threshold of its own root keys.
StatusOr<RootDocument> LoadRootDocument(std::string_view text, const std::string& file_name);

// Rotation from `current` to `next` (already parsed): next.version >
// current.version (kPermissionDenied), a threshold of current's root keys
// and of next's own root keys signed it (kPermissionDenied), and next has
// not expired at `trusted_now` (kFailedPrecondition).
Status VerifyRootUpdate(const RootDocument& current, const RootDocument& next, int64_t trusted_now);

}  // namespace edgeward::bundle
