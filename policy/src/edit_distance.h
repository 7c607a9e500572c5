// Levenshtein distance for "did you mean" suggestions (internal).
#pragma once

#include <string_view>
#include <vector>
#include <cstddef>

namespace edgeward::policy::internal {

// Edit distance between a and b, or any value >= `cap` once it is known to
// reach `cap` (cheap early exit for long inputs). Case-sensitive.
size_t EditDistance(std::string_view a, std::string_view b, size_t cap);

// The candidate closest to `word` with distance <= max(1, min(2, |word|/3)),
// or "" (ties: the first in `candidates`).
std::string_view ClosestMatch(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace edgeward::policy::internal
