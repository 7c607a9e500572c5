#include "json_reader.h"

namespace edgeward::cloud::internal {

Status FieldError(std::string_view path, std::string_view problem) {
  return InvalidArgument(std::string(path) + ": " + std::string(problem));
}

StatusOr<json> ParseObject(std::string_view text, std::string_view what, size_t max_bytes) {
  if (text.size() > max_bytes) {
    return ResourceExhausted(std::string(what) + ": body of " + std::to_string(text.size()) +
                             " bytes exceeds the maximum " + std::to_string(max_bytes));
  }
  // Depth is bounded by nlohmann's recursive parser only through the body
  // size; our messages are at most a few levels deep, so refuse deep nesting
  // before parsing rather than risk the stack on hostile input.
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > 64) return InvalidArgument(std::string(what) + ": JSON nested deeper than 64 levels");
    } else if (c == '}' || c == ']') --depth;
  }
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument(std::string(what) + ": not valid JSON");
  if (!j.is_object()) return InvalidArgument(std::string(what) + ": expected a JSON object, got " + j.type_name());
  return j;
}

Status ObjectReader::OnlyKeys(std::initializer_list<std::string_view> allowed) const {
  for (auto it = obj_.begin(); it != obj_.end(); ++it) {
    bool known = false;
    for (std::string_view a : allowed) known = known || it.key() == a;
    if (!known) return FieldError(Path(it.key()), "unknown field");
  }
  return Status::Ok();
}

StatusOr<const json*> ObjectReader::Get(std::string_view key, bool required) const {
  auto it = obj_.find(key);
  if (it == obj_.end() || (it->is_null() && !required)) {
    if (required) return FieldError(Path(key), "missing");
    return static_cast<const json*>(nullptr);
  }
  return &*it;
}

StatusOr<std::string> ObjectReader::String(std::string_view key, size_t max_bytes, bool required) const {
  EW_ASSIGN_OR_RETURN(const json* v, Get(key, required));
  if (v == nullptr) return std::string();
  if (!v->is_string()) return FieldError(Path(key), std::string("expected a string, got ") + v->type_name());
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_bytes) {
    return FieldError(Path(key), std::to_string(s.size()) + " bytes exceeds the maximum " + std::to_string(max_bytes));
  }
  return s;
}

StatusOr<Bytes> ObjectReader::Base64(std::string_view key, size_t max_bytes, bool required) const {
  EW_ASSIGN_OR_RETURN(std::string s, String(key, (max_bytes + 2) / 3 * 4, required));
  auto b = Base64Decode(s);
  if (!b.ok()) return FieldError(Path(key), b.status().message());
  if (b->size() > max_bytes) {
    return FieldError(Path(key), std::to_string(b->size()) + " bytes exceeds the maximum " + std::to_string(max_bytes));
  }
  return std::move(b).value();
}

StatusOr<int64_t> ObjectReader::Int(std::string_view key, bool required) const {
  EW_ASSIGN_OR_RETURN(const json* v, Get(key, required));
  if (v == nullptr) return int64_t{0};
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return FieldError(Path(key), "integer out of range");
    }
    return v->get<int64_t>();
  }
  return FieldError(Path(key), std::string("expected an integer, got ") + v->type_name());
}

StatusOr<uint64_t> ObjectReader::Uint(std::string_view key, bool required) const {
  EW_ASSIGN_OR_RETURN(const json* v, Get(key, required));
  if (v == nullptr) return uint64_t{0};
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  if (v->is_number_integer()) return FieldError(Path(key), "expected a non-negative integer");
  return FieldError(Path(key), std::string("expected an integer, got ") + v->type_name());
}

StatusOr<bool> ObjectReader::Bool(std::string_view key, bool required) const {
  EW_ASSIGN_OR_RETURN(const json* v, Get(key, required));
  if (v == nullptr) return false;
  if (!v->is_boolean()) return FieldError(Path(key), std::string("expected true or false, got ") + v->type_name());
  return v->get<bool>();
}

StatusOr<std::map<std::string, std::string>> ObjectReader::StringMap(std::string_view key, size_t max_entries,
                                                                     size_t max_bytes, bool required) const {
  EW_ASSIGN_OR_RETURN(const json* v, Get(key, required));
  std::map<std::string, std::string> out;
  if (v == nullptr) return out;
  if (!v->is_object()) return FieldError(Path(key), std::string("expected an object, got ") + v->type_name());
  if (v->size() > max_entries) {
    return FieldError(Path(key), std::to_string(v->size()) + " entries exceeds the maximum " +
                                     std::to_string(max_entries));
  }
  for (auto it = v->begin(); it != v->end(); ++it) {
    const std::string p = Path(key) + "." + it.key();
    if (it.key().empty() || it.key().size() > max_bytes) return FieldError(p, "key must be 1.." + std::to_string(max_bytes) + " bytes");
    if (!it->is_string()) return FieldError(p, std::string("expected a string, got ") + it->type_name());
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() > max_bytes) return FieldError(p, "value exceeds " + std::to_string(max_bytes) + " bytes");
    out.emplace(it.key(), s);
  }
  return out;
}

StatusOr<const json*> ObjectReader::Array(std::string_view key, size_t max_items, bool required) const {
  EW_ASSIGN_OR_RETURN(const json* v, Get(key, required));
  if (v == nullptr) return v;
  if (!v->is_array()) return FieldError(Path(key), std::string("expected an array, got ") + v->type_name());
  if (v->size() > max_items) {
    return FieldError(Path(key), std::to_string(v->size()) + " items exceeds the maximum " + std::to_string(max_items));
  }
  return v;
}

StatusOr<const json*> ObjectReader::Object(std::string_view key, bool required) const {
  EW_ASSIGN_OR_RETURN(const json* v, Get(key, required));
  if (v == nullptr) return v;
  if (!v->is_object()) return FieldError(Path(key), std::string("expected an object, got ") + v->type_name());
  return v;
}

}  // namespace edgeward::cloud::internal
