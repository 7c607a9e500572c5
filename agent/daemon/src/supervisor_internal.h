// The supervisor's per-workload bookkeeping, shared by supervisor.cc and
// supervisor_events.cc (internal).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "edgeward/base/fd.h"
#include "edgeward/daemon/event_loop.h"
#include "edgeward/daemon/supervisor.h"
#include "edgeward/daemon/workload_spec.h"

namespace edgeward::daemon {

struct WorkloadSupervisor::Workload {
  std::string name;
  WorkloadSpec spec;
  bool has_spec = false;  // false: reattached without spec.json, waits for Apply()
  bool awaiting_spec = false;  // exited while spec-less: Apply() with its digest starts it
  WorkloadState state = WorkloadState::kStopped;
  std::chrono::system_clock::time_point since = std::chrono::system_clock::now();
  uint64_t generation = 0;  // of the start in progress (measure callbacks check it)

  // The runner, while one lives.
  pid_t pid = 0;
  uint64_t start_time = 0;
  UniqueFd pidfd;
  bool own_child = false;  // false after Reattach(): no waitid, status from events
  EventLoop::Clock::time_point run_started{};
  std::string record_spec_digest;    // from runner.json (reattached)
  std::string record_policy_digest;
  // From this run's events.
  std::optional<int> event_exit_code;
  std::string event_exit_signal;

  // Restart bookkeeping.
  uint32_t restarts = 0;
  uint32_t backoff_step = 0;
  std::deque<EventLoop::Clock::time_point> exits;  // within crash_loop_within
  EventLoop::TimerId restart_timer = 0;
  EventLoop::TimerId kill_timer = 0;        // grace over → SIGKILL the cgroup
  EventLoop::TimerId final_kill_timer = 0;  // cgroup kill didn't end the runner → SIGKILL it
  std::optional<int> last_exit_code;
  std::string last_exit_signal;
  std::string last_error;

  // What happens when the stop in progress completes.
  WorkloadState after_stop = WorkloadState::kStopped;
  bool start_after_stop = false;
  bool remove_after_stop = false;
  std::optional<WorkloadSpec> next_spec;

  // Event tailing.
  UniqueFd events_fd;
  UniqueFd offset_fd;
  int inotify_wd = -1;
  uint64_t offset = 0;
  uint64_t events_ino = 0;  // the inode events_fd is, saved with the offset
};

}  // namespace edgeward::daemon
