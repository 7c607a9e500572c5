#include "workload_diag.h"

#include <algorithm>
#include <charconv>

namespace edgeward::daemon::workload_internal {

void WorkloadDiag::Add(const YAML::Mark& mark, std::string_view field, std::string_view text) {
  // yaml-cpp marks are 0-based; a null mark (-1) becomes 0, "unknown".
  Add(mark.line >= 0 ? mark.line + 1 : 0, mark.column >= 0 ? mark.column + 1 : 0, field, text);
}

void WorkloadDiag::Add(int line, int column, std::string_view field, std::string_view text) {
  std::string s = file_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  if (!field.empty()) {
    s += "field ";
    s += field;
    s += ": ";
  }
  s += text;
  errors_.push_back(Error{line, column, errors_.size(), std::move(s)});
}

bool WorkloadDiag::Spend(const YAML::Mark& mark, size_t n) {
  if (over_budget_) return false;
  spent_ += n;
  if (spent_ <= kMaxValues) return true;
  over_budget_ = true;
  Add(mark, "", "workload too large: more than " + std::to_string(kMaxValues) + " values (counting aliases)");
  return false;
}

Status WorkloadDiag::ToStatus() const {
  if (errors_.empty()) return Status::Ok();
  std::vector<const Error*> sorted;
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
  if (sorted.size() > shown) msg += "\n" + file_ + ": " + std::to_string(sorted.size() - shown) + " more errors";
  return InvalidArgument(std::move(msg));
}

namespace {

size_t Distance(std::string_view a, std::string_view b, size_t cap) {
  if (a.size() > b.size() + cap || b.size() > a.size() + cap) return cap;
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    size_t best = row[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
      best = std::min(best, row[j]);
    }
    if (best >= cap) return cap;
  }
  return row[b.size()];
}

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

std::string_view Closest(std::string_view word, const std::vector<std::string_view>& candidates) {
  const size_t limit = std::max<size_t>(1, std::min<size_t>(2, word.size() / 3));
  std::string_view best;
  size_t best_d = limit + 1;
  for (std::string_view c : candidates) {
    const size_t d = Distance(word, c, best_d);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best_d <= limit ? best : std::string_view();
}

std::string Quoted(std::string_view word, std::string_view suggestion) {
  std::string s = "'" + Printable(word) + "'";
  if (!suggestion.empty()) s += " (did you mean '" + std::string(suggestion) + "'?)";
  return s;
}

std::string FieldPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

std::string IndexPath(std::string_view parent, size_t i) { return std::string(parent) + "[" + std::to_string(i) + "]"; }

MapReader::MapReader(const YAML::Node& node, std::string path, std::vector<std::string_view> known,
                     WorkloadDiag& diag)
    : path_(std::move(path)), mark_(node.Mark()), diag_(diag) {
  if (node.IsNull()) {
    is_map_ = true;
    return;
  }
  if (!node.IsMap()) {
    diag_.Add(mark_, path_.empty() ? "<document>" : path_, "expected a mapping");
    return;
  }
  is_map_ = true;
  if (!diag_.Spend(mark_, node.size())) return;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::detail::iterator_value kv = *it;
    const YAML::Node key = kv.first;
    const YAML::Node value = kv.second;
    if (!key.IsScalar()) {
      diag_.Add(key.Mark(), path_, "a mapping key must be a plain name");
      continue;
    }
    const std::string& k = key.Scalar();
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      diag_.Add(key.Mark(), FieldPath(path_, Printable(k)), "unknown key " + Quoted(k, Closest(k, known)));
      continue;
    }
    if (std::any_of(entries_.begin(), entries_.end(), [&](const auto& e) { return e.first == k; })) {
      diag_.Add(key.Mark(), FieldPath(path_, k), "duplicate key '" + k + "'");
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
  if (!v && is_map_) diag_.Add(mark_, Path(key), "missing (required)");
  return v;
}

std::optional<std::string> ReadScalar(const YAML::Node& node, std::string_view path, WorkloadDiag& diag) {
  if (!node.IsScalar()) {
    diag.Add(node.Mark(), path, node.IsNull() ? "expected a value, got nothing" : "expected a single value");
    return std::nullopt;
  }
  return node.Scalar();
}

std::vector<YAML::Node> ReadList(const YAML::Node& node, std::string_view path, WorkloadDiag& diag) {
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

std::optional<int64_t> ReadInt(const YAML::Node& node, std::string_view path, int64_t min, int64_t max,
                               WorkloadDiag& diag) {
  auto s = ReadScalar(node, path, diag);
  if (!s) return std::nullopt;
  int64_t v = 0;
  const char* end = s->data() + s->size();
  auto [p, ec] = std::from_chars(s->data(), end, v);
  if (ec != std::errc() || p != end || s->empty()) {
    diag.Add(node.Mark(), path, "expected an integer, got " + Quoted(*s));
    return std::nullopt;
  }
  if (v < min || v > max) {
    diag.Add(node.Mark(), path,
             std::to_string(v) + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return std::nullopt;
  }
  return v;
}

}  // namespace edgeward::daemon::workload_internal
