// The workload launcher: runs a command confined by a WorkloadPolicy and
// returns its exit status.
//
// One fixed sequence (launcher.cc), each step in its own file:
//   parent:  plans for every step, seccomp filter (cached BPF), cgroup with
//            limits, clone3() into the namespaces
//   init:    (our PID 1 of the new pid namespace) waits until the parent has
//            put it into the cgroup, then namespaces (cgroup ns, lo up,
//            hostname), mounts (new root, pivot_root); forks the workload,
//            reaps zombies, forwards signals, exits with the workload's status
//   workload: rlimits, capability bounding set, uid/gid switch, remaining
//            capabilities, no_new_privs, Landlock, seccomp, execve
// docs/sandbox.md explains why each step runs where it does.
//
// Requirements on the caller: call from the main thread of a process that
// has no other threads (clone() copies only the calling thread and the
// child must not inherit held locks). Run() blocks SIGCHLD, SIGTERM,
// SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 in the calling thread while
// the workload runs (forwarding the latter six to it) and restores the mask
// before returning. Needs root (or the capabilities for the namespaces,
// mounts and cgroups the policy asks for).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "edgeward/base/status.h"
#include "edgeward/policy/policy.h"

namespace edgeward::sandbox {

struct LaunchSpec {
  policy::WorkloadPolicy policy;   // validated (policy::ParsePolicyFile)
  std::vector<std::string> argv;   // argv[0] is looked up in PATH inside the sandbox
  // The workload's environment. Empty: PATH, HOME=/ and TERM (when set)
  // only; the agent's own environment is never passed through implicitly.
  std::vector<std::string> env;
  std::string name;                // for events and the cgroup; default policy.name
  std::string node_id;             // "node":{"id":...} in events when not empty
  std::string state_dir;           // seccomp BPF cache in <state_dir>/seccomp-cache
  std::string cgroup_root = "/sys/fs/cgroup";
  // The workload's stdio; -1 inherits ours. Borrowed, not closed.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // Each event as one JSON object without the trailing newline
  // (workload.start, workload.exit, sandbox.violation; /work/helper-events.md).
  // Called on the launcher's thread.
  std::function<void(const std::string& json_line)> on_event;
  // Each degraded protection, as a sentence; called before launch. When
  // unset, degraded protections are logged as warnings.
  std::function<void(const std::string& warning)> on_warning;
  // How long the workload may take between clone() and handing over its
  // seccomp listener (setup time, not run time).
  int setup_timeout_ms = 10000;
};

struct RunResult {
  int exit_status = 0;        // exit code, or 128 + signal number
  std::optional<int> signal;  // the signal that killed the workload
  pid_t pid = 0;              // the workload's pid (in our pid namespace)
  std::vector<std::string> degraded;
  // mode learn: what the workload was seen to use.
  std::optional<policy::LearnedUsage> learned;
};

// Runs spec.argv confined by spec.policy and waits for it. Errors (nothing
// keeps running after an error):
//  - a setup step failed in the child: the code errno maps to (ErrnoStatus),
//    message "sandbox step 'mounts': mount(/usr -> /usr, MS_BIND): No such
//    file or directory";
//  - a parent-side step failed (cgroup, seccomp compile): its Status, with
//    "sandbox step '<step>'" as context;
//  - kInvalidArgument for an empty argv or a policy the launcher can't honour.
// A workload that starts and then fails is not an error: see exit_status.
StatusOr<RunResult> Run(const LaunchSpec& spec);

}  // namespace edgeward::sandbox
