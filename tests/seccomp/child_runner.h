// Test harness: runs a function in a forked child under a PreparedFilter,
// with a real Supervisor in the parent when the filter needs one.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "edgeward/policy/policy.h"
#include "edgeward/seccomp/filter.h"
#include "edgeward/seccomp/supervisor.h"

namespace edgeward::seccomp::testing {

struct ChildResult {
  bool exited = false;
  int exit_code = -1;
  int signal = 0;  // when killed by a signal
  std::vector<ViolationEvent> events;
  policy::LearnedUsage learned;
  std::string install_error;  // the ChildFailure, when the install failed
};

// Forks; the child sets no_new_privs, installs `filter` (handing the
// listener over a socketpair) and returns `body()` as its exit status via
// _exit. `body` runs under the filter: use raw syscalls or code that only
// needs what the filter allows, and never return through gtest.
ChildResult RunUnderFilter(const PreparedFilter& filter, const std::function<int()>& body,
                           const std::string& workload = "test");

// A policy with `profile` (kNone: empty), mode and optional default.
policy::WorkloadPolicy MakePolicy(policy::SeccompProfileKind profile, policy::Mode mode = policy::Mode::kEnforce);

policy::SyscallRule Rule(std::vector<std::string> names, policy::SeccompAction action,
                         std::vector<policy::ArgCondition> args = {});

inline policy::SeccompAction Errno(uint16_t e) { return {policy::SeccompActionKind::kErrno, e}; }
inline policy::SeccompAction Act(policy::SeccompActionKind k) { return {k, 0}; }

}  // namespace edgeward::seccomp::testing
