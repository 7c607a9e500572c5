// Canonical JSON (docs/bundles.md "Canonical bytes"): the one encoding of
// signed documents. Only objects, arrays, strings, non-negative integers and
// booleans; nlohmann::json::dump() spelling (keys sorted, no whitespace).
// A document is accepted only if re-serializing what was parsed gives the
// same bytes, so there is exactly one byte string per meaning.
//
// Private to edgeward::bundle; nothing here throws.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "edgeward/base/status.h"

namespace edgeward::bundle::internal {

using Json = nlohmann::json;

// Deeper than any document we define (bundle manifests nest 4 levels);
// checked on the raw bytes before nlohmann sees them.
inline constexpr int kMaxJsonDepth = 8;

// `what` names the document in errors ("bundle signed manifest", a file).
StatusOr<Json> ParseCanonical(std::string_view text, const std::string& what);
// dump() without exceptions (invalid UTF-8 → kInvalidArgument).
StatusOr<std::string> Serialize(const Json& j);

// Typed field access; errors are "<what>: field <path>: ..." (kInvalidArgument).
class Reader {
 public:
  explicit Reader(std::string what) : what_(std::move(what)) {}
  Status Error(const std::string& path, const std::string& why) const;
  // `j` must be an object with exactly `keys`.
  Status ExactKeys(const Json& j, const std::string& path, std::initializer_list<const char*> keys) const;
  StatusOr<const Json*> Object(const Json& parent, const std::string& path, const char* key) const;
  StatusOr<const Json*> Array(const Json& parent, const std::string& path, const char* key, size_t max_items) const;
  StatusOr<std::string> String(const Json& parent, const std::string& path, const char* key, size_t max_len) const;
  StatusOr<std::string> StringValue(const Json& j, const std::string& path, size_t max_len) const;
  StatusOr<uint64_t> Uint(const Json& parent, const std::string& path, const char* key) const;
  StatusOr<bool> Bool(const Json& parent, const std::string& path, const char* key) const;
  // An RFC 3339 UTC time string → seconds since the epoch.
  StatusOr<int64_t> Time(const Json& parent, const std::string& path, const char* key) const;

 private:
  std::string what_;
};

// Path joiners for error messages: Field("signed", "files") = "signed.files".
inline std::string Field(const std::string& base, const char* key) {
  return base.empty() ? std::string(key) : base + "." + key;
}
inline std::string Index(const std::string& base, size_t i) { return base + "[" + std::to_string(i) + "]"; }

}  // namespace edgeward::bundle::internal

#include <vector>

#include "edgeward/bundle/root.h"

namespace edgeward::bundle::internal {

// A "signatures" array: [{"keyid":..,"sig":base64}], at most kMaxSignatures,
// key ids in key-id syntax, signatures 64 bytes. Duplicates are kept (they
// count once when verified).
StatusOr<std::vector<Signature>> ReadSignatures(const Reader& r, const Json& array, const std::string& path);
Json SignaturesToJson(const std::vector<Signature>& sigs);

}  // namespace edgeward::bundle::internal
