// JSON Lines → Event. nlohmann's exceptions are caught here: none leaves.
#include "edgeward/rules/event_parser.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

namespace edgeward::rules {
namespace {

using nlohmann::json;

std::string Where(std::string_view source, int line, int col) {
  std::string w(source);
  w += ':' + std::to_string(line);
  if (col > 0) w += ':' + std::to_string(col);
  return w;
}

// Howard Hinnant's days_from_civil: proleptic Gregorian date → days since epoch.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool Digits(std::string_view s, size_t pos, size_t n, unsigned* out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  *out = v;
  return true;
}

// Finds the value at a dotted path ("workload.pid") inside `root`.
const json* AtPath(const json& root, std::string_view path) {
  const json* cur = &root;
  while (true) {
    size_t dot = path.find('.');
    std::string_view key = path.substr(0, dot);
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
    if (dot == std::string_view::npos) return cur;
    path.remove_prefix(dot + 1);
  }
}

std::string_view JsonKind(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    case json::value_t::string: return "string";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return "number with a fraction";
    default: return "other";
  }
}

bool AsInt(const json& j, int64_t* out) {
  if (j.is_number_integer() && !j.is_number_unsigned()) {
    *out = j.get<int64_t>();
    return true;
  }
  if (j.is_number_unsigned()) {
    uint64_t u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(u);
    return true;
  }
  return false;
}

Status SetField(const json& v, FieldId id, const FieldInfo& info, const std::string& where, Event* out) {
  auto type_error = [&](std::string_view want) {
    return InvalidArgument(where + ": field " + std::string(info.name) + ": expected " +
                           std::string(want) + ", got " + std::string(JsonKind(v)));
  };
  switch (info.type) {
    case FieldType::kString:
      if (!v.is_string()) return type_error("string");
      out->SetString(id, v.get_ref<const std::string&>());
      return Status::Ok();
    case FieldType::kInt: {
      int64_t i = 0;
      if (!AsInt(v, &i)) return type_error("integer (64-bit signed)");
      out->SetInt(id, i);
      return Status::Ok();
    }
    case FieldType::kBool:
      if (!v.is_boolean()) return type_error("boolean");
      out->SetBool(id, v.get<bool>());
      return Status::Ok();
    case FieldType::kStringList: {
      if (!v.is_array()) return type_error("array of strings");
      out->SetStringList(id, {});
      for (const auto& e : v) {
        if (!e.is_string()) return type_error("array of strings");
        out->AddToStringList(id, e.get_ref<const std::string&>());
      }
      return Status::Ok();
    }
    case FieldType::kIntList: {
      if (!v.is_array()) return type_error("array of integers");
      std::vector<int64_t> ints;
      for (const auto& e : v) {
        int64_t i = 0;
        if (!AsInt(e, &i)) return type_error("array of integers");
        ints.push_back(i);
      }
      out->SetIntList(id, ints);
      return Status::Ok();
    }
  }
  return Internal("unknown field type");
}

}  // namespace

bool ParseRfc3339Ms(std::string_view s, int64_t* ms) {
  // YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z
  unsigned y, mo, d, h, mi, se;
  if (s.size() < 20) return false;
  if (!Digits(s, 0, 4, &y) || s[4] != '-' || !Digits(s, 5, 2, &mo) || s[7] != '-' ||
      !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, &h) ||
      s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' || !Digits(s, 17, 2, &se)) {
    return false;
  }
  size_t pos = 19;
  unsigned frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start < 3) frac_ms = frac_ms * 10 + static_cast<unsigned>(s[pos] - '0');
      ++pos;
    }
    size_t n = pos - start;
    if (n == 0 || n > 9) return false;
    for (size_t i = n; i < 3; ++i) frac_ms *= 10;
  }
  if (pos + 1 != s.size() || (s[pos] != 'Z' && s[pos] != 'z')) return false;
  static constexpr unsigned kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDaysIn[mo - 1] || h > 23 || mi > 59 || se > 60) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return false;
  int64_t days = DaysFromCivil(y, mo, d);
  *ms = ((days * 24 + h) * 60 + mi) * 60000 + int64_t{se} * 1000 + frac_ms;
  return true;
}

size_t FormatRfc3339MsTo(int64_t ms, char* buf) {
  int64_t days = ms / 86400000;
  if (ms % 86400000 < 0) --days;  // floor, without negating (INT64_MIN)
  int64_t rem = ms - days * 86400000;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  int n = std::snprintf(buf, kRfc3339BufferBytes, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600000),
                static_cast<long long>(rem / 60000 % 60), static_cast<long long>(rem / 1000 % 60),
                static_cast<long long>(rem % 1000));
  return n < 0 ? 0 : std::min(static_cast<size_t>(n), kRfc3339BufferBytes - 1);
}

std::string FormatRfc3339Ms(int64_t ms) {
  char buf[kRfc3339BufferBytes];
  return std::string(buf, FormatRfc3339MsTo(ms, buf));
}

Status ParseEventJson(std::string_view text, std::string_view source, int line, Event* out) {
  out->Clear();
  const std::string where = Where(source, line, 0);
  if (text.size() > kMaxEventLineBytes) {
    return InvalidArgument(where + ": event line of " + std::to_string(text.size()) +
                           " bytes exceeds the limit of " + std::to_string(kMaxEventLineBytes));
  }
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    // e.byte is 1-based and points just past the offending character.
    int col = e.byte > 0 ? static_cast<int>(e.byte) : 1;
    std::string msg = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] parse error at line 1, column N: ".
    size_t colon = msg.find(": ");
    if (colon != std::string::npos) msg = msg.substr(colon + 2);
    return InvalidArgument(Where(source, line, col) + ": invalid JSON: " + msg);
  } catch (const json::exception& e) {
    return InvalidArgument(where + ": invalid JSON: " + e.what());
  }
  if (!j.is_object()) return InvalidArgument(where + ": an event must be a JSON object, got " + std::string(JsonKind(j)));
  auto type_it = j.find("type");
  if (type_it == j.end()) return InvalidArgument(where + ": event has no \"type\"");
  if (!type_it->is_string()) return InvalidArgument(where + ": \"type\" must be a string");
  EventType type;
  const auto& type_name = type_it->get_ref<const std::string&>();
  if (!ParseEventTypeName(type_name, &type)) {
    return InvalidArgument(where + ": unknown event type \"" + type_name + "\"");
  }
  out->set_type(type);
  auto time_it = j.find("time");
  if (time_it == j.end()) return InvalidArgument(where + ": event has no \"time\"");
  int64_t ms = 0;
  if (!time_it->is_string() || !ParseRfc3339Ms(time_it->get_ref<const std::string&>(), &ms)) {
    return InvalidArgument(where + ": \"time\" must be an RFC 3339 UTC time like \"2026-11-23T23:40:00.123Z\"");
  }
  out->set_time_ms(ms);
  const EventTypeMask bit = 1u << static_cast<unsigned>(type);
  for (int i = 1; i < kFieldCount; ++i) {  // 0 is event.type, handled above
    const FieldId id = static_cast<FieldId>(i);
    const FieldInfo& info = GetFieldInfo(id);
    if (!(info.carried_by & bit)) continue;
    const json* v = AtPath(j, info.name);
    if (v == nullptr || v->is_null()) {
      if (info.required_by & bit) {
        return InvalidArgument(where + ": " + type_name + " event lacks required field " + std::string(info.name));
      }
      continue;
    }
    EW_RETURN_IF_ERROR(SetField(*v, id, info, where, out));
  }
  return Status::Ok();
}

Status ParseEventLines(std::string_view text, std::string_view source, std::vector<Event>* out) {
  std::string errors;
  int line = 0;
  size_t bad = 0;
  Event ev;
  while (!text.empty()) {
    ++line;
    size_t nl = text.find('\n');
    std::string_view l = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.find_first_not_of(" \t") == std::string_view::npos) continue;
    Status s = ParseEventJson(l, source, line, &ev);
    if (!s.ok()) {
      if (++bad <= 100) errors += (errors.empty() ? "" : "\n") + s.message();
      continue;
    }
    out->push_back(ev);
  }
  if (bad > 100) errors += "\n... and " + std::to_string(bad - 100) + " more bad lines";
  if (bad > 0) return InvalidArgument(errors);
  return Status::Ok();
}

}  // namespace edgeward::rules
