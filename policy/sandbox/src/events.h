// The launcher's events as JSON lines (/work/helper-events.md, docs/sandbox.md):
// workload.start and workload.exit. Each function returns one JSON object
// without a trailing newline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

namespace edgeward::sandbox {

// RFC 3339 UTC with milliseconds: "2026-11-23T23:40:00.123Z".
std::string FormatEventTime(std::chrono::system_clock::time_point t);

// "SIGKILL" for 9; "SIG<n>" for a number without a name.
std::string SignalName(int sig);

std::string WorkloadStartEvent(const std::string& name, pid_t pid, const std::string& node_id);
std::string WorkloadExitEvent(const std::string& name, pid_t pid, int code,
                              std::optional<int> signal, const std::string& node_id);

}  // namespace edgeward::sandbox
