#include "edgeward/attest/eventlog.h"

namespace edgeward::attest {

std::string_view EventLogFormatName(EventLogFormat f) {
  switch (f) {
    case EventLogFormat::kUefi: return "uefi";
    case EventLogFormat::kIma: return "ima";
    case EventLogFormat::kCel: return "cel";
  }
  return "unknown";
}

std::optional<EventLogFormat> EventLogFormatFromName(std::string_view name) {
  for (auto f : {EventLogFormat::kUefi, EventLogFormat::kIma, EventLogFormat::kCel}) {
    if (EventLogFormatName(f) == name) return f;
  }
  return std::nullopt;
}

}  // namespace edgeward::attest
