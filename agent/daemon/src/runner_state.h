// The supervisor's per-workload state on disk and the process plumbing
// around a runner (internal to the daemon library): the runner record,
// spec.json, the events offset, /proc start times, pidfds, spawning the
// runner, and the workload's cgroups (leftover cleanup, SIGKILL).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "edgeward/base/fd.h"
#include "edgeward/base/status.h"
#include "edgeward/daemon/workload_spec.h"

namespace edgeward::daemon::workload_internal {

// runner.json: who runs the workload now.
struct RunnerRecord {
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/<pid>/stat field 22 (clock ticks since boot)
  std::string spec_digest;
  std::string policy_digest;
};
Status WriteRunnerRecord(const std::string& path, const RunnerRecord& record);
// kNotFound when absent; kDataLoss when it doesn't parse.
StatusOr<RunnerRecord> ReadRunnerRecord(const std::string& path);

// spec.json: the spec without the policy's bytes (those live in policy.yaml).
std::string SpecToJson(const WorkloadSpec& spec);
StatusOr<WorkloadSpec> SpecFromJson(const std::string& text, const std::string& file_name);

// /proc/<pid>/stat field 22; kNotFound when the process is gone or a zombie.
StatusOr<uint64_t> ProcessStartTime(pid_t pid);
// pidfd_open(2); kNotFound (ESRCH) when the process is gone.
StatusOr<UniqueFd> OpenPidfd(pid_t pid);
Status SignalPidfd(int pidfd, int signo);

// command[0] as the host sees it: absolute as is, else the first executable
// regular file in PATH (the spec's PATH= or the launcher's default); "" when
// none is found.
std::string ResolveBinary(const WorkloadSpec& spec);

struct SpawnRequest {
  std::vector<std::string> argv;  // argv[0] is the executable's path
  std::vector<std::string> env;
  std::string log_path;  // stdout and stderr, appended (0600)
  // If >= 0: becomes the runner's fd 3, its start gate (`run
  // --start-gate-fd 3`): the runner starts nothing until it reads a byte
  // there, and gives up on EOF — so a runner whose agent died before
  // recording it (runner.json) never runs a second, unrecorded instance.
  int start_gate_fd = -1;
};
// posix_spawn in a new session, stdin /dev/null, stdout/stderr to
// log_path, every other fd (but the start gate) closed, signal mask empty
// and dispositions default. Errors: the spawn's errno naming argv[0].
StatusOr<pid_t> SpawnRunner(const SpawnRequest& request);

// The workload's cgroup leaves ("<name>-<pid>") under cgroup_root, v1
// (every <root>/<controller>/edgeward/) and v2 (<root>/edgeward/).
std::vector<std::string> WorkloadCgroupDirs(const std::string& cgroup_root, const std::string& name,
                                            std::optional<pid_t> runner_pid);
// SIGKILL to every process listed in dir/cgroup.procs; how many were signalled.
size_t KillCgroupProcs(const std::string& dir);
// Kills what is left in each dir and removes it (a short bounded wait for
// the processes to die: start-up only). Errors name the dir.
Status CleanCgroups(const std::vector<std::string>& dirs);

// RFC 3339 UTC with milliseconds, as events carry it.
std::string EventTimeNow();
// "SIGKILL" for 9; "SIG<n>" for unknown numbers.
std::string SignalName(int signo);

}  // namespace edgeward::daemon::workload_internal
