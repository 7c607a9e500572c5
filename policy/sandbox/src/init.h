// The child side of the launcher: our PID 1 ("init") and the workload
// process it forks. Everything here runs between clone() and execve():
// syscalls only, no allocation, no exceptions, no logging. Failures go to
// the parent as a ChildFailure record over `fail_fd`.
#pragma once

#include <signal.h>

#include "capabilities.h"
#include "mounts.h"
#include "namespaces.h"
#include "rlimits.h"
#include "user.h"

namespace edgeward::seccomp {
class PreparedFilter;
}

namespace edgeward::sandbox {

class LandlockPlan;

// Everything the child needs, prepared by the parent before clone(). The
// child only reads it (its copy of the parent's memory).
struct ChildContext {
  NamespacePlan ns;
  MountPlan mounts;
  UserPlan user;
  RlimitPlan rlimits;
  CapabilityPlan caps;
  const LandlockPlan* landlock = nullptr;          // null: Landlock not applied
  const seccomp::PreparedFilter* filter = nullptr;  // null: no seccomp filter
  const char* hostname = nullptr;
  char* const* argv = nullptr;  // NULL-terminated
  char* const* envp = nullptr;  // NULL-terminated
  const char* path_search = nullptr;  // PATH used to find argv[0]
  int fail_fd = -1;     // write end of the failure pipe (CLOEXEC)
  int control_fd = -1;  // init's end: reads "go", writes the wait status
  int handoff_fd = -1;  // the workload's end of the seccomp listener handoff
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  sigset_t workload_mask;  // the signal mask the workload starts with
  sigset_t init_signals;   // what init waits for (SIGCHLD + forwarded)
};

// Exit code of init when setup failed before the workload ran (the parent
// reports the ChildFailure instead of this code).
inline constexpr int kSetupFailedExit = 125;

// The first process in the new namespaces. Never returns.
[[noreturn]] void RunInit(const ChildContext& ctx);

}  // namespace edgeward::sandbox
