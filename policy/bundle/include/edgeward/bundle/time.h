// Times in bundles and root documents: RFC 3339 UTC with whole seconds,
// exactly "YYYY-MM-DDTHH:MM:SSZ" (one spelling per instant, so the signed
// bytes have one encoding). Internally: seconds since the Unix epoch.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "edgeward/base/status.h"

namespace edgeward::bundle {

// Years 1970..9999 only. Anything else (offsets, fractions, lower-case
// 't'/'z', out-of-range fields, Feb 30) → kInvalidArgument naming the text.
StatusOr<int64_t> ParseRfc3339(std::string_view text);
// Inverse of ParseRfc3339 (seconds must be in 0..253402300799).
std::string FormatRfc3339(int64_t seconds);

// An expiry as the CLI takes it: an RFC 3339 time, or "+N" followed by
// d (days), h (hours) or m (minutes), relative to `base`.
StatusOr<int64_t> ParseExpiry(std::string_view text, int64_t base);

}  // namespace edgeward::bundle
