#include "events.h"

#include <string.h>
#include <time.h>

#include <nlohmann/json.hpp>

namespace edgeward::sandbox {
namespace {

nlohmann::json Envelope(const char* type, const std::string& node_id) {
  nlohmann::json j;
  j["type"] = type;
  j["time"] = FormatEventTime(std::chrono::system_clock::now());
  if (!node_id.empty()) j["node"] = {{"id", node_id}};
  return j;
}

}  // namespace

std::string FormatEventTime(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "SIG" + std::to_string(sig);
}

std::string WorkloadStartEvent(const std::string& name, pid_t pid, const std::string& node_id) {
  nlohmann::json j = Envelope("workload.start", node_id);
  j["workload"] = {{"name", name}, {"pid", pid}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string WorkloadExitEvent(const std::string& name, pid_t pid, int code,
                              std::optional<int> signal, const std::string& node_id) {
  nlohmann::json j = Envelope("workload.exit", node_id);
  j["workload"] = {{"name", name}, {"pid", pid}};
  j["exit"] = {{"code", code}};
  if (signal) j["exit"]["signal"] = SignalName(*signal);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace edgeward::sandbox
