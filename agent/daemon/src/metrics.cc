// Metrics exposition and the HTTP endpoint. cpp-httplib is the HTTP library
// the verifier already uses; one worker thread is plenty for a scraper every
// few seconds and keeps the agent's footprint small.
#include "edgeward/daemon/metrics.h"

#include <httplib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>

#include "edgeward/base/file.h"

namespace edgeward::daemon {
namespace {

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void Sample(std::string& out, const std::string& name, uint64_t v) { out += name + ' ' + std::to_string(v) + '\n'; }

void SampleDouble(std::string& out, const std::string& name, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  out += name + ' ' + buf + '\n';
}

uint64_t ResidentBytes() {
  auto statm = ReadFileToString("/proc/self/statm", 4096);
  if (!statm.ok()) return 0;
  unsigned long long size = 0, resident = 0;
  if (std::sscanf(statm->c_str(), "%llu %llu", &size, &resident) != 2) return 0;
  const long page = ::sysconf(_SC_PAGESIZE);
  return resident * static_cast<uint64_t>(page > 0 ? page : 4096);
}

double CpuSeconds() {
  rusage ru{};
  if (::getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

}  // namespace

std::string FormatPrometheus(const MetricsSnapshot& s) {
  std::string out;
  Header(out, "edgeward_attestations_total", "counter", "Attestation verdicts received, by result.");
  Sample(out, "edgeward_attestations_total{result=\"pass\"}", s.attestations_passed);
  Sample(out, "edgeward_attestations_total{result=\"fail\"}", s.attestations_failed);
  Header(out, "edgeward_last_verdict_timestamp_seconds", "gauge", "Unix time of the last verdict (0: none yet).");
  SampleDouble(out, "edgeward_last_verdict_timestamp_seconds", s.last_verdict_timestamp_seconds);
  Header(out, "edgeward_bundle_version", "gauge", "Version of the active policy bundle (0: none).");
  Sample(out, "edgeward_bundle_version", s.bundle_version);
  Header(out, "edgeward_workloads", "gauge", "Supervised workloads, by state.");
  std::map<std::string, uint64_t> states = {{"starting", 0}, {"running", 0}, {"backoff", 0}, {"crash_loop", 0},
                                            {"stopping", 0}, {"stopped", 0}, {"exited", 0}};
  for (const auto& [state, n] : s.workloads_by_state) states[state] = n;
  for (const auto& [state, n] : states) Sample(out, "edgeward_workloads{state=\"" + EscapeLabel(state) + "\"}", n);
  Header(out, "edgeward_violations_total", "counter", "Sandbox violations, by workload.");
  for (const auto& [w, n] : s.violations_by_workload) {
    Sample(out, "edgeward_violations_total{workload=\"" + EscapeLabel(w) + "\"}", n);
  }
  Header(out, "edgeward_events_total", "counter", "Events seen by the agent, by type.");
  for (const auto& [t, n] : s.events_by_type) Sample(out, "edgeward_events_total{type=\"" + EscapeLabel(t) + "\"}", n);
  Header(out, "edgeward_rule_firings_total", "counter", "Rules that fired.");
  Sample(out, "edgeward_rule_firings_total", s.rule_firings);
  Header(out, "edgeward_spool_messages", "gauge", "Messages waiting in the store-and-forward spool.");
  Sample(out, "edgeward_spool_messages", s.spool_messages);
  Header(out, "edgeward_spool_bytes", "gauge", "Bytes in the store-and-forward spool.");
  Sample(out, "edgeward_spool_bytes", s.spool_bytes);
  Header(out, "edgeward_tpm_errors_total", "counter", "TPM operations that failed.");
  Sample(out, "edgeward_tpm_errors_total", s.tpm_errors);
  Header(out, "edgeward_process_resident_memory_bytes", "gauge", "Resident memory of the agent process.");
  Sample(out, "edgeward_process_resident_memory_bytes", ResidentBytes());
  Header(out, "edgeward_process_cpu_seconds_total", "counter", "CPU time (user + system) of the agent process.");
  SampleDouble(out, "edgeward_process_cpu_seconds_total", CpuSeconds());
  return out;
}

StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& host, uint16_t port,
                                                              Collector collector) {
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  m->collector_ = std::move(collector);
  m->server_ = std::make_unique<httplib::Server>();
  httplib::Server& srv = *m->server_;
  srv.new_task_queue = [] { return new httplib::ThreadPool(1); };
  srv.set_read_timeout(5, 0);
  srv.set_write_timeout(5, 0);
  srv.set_payload_max_length(4096);
  // httplib's default also sets SO_REUSEPORT, which would let a second
  // agent share the port silently; keep SO_REUSEADDR (restart after a
  // crash) only.
  srv.set_socket_options([](int sock) {
    int yes = 1;
    (void)::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  srv.Get("/metrics", [raw = m.get()](const httplib::Request&, httplib::Response& res) {
    res.set_content(raw->Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  srv.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("edgeward agent: metrics at /metrics\n", "text/plain");
  });
  int bound;
  if (port == 0) {
    bound = srv.bind_to_any_port(host);
  } else {
    bound = srv.bind_to_port(host, port) ? port : -1;
  }
  if (bound <= 0) {
    return Unavailable("metrics: can't listen on " + host + ":" + std::to_string(port) +
                       " (address in use or not local?)");
  }
  m->port_ = static_cast<uint16_t>(bound);
  m->thread_ = std::thread([&srv] { srv.listen_after_bind(); });
  // httplib's stop() is a no-op until the listen loop runs: wait for it, so
  // that a destructor right after Start() can't hang in join().
  for (int i = 0; i < 2000 && !srv.is_running(); ++i) ::usleep(1000);
  if (!srv.is_running()) {
    srv.stop();
    return Internal("metrics: the HTTP server did not start");
  }
  return m;
}

MetricsServer::~MetricsServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

void MetricsServer::Update(const std::function<void(MetricsSnapshot&)>& edit) {
  std::lock_guard<std::mutex> lock(mutex_);
  edit(snapshot_);
}

std::string MetricsServer::Render() {
  MetricsSnapshot copy;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    copy = snapshot_;
  }
  // The collector takes its own source's lock; not under ours.
  if (collector_) collector_(copy);
  return FormatPrometheus(copy);
}

}  // namespace edgeward::daemon
