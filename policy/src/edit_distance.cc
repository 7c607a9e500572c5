#include "edit_distance.h"

#include <algorithm>

namespace edgeward::policy::internal {

size_t EditDistance(std::string_view a, std::string_view b, size_t cap) {
  const size_t len_diff = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (len_diff >= cap) return cap;
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    size_t row_min = cur[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min >= cap) return cap;
    std::swap(prev, cur);
  }
  return std::min(prev[b.size()], cap);
}

std::string_view ClosestMatch(std::string_view word, const std::vector<std::string_view>& candidates) {
  if (word.size() > 256) return {};
  const size_t allowed = std::max<size_t>(1, std::min<size_t>(2, word.size() / 3));
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

}  // namespace edgeward::policy::internal
