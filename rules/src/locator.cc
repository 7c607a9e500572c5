#include "locator.h"

#include <algorithm>

namespace edgeward::rules::internal {


void Locator::Map(int offset, int* line, int* col) const {
  *line = mark_line + 1;
  *col = mark_col + 1;
  if (exact || mark_pos < 0 || static_cast<size_t>(mark_pos) >= source.size()) return;
  size_t p = static_cast<size_t>(mark_pos);
  int l = mark_line, c = mark_col;
  auto advance = [&] {
    if (source[p] == '\n') {
      ++l;
      c = 0;
    } else {
      ++c;
    }
    ++p;
  };
  // Skip the scalar's opening: a quote, or a block indicator line.
  if (source[p] == '"' || source[p] == '\'') {
    advance();
  } else if (source[p] == '|' || source[p] == '>') {
    while (p < source.size() && source[p] != '\n') advance();
    if (p < source.size()) advance();
  }
  bool at_end = offset >= static_cast<int>(value.size());
  int target = std::clamp(at_end ? static_cast<int>(value.size()) - 1 : offset, 0,
                          std::max(0, static_cast<int>(value.size()) - 1));
  if (value.empty()) {
    *line = l + 1;
    *col = c + 1;
    return;
  }
  for (int i = 0; i <= target; ++i) {
    char want = value[static_cast<size_t>(i)];
    // Folded line breaks become spaces; escapes shrink. Either way the raw
    // text has the character at or after the current point.
    while (p < source.size() && source[p] != want &&
           !(want == ' ' && (source[p] == '\n' || source[p] == '\t'))) {
      advance();
    }
    if (p >= source.size()) return;  // lost: keep the mark
    if (i < target) advance();
  }
  *line = l + 1;
  *col = c + 1 + (at_end ? 1 : 0);
}

void Diagnostics::Add(const Pos& pos, std::string message) {
  int line = 0, col = 0;
  std::string_view file;
  if (pos.loc != nullptr) {
    pos.loc->Map(pos.offset, &line, &col);
    file = pos.loc->file;
  }
  AddAt(file, line, col, std::move(message));
}

void Diagnostics::AddAt(std::string_view file, int line, int col, std::string message) {
  list_.push_back(Diagnostic{std::string(file), line, col, std::move(message)});
}

namespace {
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string DidYouMean(std::string_view name, const std::vector<std::string_view>& candidates) {
  if (name.size() > 200) return "";  // outside input: keep the O(n*m) small
  size_t best = SIZE_MAX;
  std::string_view best_name;
  for (std::string_view c : candidates) {
    if (c.size() > 200) continue;
    size_t d = EditDistance(name, c);
    if (d < best) {
      best = d;
      best_name = c;
    }
  }
  size_t limit = std::max<size_t>(2, name.size() / 3);
  if (best == SIZE_MAX || best > limit || best == 0) return "";
  return " (did you mean \"" + std::string(best_name) + "\"?)";
}

}  // namespace edgeward::rules::internal
