// Parses events from JSON Lines (one JSON object per line; the contract in
// docs/events.md). This is outside input: every error names the source, the
// line (1-based) and, where known, the column and the field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/base/status.h"
#include "edgeward/rules/event.h"

namespace edgeward::rules {

// Longest accepted line; longer lines are an error (bounded memory).
inline constexpr size_t kMaxEventLineBytes = 64 * 1024;

// Parses one JSON object into `out` (cleared first). `source` and `line` only
// label errors ("events.jsonl:3:12: ..."). kInvalidArgument on malformed JSON,
// an unknown "type", a bad "time", a missing required field or a field of the
// wrong JSON type. Unknown extra keys are ignored (forward compatibility).
Status ParseEventJson(std::string_view json, std::string_view source, int line, Event* out);

// Parses "2026-11-23T23:40:00.123Z" (RFC 3339, UTC "Z", 0–9 fraction digits)
// into milliseconds since the epoch. false when malformed.
bool ParseRfc3339Ms(std::string_view s, int64_t* ms);
// Formats milliseconds since the epoch as "2026-11-23T23:40:00.123Z".
std::string FormatRfc3339Ms(int64_t ms);
// The same into `buf` (at least kRfc3339BufferBytes), without allocating;
// returns the length written.
inline constexpr size_t kRfc3339BufferBytes = 48;
size_t FormatRfc3339MsTo(int64_t ms, char* buf);

// Parses a whole JSONL text (blank lines skipped). Collects every bad line;
// if any, returns kInvalidArgument listing them all (one per message line)
// and leaves `out` with the good events only.
Status ParseEventLines(std::string_view text, std::string_view source, std::vector<Event>* out);

}  // namespace edgeward::rules
