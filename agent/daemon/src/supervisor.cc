// First cut: the API compiles; the supervision itself lands next.
#include "edgeward/daemon/supervisor.h"

namespace edgeward::daemon {

struct WorkloadSupervisor::Workload {};

std::string_view WorkloadStateName(WorkloadState state) {
  switch (state) {
    case WorkloadState::kStarting: return "starting";
    case WorkloadState::kRunning: return "running";
    case WorkloadState::kBackoff: return "backoff";
    case WorkloadState::kCrashLoop: return "crash_loop";
    case WorkloadState::kStopping: return "stopping";
    case WorkloadState::kStopped: return "stopped";
    case WorkloadState::kExited: return "exited";
  }
  return "?";
}

WorkloadSupervisor::WorkloadSupervisor(EventLoop& loop, SupervisorOptions options)
    : loop_(loop), options_(std::move(options)), alive_(std::make_shared<int>(0)) {}
WorkloadSupervisor::~WorkloadSupervisor() = default;
Status WorkloadSupervisor::Reattach() { return Unimplemented("WorkloadSupervisor::Reattach"); }
Status WorkloadSupervisor::Apply(std::vector<WorkloadSpec>) { return Unimplemented("WorkloadSupervisor::Apply"); }
Status WorkloadSupervisor::Kill(const std::string& name) { return NotFound("no workload '" + name + "'"); }
Status WorkloadSupervisor::Restart(const std::string& name) { return NotFound("no workload '" + name + "'"); }
void WorkloadSupervisor::Quarantine(std::set<std::string>) {}
void WorkloadSupervisor::StopAll(std::chrono::milliseconds, std::function<void()> done) {
  if (done) loop_.Post(std::move(done));
}
std::vector<WorkloadStatus> WorkloadSupervisor::List() const { return {}; }

}  // namespace edgeward::daemon
