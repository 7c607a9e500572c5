// Strict JSON field readers for the API decoders: every error names the
// field path; nlohmann exceptions never leave this file's callers.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"

namespace edgeward::cloud::internal {

using json = nlohmann::json;

// Parses `text` (at most max_bytes) into an object; `what` names the message.
StatusOr<json> ParseObject(std::string_view text, std::string_view what, size_t max_bytes);

// Reads the members of one JSON object; `path` prefixes every error.
class ObjectReader {
 public:
  ObjectReader(const json& obj, std::string path) : obj_(obj), path_(std::move(path)) {}
  Status OnlyKeys(std::initializer_list<std::string_view> allowed) const;
  StatusOr<std::string> String(std::string_view key, size_t max_bytes, bool required = true) const;
  StatusOr<Bytes> Base64(std::string_view key, size_t max_bytes, bool required = true) const;
  StatusOr<int64_t> Int(std::string_view key, bool required = true) const;
  StatusOr<uint64_t> Uint(std::string_view key, bool required = true) const;
  StatusOr<bool> Bool(std::string_view key, bool required = true) const;
  StatusOr<std::map<std::string, std::string>> StringMap(std::string_view key, size_t max_entries,
                                                         size_t max_bytes, bool required = true) const;
  // nullptr when absent and not required.
  StatusOr<const json*> Array(std::string_view key, size_t max_items, bool required = true) const;
  StatusOr<const json*> Object(std::string_view key, bool required = true) const;
  std::string Path(std::string_view key) const { return path_ + "." + std::string(key); }
  bool Has(std::string_view key) const { return obj_.contains(key); }

 private:
  StatusOr<const json*> Get(std::string_view key, bool required) const;
  const json& obj_;
  std::string path_;
};

Status FieldError(std::string_view path, std::string_view problem);

}  // namespace edgeward::cloud::internal
