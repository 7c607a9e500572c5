#include "edgeward/attest/eventlog.h"

namespace edgeward::attest {

std::string_view EventLogFormatName(EventLogFormat f) {
  switch (f) {
    case EventLogFormat::kUefi:
      return "uefi";
    case EventLogFormat::kIma:
      return "ima";
    case EventLogFormat::kCel:
      return "cel";
  }
  return "unknown";
}

std::optional<EventLogFormat> EventLogFormatFromName(std::string_view name) {
  for (auto f : {EventLogFormat::kUefi, EventLogFormat::kIma, EventLogFormat::kCel}) {
    if (EventLogFormatName(f) == name) return f;
  }
  return std::nullopt;
}

std::optional<EventLogFormat> DetectEventLogFormat(ByteView data) {
  if (data.empty()) return std::nullopt;
  // Both text formats start with printable ASCII; a UEFI log starts with a
  // little-endian PCR index (0..23), so its first byte is < 0x20 and its
  // second to fourth bytes are zero.
  size_t i = 0;
  while (i < data.size() && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r')) ++i;
  if (i < data.size() && data[i] == '{') return EventLogFormat::kCel;
  size_t digits = 0;
  while (i + digits < data.size() && data[i + digits] >= '0' && data[i + digits] <= '9') ++digits;
  if (digits > 0 && digits <= 2 && i + digits < data.size() && data[i + digits] == ' ')
    return EventLogFormat::kIma;
  return EventLogFormat::kUefi;
}

StatusOr<ParsedLog> ParseEventLog(ByteView data, std::optional<EventLogFormat> format) {
  if (!format) format = DetectEventLogFormat(data);
  if (!format) return InvalidArgument("event log: empty input, format can't be detected");
  switch (*format) {
    case EventLogFormat::kUefi:
      return ParseUefiLog(data);
    case EventLogFormat::kIma:
      return ParseImaLog(AsChars(data));
    case EventLogFormat::kCel:
      return ParseCelLog(AsChars(data));
  }
  return InvalidArgument("event log: unknown format");
}

}  // namespace edgeward::attest
