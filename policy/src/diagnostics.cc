#include "diagnostics.h"

#include <algorithm>
#include <charconv>

#include "edit_distance.h"

namespace edgeward::policy::internal {

void Diagnostics::Add(const YAML::Mark& mark, std::string_view field, std::string_view text) {
  Add(Where(mark), field, text);
}

void Diagnostics::Add(const SourceLocation& where, std::string_view field, std::string_view text) {
  std::string line = file_ + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": ";
  if (!field.empty()) {
    line += "field ";
    line += field;
    line += ": ";
  }
  line += text;
  errors_.push_back(Error{where.line, where.column, errors_.size(), std::move(line)});
}

bool Diagnostics::Spend(const YAML::Mark& mark, size_t n) {
  if (over_budget_) return false;
  spent_ += n;
  if (spent_ <= kMaxValues) return true;
  over_budget_ = true;
  Add(mark, "", "policy too large: more than " + std::to_string(kMaxValues) + " values (counting aliases)");
  return false;
}

SourceLocation Diagnostics::Where(const YAML::Mark& mark) const {
  SourceLocation loc;
  loc.file = file_;
  // yaml-cpp marks are 0-based; a null mark (-1) becomes 0, "unknown".
  loc.line = mark.line >= 0 ? mark.line + 1 : 0;
  loc.column = mark.column >= 0 ? mark.column + 1 : 0;
  return loc;
}

Status Diagnostics::ToStatus() const {
  if (errors_.empty()) return Status::Ok();
  std::vector<const Error*> sorted;
  sorted.reserve(errors_.size());
  for (const Error& e : errors_) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](const Error* a, const Error* b) {
    if (a->line != b->line) return a->line < b->line;
    if (a->column != b->column) return a->column < b->column;
    return a->seq < b->seq;
  });
  std::string msg;
  size_t shown = 0;
  for (const Error* e : sorted) {
    if (shown == kMaxReported) break;
    if (!msg.empty()) msg += '\n';
    msg += e->text;
    ++shown;
  }
  if (sorted.size() > shown) {
    msg += "\n" + file_ + ": " + std::to_string(sorted.size() - shown) + " more errors not shown";
  }
  return InvalidArgument(std::move(msg));
}

std::string Field(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string s(parent);
  s += '.';
  s += key;
  return s;
}

std::string Index(std::string_view parent, size_t i) {
  return std::string(parent) + "[" + std::to_string(i) + "]";
}

namespace {
// Keeps user text printable and short inside error messages.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  if (s.size() > 80) out += "...";
  return out;
}
}  // namespace

std::string WithSuggestion(std::string_view word, std::string_view suggestion) {
  std::string s = "'" + Printable(word) + "'";
  if (!suggestion.empty()) s += " (did you mean '" + std::string(suggestion) + "'?)";
  return s;
}

MapReader::MapReader(const YAML::Node& node, std::string path, std::vector<std::string_view> known,
                     Diagnostics& diag)
    : path_(std::move(path)), mark_(node.Mark()), diag_(diag) {
  if (node.IsNull()) {
    is_map_ = true;  // "key:" with nothing after it: an empty map
    return;
  }
  if (!node.IsMap()) {
    diag_.Add(mark_, path_.empty() ? "<document>" : path_, "expected a mapping");
    return;
  }
  is_map_ = true;
  if (!diag_.Spend(mark_, node.size())) return;
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies: yaml-cpp's iterator hands out a temporary pair.
    const YAML::detail::iterator_value kv = *it;
    const YAML::Node key = kv.first;
    const YAML::Node value = kv.second;
    if (!key.IsScalar()) {
      diag_.Add(key.Mark(), path_, "a mapping key must be a plain name");
      continue;
    }
    const std::string& k = key.Scalar();
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      diag_.Add(key.Mark(), Field(path_, Printable(k)),
                "unknown key " + WithSuggestion(k, ClosestMatch(k, known)));
      continue;
    }
    const bool dup = std::any_of(entries_.begin(), entries_.end(),
                                 [&](const auto& e) { return e.first == k; });
    if (dup) {
      diag_.Add(key.Mark(), Field(path_, k), "duplicate key '" + k + "'");
      continue;
    }
    entries_.emplace_back(k, value);
  }
}

std::optional<YAML::Node> MapReader::Get(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::optional<YAML::Node> MapReader::Required(std::string_view key) const {
  auto v = Get(key);
  if (!v && is_map_) diag_.Add(mark_, Path(key), "missing required key '" + std::string(key) + "'");
  return v;
}

std::optional<std::string> ReadString(const YAML::Node& node, std::string_view path, Diagnostics& diag) {
  if (node.IsNull()) {
    diag.Add(node.Mark(), path, "expected a value, found nothing");
    return std::nullopt;
  }
  if (!node.IsScalar()) {
    diag.Add(node.Mark(), path, node.IsMap() ? "expected a value, found a mapping"
                                             : "expected a value, found a list");
    return std::nullopt;
  }
  return node.Scalar();
}

std::vector<YAML::Node> ReadSequence(const YAML::Node& node, std::string_view path, Diagnostics& diag) {
  std::vector<YAML::Node> out;
  if (node.IsNull()) return out;
  if (!node.IsSequence()) {
    diag.Add(node.Mark(), path, "expected a list");
    return out;
  }
  if (!diag.Spend(node.Mark(), node.size())) return out;
  for (const YAML::Node& item : node) out.push_back(item);
  return out;
}

std::optional<uint64_t> ParseUintText(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<uint64_t> ReadUint(const YAML::Node& node, std::string_view path, uint64_t min,
                                 uint64_t max, Diagnostics& diag) {
  auto s = ReadString(node, path, diag);
  if (!s) return std::nullopt;
  auto v = ParseUintText(*s);
  if (!v) {
    diag.Add(node.Mark(), path, "expected a whole number, found " + WithSuggestion(*s, ""));
    return std::nullopt;
  }
  if (*v < min || *v > max) {
    diag.Add(node.Mark(), path,
             std::to_string(*v) + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return std::nullopt;
  }
  return v;
}

}  // namespace edgeward::policy::internal
