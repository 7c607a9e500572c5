#include "edgeward/bundle/time.h"

#include <cstdio>

namespace edgeward::bundle {
namespace {

constexpr int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z

// Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool Digits(std::string_view s, size_t pos, size_t n, unsigned& out) {
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return true;
}

unsigned DaysInMonth(unsigned y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

StatusOr<int64_t> ParseRfc3339(std::string_view text) {
  auto bad = [&](const char* why) {
    return InvalidArgument("time '" + std::string(text.substr(0, 40)) + "': " + why +
                           " (want UTC as YYYY-MM-DDTHH:MM:SSZ)");
  };
  if (text.size() != 20) return bad("wrong length");
  if (text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':' || text[19] != 'Z') {
    return bad("wrong separators");
  }
  unsigned y, mo, d, h, mi, s;
  if (!Digits(text, 0, 4, y) || !Digits(text, 5, 2, mo) || !Digits(text, 8, 2, d) || !Digits(text, 11, 2, h) ||
      !Digits(text, 14, 2, mi) || !Digits(text, 17, 2, s)) {
    return bad("non-digit in a field");
  }
  if (y < 1970) return bad("year before 1970");
  if (mo < 1 || mo > 12) return bad("month out of range");
  if (d < 1 || d > DaysInMonth(y, mo)) return bad("day out of range");
  if (h > 23 || mi > 59 || s > 59) return bad("time of day out of range");
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

std::string FormatRfc3339(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds > kMaxSeconds) seconds = kMaxSeconds;
  int64_t days = seconds / 86400;
  int64_t rem = seconds % 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(y), m, d,
                static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                static_cast<long long>(rem % 60));
  return buf;
}

StatusOr<int64_t> ParseExpiry(std::string_view text, int64_t base) {
  if (text.empty() || text[0] != '+') return ParseRfc3339(text);
  if (text.size() < 3 || text.size() > 10) {
    return InvalidArgument("expiry '" + std::string(text.substr(0, 40)) + "': want +N followed by d, h or m");
  }
  int64_t n = 0;
  for (char c : text.substr(1, text.size() - 2)) {
    if (c < '0' || c > '9') return InvalidArgument("expiry '" + std::string(text) + "': N is not a number");
    n = n * 10 + (c - '0');
  }
  int64_t unit = 0;
  switch (text.back()) {
    case 'd': unit = 86400; break;
    case 'h': unit = 3600; break;
    case 'm': unit = 60; break;
    default: return InvalidArgument("expiry '" + std::string(text) + "': unit must be d, h or m");
  }
  int64_t t = base + n * unit;
  if (n == 0 || t > kMaxSeconds) return InvalidArgument("expiry '" + std::string(text) + "': out of range");
  return t;
}

}  // namespace edgeward::bundle
