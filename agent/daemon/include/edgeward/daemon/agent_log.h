// The agent daemon's logging: the default spdlog logger, writing one line
// per message to stderr in one of three shapes.
//
//   text      2026-11-24T02:40:00.123Z info control: peer uid=0 connected
//   json      {"time":"2026-11-24T02:40:00.123Z","level":"info","msg":"..."}
//   journald  <6>control: peer uid=0 connected
//
// journald: we write to stderr with a syslog priority prefix ("<N>") rather
// than speaking the native journal protocol. systemd connects a service's
// stderr to the journal and parses the prefix (SyslogLevelPrefix=yes, the
// default), so `journalctl -p warning` works, the journal adds its own
// timestamp and metadata, and there is no second transport to fail or to
// hold open across a journald restart. JSON messages are escaped properly
// (unlike base/log.h's pattern, which trusts its callers).
//
// Thread-safe (spdlog's mutex sink); the cloud worker and the metrics thread
// log through the same logger.
#pragma once

#include <string>
#include <string_view>

#include "edgeward/daemon/config.h"

namespace edgeward::daemon {

// Replaces the default logger. `level`: trace|debug|info|warn|error|off.
// `fd` is where lines go (2 = stderr; tests pass a pipe).
void SetupAgentLogging(LogFormat format, LogTarget target, std::string_view level, int fd = 2);
// Changes only the level (SIGHUP reload).
void SetAgentLogLevel(std::string_view level);

// Escapes `s` as the inside of a JSON string (control bytes as \u00XX,
// invalid UTF-8 left as is byte for byte would break parsers: replaced
// by U+FFFD).
std::string JsonEscape(std::string_view s);

}  // namespace edgeward::daemon
