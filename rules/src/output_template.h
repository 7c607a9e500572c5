// A rule's `output`: text with %field substitutions, compiled at load into
// literal and field segments and formatted into a fixed buffer (no
// allocation). "%%" is a literal "%". A field name is the longest run of
// [a-z0-9_.] after "%" that names a field (trailing dots are text, so
// "%workload.name." works at the end of a sentence). %event.time prints
// the event's time (RFC 3339). Absent fields print "<NA>". String values
// are escaped (backslash, control characters — C0, DEL, C1 — as \\, \n,
// \r, \t, \xHH, \u00HH), so an event can't inject lines into a log.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/rules/event.h"
#include "locator.h"

namespace edgeward::rules::internal {

class OutputTemplate {
 public:
  // Compiles `text`; unknown fields are reported (located through `loc`).
  static bool Compile(std::string_view text, const Locator* loc, Diagnostics* diags, OutputTemplate* out);

  // Writes the formatted line into buf (truncated with "..." when longer)
  // and returns its length.
  size_t Format(const Event& e, std::span<char> buf) const;

 private:
  struct Segment {
    bool is_field = false;
    bool is_time = false;
    FieldId field = FieldId::kEventType;
    std::string text;
  };
  std::vector<Segment> segments_;
};

}  // namespace edgeward::rules::internal
