// WorkloadSupervisor: runs the declared workloads as `edgeward run` runner
// processes and keeps them running per their restart rule, on the daemon's
// EventLoop (docs/workloads.md).
//
// Per workload, under <state_dir>/workloads/<name>/ (dir 0700, files 0600):
//   spec.json      the spec last started (so a reattached or stale workload
//                  can be restarted before the bundle is applied again)
//   policy.yaml    the policy the runner was given (its exact bytes)
//   runner.json    {pid, start_time (/proc/<pid>/stat field 22), digests}
//                  while a runner lives
//   events.jsonl   appended by the runner (workload.start/exit,
//                  sandbox.violation); tailed with inotify, each line handed
//                  to on_event once
//   events.offset  how far events.jsonl has been forwarded
//   runner.log     the runner's stdout/stderr
//
// Each start: measure (binary resolved from command[0] + spec.measure) →
// policy.yaml → spawn `edgeward run` in a session of its own, stdin
// /dev/null, output to runner.log, no other inherited fd → watch its pidfd.
// The runner survives the agent (no pipe to us, no controlling terminal);
// the sandbox dies with the runner (PR_SET_PDEATHSIG in its init).
// Stopping: SIGTERM to the runner (forwarded to the workload), SIGKILL to
// everything in the workload's cgroup after the grace, then to the runner.
//
// Threading: construct, call and destroy on the loop's thread; callbacks
// (measure's done may be called from any thread: it is posted to the loop).
// The destructor stops watching but leaves runners running (Reattach()
// finds them); call StopAll() first to stop them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/base/fd.h"
#include "edgeward/base/status.h"
#include "edgeward/daemon/event_loop.h"
#include "edgeward/daemon/workload_spec.h"

namespace edgeward::daemon {

// Hashes `files` into the measurement log before a start and calls `done`
// exactly once, from any thread. A non-OK status is logged and the workload
// starts anyway (enforcement goes on while the TPM is down).
using MeasureFn = std::function<void(const WorkloadSpec& spec, std::vector<std::string> files,
                                     std::function<void(Status)> done)>;

struct SupervisorOptions {
  std::string edgeward_binary;  // absolute path of the edgeward executable
  std::string state_dir;        // workloads live in <state_dir>/workloads
  std::string node_id;          // "node":{"id":...} in events when not empty
  std::string cgroup_root = "/sys/fs/cgroup";
  std::chrono::milliseconds stop_timeout{10000};  // SIGTERM → SIGKILL for Apply/Restart/Quarantine
  MeasureFn measure;  // empty: no measurement
  // Each event as one JSON object, no newline: the runners' lines as they
  // wrote them, plus workload.crash_loop from the supervisor itself.
  std::function<void(const std::string& json_line)> on_event;
  // events.jsonl is rotated (to events.jsonl.1) between runs once larger.
  size_t events_rotate_bytes = 8u << 20;
};

enum class WorkloadState {
  kStarting,   // measuring / spawning
  kRunning,    // a runner lives
  kBackoff,    // exited; restart timer armed
  kCrashLoop,  // too many exits too fast; waits for Restart() or a new spec
  kStopping,   // SIGTERM sent, waiting for the runner to exit
  kStopped,    // stopped on request (Kill, Quarantine, StopAll)
  kExited,     // exited and the restart rule says stay down
};
// "starting", "running", "backoff", "crash_loop", "stopping", "stopped", "exited".
std::string_view WorkloadStateName(WorkloadState state);

struct WorkloadStatus {
  std::string name;
  WorkloadState state = WorkloadState::kStopped;
  pid_t pid = 0;          // the runner's pid while one lives
  uint32_t restarts = 0;  // automatic restarts since the last Apply/Restart
  std::optional<int> last_exit_code;  // 128 + n when killed by signal n
  std::string last_exit_signal;       // "SIGKILL", or ""
  std::string policy_digest;
  std::string spec_digest;
  std::chrono::system_clock::time_point since;  // entered `state`
  std::string last_error;  // spawn/measure/setup failure, "" when none
};

class WorkloadSupervisor {
 public:
  WorkloadSupervisor(EventLoop& loop, SupervisorOptions options);
  ~WorkloadSupervisor();
  WorkloadSupervisor(const WorkloadSupervisor&) = delete;
  WorkloadSupervisor& operator=(const WorkloadSupervisor&) = delete;

  // At start-up, before the first Apply(): for each workload with a
  // runner.json, a runner that is still alive (same pid and start time) is
  // watched again — never a second instance; events it wrote meanwhile are
  // forwarded from the saved offset. A stale record (runner gone, pid
  // reused) → the workload's leftover cgroups are killed and removed, its
  // last exit is read from events.jsonl, and it is restarted per its rule
  // from spec.json. Errors: the state dir can't be created or read.
  Status Reattach();

  // Makes the running set equal `specs`: starts new workloads in
  // (start_order, name) order, restarts only those whose spec_digest or
  // policy_digest changed (stop, then start), stops removed ones (grace
  // stop_timeout). Unchanged workloads keep their runner and state.
  // kInvalidArgument for two specs with one name or an invalid name; then
  // nothing changes.
  Status Apply(std::vector<WorkloadSpec> specs);

  // SIGKILL now (everything in its cgroup, then the runner); stays stopped
  // until Restart() or a changed spec. kNotFound for an unknown name.
  Status Kill(const std::string& name);
  // Stop (grace stop_timeout) if running, then start afresh (restart count,
  // backoff and crash-loop history cleared). kNotFound for an unknown name.
  Status Restart(const std::string& name);
  // Stops every workload not in `allow` (grace stop_timeout); they stay
  // stopped until Restart() or a changed spec.
  void Quarantine(std::set<std::string> allow);
  // Stops every workload: SIGTERM, SIGKILL after `grace`; `done` runs on the
  // loop once every runner has exited (at once when none runs). No restarts
  // after this; Apply()/Restart() start workloads again.
  void StopAll(std::chrono::milliseconds grace, std::function<void()> done);

  // Sorted by (start_order, name).
  std::vector<WorkloadStatus> List() const;

 private:
  struct Workload;

  Status EnsureInotify();
  Workload* Find(const std::string& name);
  Workload& Create(const std::string& name);
  // start / exit (supervisor.cc)
  void StartWorkload(Workload& w);
  void AfterMeasure(const std::string& name, uint64_t generation, const Status& measured);
  Status Spawn(Workload& w);
  void OnRunnerExit(const std::string& name);
  void HandleExit(Workload& w, std::optional<int> code, const std::string& signal);
  void ScheduleRestart(Workload& w);
  void StopWorkload(Workload& w, std::chrono::milliseconds grace, WorkloadState after);
  void KillNow(Workload& w);
  void CancelTimers(Workload& w);
  void CheckStopAllDone();
  void SetState(Workload& w, WorkloadState s);
  void ReattachOne(const std::string& name);
  // events (supervisor_events.cc)
  Status OpenEvents(Workload& w);
  void DrainEvents(Workload& w);
  void OnInotify();
  Status RotateEventsIfLarge(Workload& w);
  void Emit(const std::string& line);
  void EmitCrashLoop(const Workload& w);
  std::string Dir(const std::string& name) const;

  EventLoop& loop_;
  SupervisorOptions options_;
  UniqueFd inotify_;
  std::map<std::string, std::unique_ptr<Workload>> workloads_;
  std::map<int, std::string> inotify_watches_;  // wd → workload name
  uint64_t next_generation_ = 1;  // supervisor-wide: a stale callback never matches
  bool stopping_all_ = false;
  std::function<void()> stop_all_done_;
  std::shared_ptr<int> alive_;  // posted callbacks hold a weak_ptr
};

}  // namespace edgeward::daemon
