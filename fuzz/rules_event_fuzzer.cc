// Event streams are outside input (recorded JSONL replayed by `rules test`,
// and the supervisor's stream): the JSON Lines event parser.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "edgeward/rules/event_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<edgeward::rules::Event> events;
  (void)edgeward::rules::ParseEventLines(text, "fuzz.jsonl", &events);
  for (const auto& e : events) {
    // Round-trip the time through the formatter.
    int64_t ms = 0;
    std::string t = edgeward::rules::FormatRfc3339Ms(e.time_ms());
    if (!edgeward::rules::ParseRfc3339Ms(t, &ms) || ms != e.time_ms()) __builtin_trap();
  }
  return 0;
}
