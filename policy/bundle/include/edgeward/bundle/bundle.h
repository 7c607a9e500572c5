// Policy bundles: the container, its signed manifest, building and signing
// (docs/bundles.md "Bundle file").
//
//   "EWBUNDL1"
//   u32be signed_len  || canonical JSON manifest (the signed bytes)
//   u32be payload_len || file contents concatenated in manifest order
//   u32be sigs_len    || canonical JSON array [{"keyid","sig"}]
//
// The manifest carries version, issued_at, expires_at, targets and, per
// file, its path, size and SHA-256: the signature over the manifest covers
// every payload byte. Signatures sit outside the signed bytes, so signing
// appends. Nothing outside the signed bytes influences what is applied
// (the signature block only decides whether it is applied).
//
// Decoding is total: any deviation (truncation, trailing bytes, a size or
// hash that disagrees, a path outside policies/ rules/ reference/ workloads/, limits)
// → kInvalidArgument naming the byte offset or field path.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/bundle/root.h"
#include "edgeward/crypto/ed25519.h"

namespace edgeward::bundle {

inline constexpr std::string_view kBundleMagic = "EWBUNDL1";
inline constexpr size_t kMaxFiles = 10000;
inline constexpr size_t kMaxFileBytes = 4u << 20;      // one file
inline constexpr size_t kMaxPayloadBytes = 64u << 20;  // all files
inline constexpr size_t kMaxManifestBytes = 4u << 20;
inline constexpr size_t kMaxSignatureBlockBytes = 64u << 10;
inline constexpr size_t kMaxPathDepth = 4;
inline constexpr size_t kMaxPathBytes = 255;
// Upper bound of a whole bundle file (for bounded reads).
inline constexpr size_t kMaxBundleBytes =
    8 + 12 + kMaxManifestBytes + kMaxPayloadBytes + kMaxSignatureBlockBytes;

// The top directory of a file's path says what it is.
enum class FileKind { kPolicy, kRules, kReference, kWorkload };
std::string_view FileKindName(FileKind kind);  // "policies", "rules", "reference", "workloads"

struct BundleFile {
  std::string path;  // "policies/web.yaml"
  FileKind kind = FileKind::kPolicy;
  uint64_t size = 0;
  std::string sha256;  // lowercase hex
  size_t offset = 0;   // into Bundle::payload
};

// Who a bundle is for. A node matches when `all`, or its id is in `nodes`,
// or `labels` is non-empty and the node has every one of them.
struct Targets {
  bool all = false;
  std::vector<std::string> nodes;
  std::map<std::string, std::string> labels;
};

struct NodeIdentity {
  std::string id;
  std::map<std::string, std::string> labels;
};

bool TargetsMatch(const Targets& targets, const NodeIdentity& node);
// "all", or a comma list of node=ID and label.KEY=VALUE → kInvalidArgument on
// anything else, an empty list, or "all" mixed with others.
StatusOr<Targets> ParseTargetSelector(std::string_view selector);
std::string FormatTargets(const Targets& targets);
// Node id / label syntax: [A-Za-z0-9._-], ids and keys 1..64, values 0..64.
Status ValidateNodeId(std::string_view id);
Status ValidateLabel(std::string_view key, std::string_view value);

struct BundleManifest {
  uint64_t version = 0;  // >= 1; a sequence number (docs/bundles.md)
  int64_t issued_at = 0;
  int64_t expires_at = 0;  // > issued_at
  Targets targets;
  std::vector<BundleFile> files;  // paths unique, in payload order
};

// A decoded bundle. Plain data, copyable.
struct Bundle {
  BundleManifest manifest;
  std::string signed_bytes;  // canonical manifest JSON
  std::string payload;
  std::vector<Signature> signatures;
  std::string digest;  // SHA-256 hex of signed_bytes: the bundle's identity

  std::string_view Content(const BundleFile& f) const {
    return std::string_view(payload).substr(f.offset, f.size);
  }
  const BundleFile* Find(std::string_view path) const;
};

// A path as a bundle may carry it: relative, components of [A-Za-z0-9._-]+
// other than "." and "..", at most kMaxPathDepth deep and kMaxPathBytes
// long, under policies/, rules/, reference/ or workloads/ and not the
// directory itself.
StatusOr<FileKind> ValidateBundlePath(std::string_view path);

StatusOr<Bundle> DecodeBundle(ByteView data);
Bytes EncodeBundle(const Bundle& bundle);

// Builds an unsigned bundle. `files` (path → contents) are ordered by path.
StatusOr<Bundle> MakeBundle(uint64_t version, int64_t issued_at, int64_t expires_at, const Targets& targets,
                            const std::map<std::string, std::string>& files);
// Reads every regular file under DIR/policies, DIR/rules, DIR/reference,
// DIR/workloads.
// Any other entry at the top of DIR, a symlink, a special file or a path
// the format can't carry → kInvalidArgument naming it.
StatusOr<Bundle> MakeBundleFromDir(const std::string& dir, uint64_t version, int64_t issued_at,
                                   int64_t expires_at, const Targets& targets);

// Appends a signature by `key`. A key that already signed → kAlreadyExists.
Status SignBundle(Bundle& bundle, const crypto::Ed25519SigningKey& key);

// What changed between two bundles, per kind (hot reload: restart only the
// workloads whose policy changed). Paths sorted.
struct KindChanges {
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::string> changed;
  bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};
struct ChangeSet {
  std::map<FileKind, KindChanges> by_kind;  // only kinds with changes
  bool empty() const { return by_kind.empty(); }
};
ChangeSet ChangedFiles(const Bundle& old_bundle, const Bundle& next);

}  // namespace edgeward::bundle
