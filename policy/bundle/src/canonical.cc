#include "internal/canonical.h"

#include "edgeward/bundle/time.h"

namespace edgeward::bundle::internal {
namespace {

// Nesting depth of raw JSON text, strings skipped. Bounding it before
// parsing keeps hostile input ("[[[[...") from exhausting the stack in any
// recursive step (nlohmann's dump and destructor recurse).
Status CheckDepth(std::string_view text, const std::string& what) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) {
        return InvalidArgument(what + ": byte " + std::to_string(i) + ": nesting deeper than " +
                               std::to_string(kMaxJsonDepth) + " levels");
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return Status::Ok();
}

// Only the JSON types the format allows, everywhere in the tree.
Status CheckTypes(const Json& j, const std::string& path, const std::string& what) {
  switch (j.type()) {
    case Json::value_t::object:
      for (const auto& [k, v] : j.items()) EW_RETURN_IF_ERROR(CheckTypes(v, Field(path, k.c_str()), what));
      return Status::Ok();
    case Json::value_t::array: {
      size_t i = 0;
      for (const auto& v : j) EW_RETURN_IF_ERROR(CheckTypes(v, Index(path, i++), what));
      return Status::Ok();
    }
    case Json::value_t::string:
    case Json::value_t::boolean:
    case Json::value_t::number_unsigned:
      return Status::Ok();
    case Json::value_t::number_integer:
      return InvalidArgument(what + ": field " + (path.empty() ? "<top>" : path) + ": negative numbers are not allowed");
    case Json::value_t::number_float:
      return InvalidArgument(what + ": field " + (path.empty() ? "<top>" : path) + ": fractional numbers are not allowed");
    default:
      return InvalidArgument(what + ": field " + (path.empty() ? "<top>" : path) + ": null and binary values are not allowed");
  }
}

const Json* Find(const Json& parent, const char* key) {
  if (!parent.is_object()) return nullptr;
  auto it = parent.find(key);
  return it == parent.end() ? nullptr : &*it;
}

}  // namespace

StatusOr<std::string> Serialize(const Json& j) {
  try {
    return j.dump();
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("cannot serialize JSON: ") + e.what());
  }
}

StatusOr<Json> ParseCanonical(std::string_view text, const std::string& what) {
  EW_RETURN_IF_ERROR(CheckDepth(text, what));
  Json j;
  try {
    j = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    return InvalidArgument(what + ": byte " + std::to_string(e.byte) + ": not JSON: " + e.what());
  } catch (const std::exception& e) {
    return InvalidArgument(what + ": not JSON: " + e.what());
  }
  EW_RETURN_IF_ERROR(CheckTypes(j, "", what));
  EW_ASSIGN_OR_RETURN(std::string again, Serialize(j));
  if (again != text) {
    size_t at = 0;
    while (at < again.size() && at < text.size() && again[at] == text[at]) ++at;
    return InvalidArgument(what + ": byte " + std::to_string(at) +
                           ": not in canonical form (keys sorted, no whitespace, no duplicate keys, "
                           "minimal escapes)");
  }
  return j;
}

Status Reader::Error(const std::string& path, const std::string& why) const {
  return InvalidArgument(what_ + ": field " + path + ": " + why);
}

Status Reader::ExactKeys(const Json& j, const std::string& path, std::initializer_list<const char*> keys) const {
  if (!j.is_object()) return Error(path, "must be an object");
  for (const char* k : keys) {
    if (!j.contains(k)) return Error(Field(path, k), "missing");
  }
  for (const auto& [k, v] : j.items()) {
    bool known = false;
    for (const char* want : keys) known = known || k == want;
    if (!known) return Error(Field(path, k.c_str()), "unknown field");
  }
  return Status::Ok();
}

StatusOr<const Json*> Reader::Object(const Json& parent, const std::string& path, const char* key) const {
  const Json* found = Find(parent, key);
  if (found == nullptr) return Error(Field(path, key), "missing");
  const Json& j = *found;
  if (!j.is_object()) return Error(Field(path, key), "must be an object");
  return &j;
}

StatusOr<const Json*> Reader::Array(const Json& parent, const std::string& path, const char* key,
                                    size_t max_items) const {
  const Json* found = Find(parent, key);
  if (found == nullptr) return Error(Field(path, key), "missing");
  const Json& j = *found;
  if (!j.is_array()) return Error(Field(path, key), "must be an array");
  if (j.size() > max_items) {
    return Error(Field(path, key), std::to_string(j.size()) + " items (at most " + std::to_string(max_items) + ")");
  }
  return &j;
}

StatusOr<std::string> Reader::StringValue(const Json& j, const std::string& path, size_t max_len) const {
  if (!j.is_string()) return Error(path, "must be a string");
  const std::string& s = j.get_ref<const std::string&>();
  if (s.size() > max_len) return Error(path, "longer than " + std::to_string(max_len) + " bytes");
  return s;
}

StatusOr<std::string> Reader::String(const Json& parent, const std::string& path, const char* key,
                                     size_t max_len) const {
  const Json* found = Find(parent, key);
  if (found == nullptr) return Error(Field(path, key), "missing");
  return StringValue(*found, Field(path, key), max_len);
}

StatusOr<uint64_t> Reader::Uint(const Json& parent, const std::string& path, const char* key) const {
  const Json* found = Find(parent, key);
  if (found == nullptr) return Error(Field(path, key), "missing");
  const Json& j = *found;
  if (!j.is_number_unsigned()) return Error(Field(path, key), "must be a non-negative integer");
  return j.get<uint64_t>();
}

StatusOr<bool> Reader::Bool(const Json& parent, const std::string& path, const char* key) const {
  const Json* found = Find(parent, key);
  if (found == nullptr) return Error(Field(path, key), "missing");
  const Json& j = *found;
  if (!j.is_boolean()) return Error(Field(path, key), "must be true or false");
  return j.get<bool>();
}

StatusOr<int64_t> Reader::Time(const Json& parent, const std::string& path, const char* key) const {
  EW_ASSIGN_OR_RETURN(std::string text, String(parent, path, key, 32));
  auto t = ParseRfc3339(text);
  if (!t.ok()) return Error(Field(path, key), t.status().message());
  return *t;
}

}  // namespace edgeward::bundle::internal

#include "edgeward/base/bytes.h"
#include "internal/sig_input.h"

namespace edgeward::bundle::internal {

StatusOr<std::vector<Signature>> ReadSignatures(const Reader& r, const Json& array, const std::string& path) {
  if (!array.is_array()) return r.Error(path, "must be an array");
  if (array.size() > kMaxSignatures) {
    return r.Error(path, std::to_string(array.size()) + " signatures (at most " + std::to_string(kMaxSignatures) + ")");
  }
  std::vector<Signature> out;
  for (size_t i = 0; i < array.size(); ++i) {
    std::string at = Index(path, i);
    EW_RETURN_IF_ERROR(r.ExactKeys(array[i], at, {"keyid", "sig"}));
    Signature s;
    EW_ASSIGN_OR_RETURN(s.key_id, r.String(array[i], at, "keyid", 64));
    if (!IsKeyIdSyntax(s.key_id)) return r.Error(Field(at, "keyid"), "not a key id (16 lowercase hex digits)");
    EW_ASSIGN_OR_RETURN(std::string b64, r.String(array[i], at, "sig", 128));
    auto raw = Base64Decode(b64);
    if (!raw.ok()) return r.Error(Field(at, "sig"), raw.status().message());
    if (raw->size() != crypto::kEd25519SignatureSize) return r.Error(Field(at, "sig"), "not a 64-byte signature");
    s.sig = std::move(*raw);
    out.push_back(std::move(s));
  }
  return out;
}

Json SignaturesToJson(const std::vector<Signature>& sigs) {
  Json arr = Json::array();
  for (const Signature& s : sigs) arr.push_back(Json{{"keyid", s.key_id}, {"sig", Base64Encode(s.sig)}});
  return arr;
}

}  // namespace edgeward::bundle::internal
