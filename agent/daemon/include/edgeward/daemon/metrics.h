// Prometheus metrics for the agent: a snapshot of counters and gauges, its
// text exposition (format 0.0.4), and a small HTTP server (cpp-httplib, one
// worker thread) that serves GET /metrics on a local address.
//
// Threading: the server thread only reads. The loop thread edits the
// snapshot with Update(); values owned by another thread-safe source (the
// cloud worker's CloudAgent::Snapshot()) are pulled at scrape time by the
// collector, on the server thread. Both run under the server's mutex.
// Metric names are listed in docs/agent.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "edgeward/base/status.h"

namespace httplib {
class Server;
}

namespace edgeward::daemon {

struct MetricsSnapshot {
  uint64_t attestations_passed = 0;
  uint64_t attestations_failed = 0;
  double last_verdict_timestamp_seconds = 0;  // Unix time; 0 = no verdict yet
  uint64_t bundle_version = 0;                 // 0 = no bundle
  std::map<std::string, uint64_t> workloads_by_state;
  std::map<std::string, uint64_t> violations_by_workload;
  std::map<std::string, uint64_t> events_by_type;
  uint64_t rule_firings = 0;
  uint64_t spool_messages = 0;
  uint64_t spool_bytes = 0;
  uint64_t tpm_errors = 0;
};

// The exposition text, including edgeward_process_resident_memory_bytes and
// edgeward_process_cpu_seconds_total for this process. Label values are
// escaped (\\, \", \n).
std::string FormatPrometheus(const MetricsSnapshot& s);

class MetricsServer {
 public:
  using Collector = std::function<void(MetricsSnapshot&)>;
  // Binds host:port (port 0 = any free port, see port()) and starts serving
  // on a thread of its own. kUnavailable when the address can't be bound.
  // `collector` (optional) fills in thread-safe external values per scrape.
  static StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& host, uint16_t port,
                                                        Collector collector);
  // Stops the server and joins its thread.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void Update(const std::function<void(MetricsSnapshot&)>& edit);
  uint16_t port() const { return port_; }

 private:
  MetricsServer() = default;
  std::string Render();

  std::mutex mutex_;
  MetricsSnapshot snapshot_;  // guarded by mutex_
  Collector collector_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
};

}  // namespace edgeward::daemon
