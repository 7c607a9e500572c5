// Built into edgeward::yaml_input, not edgeward::base (see base/CMakeLists.txt).
#include "edgeward/base/yaml_input.h"

#include <algorithm>
#include <charconv>

namespace edgeward::yaml_input {

Position PositionOf(const YAML::Mark& mark) {
  return Position{mark.line >= 0 ? mark.line + 1 : 0, mark.column >= 0 ? mark.column + 1 : 0};
}

void Diagnostics::Add(const YAML::Mark& mark, std::string_view field, std::string_view text) {
  const Position p = PositionOf(mark);
  Add(p.line, p.column, field, text);
}

void Diagnostics::Add(int line, int column, std::string_view field, std::string_view text) {
  std::string s = file_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  if (!field.empty()) {
    s += "field ";
    s += field;
    s += ": ";
  }
  s += text;
  errors_.push_back(Error{line, column, errors_.size(), std::move(s)});
}

bool Diagnostics::Spend(const YAML::Mark& mark, size_t n) {
  if (over_budget_) return false;
  // Saturating: an unlimited budget must not wrap around.
  spent_ = n > Dialect::kUnlimited - spent_ ? Dialect::kUnlimited : spent_ + n;
  if (spent_ <= dialect_.max_values) return true;
  over_budget_ = true;
  Add(mark, "",
      std::string(dialect_.kind) + " too large: more than " + std::to_string(dialect_.max_values) +
          " values (counting aliases)");
  return false;
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
    if (shown == dialect_.max_reported) break;
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

std::string Index(std::string_view parent, size_t i) { return std::string(parent) + "[" + std::to_string(i) + "]"; }

std::string Printable(std::string_view s) {
  // Control bytes, DEL and non-ASCII (which may hide C1 controls) would
  // reach a terminal or a log line as they are.
  std::string out;
  for (char c : s.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  if (s.size() > 80) out += "...";
  return out;
}

std::string Quote(std::string_view word, std::string_view suggestion) {
  std::string s = "'" + Printable(word) + "'";
  if (!suggestion.empty()) s += " (did you mean '" + std::string(suggestion) + "'?)";
  return s;
}

size_t EditDistance(std::string_view a, std::string_view b, size_t cap) {
  const size_t len_diff = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (len_diff >= cap) return cap;
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    size_t row_min = row[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
      row_min = std::min(row_min, row[j]);
    }
    // Every later row is at least this row's minimum.
    if (row_min >= cap) return cap;
  }
  return std::min(row[b.size()], cap);
}

std::string_view ClosestMatch(std::string_view word, const std::vector<std::string_view>& candidates,
                              size_t max_distance) {
  // Candidates are short names: a long word can't be within a few edits.
  if (word.size() > 256) return {};
  const size_t allowed = std::max<size_t>(1, std::min<size_t>(max_distance, word.size() / 3));
  std::string_view best;
  size_t best_d = allowed + 1;
  for (std::string_view c : candidates) {
    const size_t d = EditDistance(word, c, best_d);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
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
  const Dialect& dialect = diag_.dialect();
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
      const std::string_view best = ClosestMatch(k, known, dialect.max_suggestion_distance);
      std::string msg = "unknown " + std::string(dialect.unknown_key_noun) + " " + Quote(k, best);
      if (best.empty() && dialect.list_known_keys) {
        msg += " (known: ";
        for (size_t i = 0; i < known.size(); ++i) {
          if (i > 0) msg += ", ";
          msg += known[i];
        }
        msg += ")";
      }
      diag_.Add(key.Mark(), Field(path_, Printable(k)), msg);
      continue;
    }
    if (std::any_of(entries_.begin(), entries_.end(), [&](const auto& e) { return e.first == k; })) {
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

std::optional<YAML::Node> MapReader::GetNonNull(std::string_view key) const {
  auto v = Get(key);
  if (v && v->IsNull()) return std::nullopt;
  return v;
}

std::optional<YAML::Node> MapReader::Required(std::string_view key) const {
  auto v = Get(key);
  if (!v && is_map_) {
    diag_.Add(mark_, Path(key),
              diag_.dialect().name_missing_key ? "missing required key '" + std::string(key) + "'"
                                               : std::string("missing (required)"));
  }
  return v;
}

std::optional<std::string> ReadString(const YAML::Node& node, std::string_view path, Diagnostics& diag) {
  if (node.IsNull()) {
    diag.Add(node.Mark(), path, "expected a value, found nothing");
    return std::nullopt;
  }
  if (!node.IsScalar()) {
    diag.Add(node.Mark(), path, node.IsMap() ? "expected a value, found a mapping" : "expected a value, found a list");
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

namespace {
template <typename T>
std::optional<T> InRange(T v, T min, T max, const YAML::Node& node, std::string_view path, Diagnostics& diag) {
  if (v >= min && v <= max) return v;
  diag.Add(node.Mark(), path,
           std::to_string(v) + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  return std::nullopt;
}
}  // namespace

std::optional<uint64_t> ReadUint(const YAML::Node& node, std::string_view path, uint64_t min, uint64_t max,
                                 Diagnostics& diag) {
  auto s = ReadString(node, path, diag);
  if (!s) return std::nullopt;
  auto v = ParseUintText(*s);
  if (!v) {
    diag.Add(node.Mark(), path, "expected a whole number, found " + Quote(*s));
    return std::nullopt;
  }
  return InRange(*v, min, max, node, path, diag);
}

std::optional<int64_t> ReadInt(const YAML::Node& node, std::string_view path, int64_t min, int64_t max,
                               Diagnostics& diag) {
  auto s = ReadString(node, path, diag);
  if (!s) return std::nullopt;
  int64_t v = 0;
  const char* end = s->data() + s->size();
  auto [p, ec] = std::from_chars(s->data(), end, v);
  if (s->empty() || ec != std::errc() || p != end) {
    diag.Add(node.Mark(), path, "expected an integer, got " + Quote(*s));
    return std::nullopt;
  }
  return InRange(v, min, max, node, path, diag);
}

Status RejectNulBytes(std::string_view text, const std::string& file) {
  const size_t at = text.find('\0');
  if (at == std::string_view::npos) return Status::Ok();
  const std::string_view before = text.substr(0, at);
  const size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
  const size_t line_start = before.rfind('\n');
  const size_t column = at - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
  return InvalidArgument(file + ":" + std::to_string(line) + ":" + std::to_string(column) +
                         ": a NUL byte: YAML text has none (a UTF-16/32 or binary file?)");
}

}  // namespace edgeward::yaml_input
