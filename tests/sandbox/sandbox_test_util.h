// Shared helpers for the sandbox tests: a policy that confines /bin/sh the
// way the default edge policy does, and a runner that captures the
// workload's output.
#pragma once

#include <string>
#include <vector>

#include "edgeward/base/status.h"
#include "edgeward/policy/policy.h"
#include "edgeward/sandbox/launcher.h"

namespace edgeward::sandbox::testing {

// pid, mount, ipc, uts, net namespaces; network none; read-only /usr /bin
// /lib /lib64 /etc; no capabilities; runs as root (tests switch users
// explicitly).
policy::WorkloadPolicy ShellPolicy(const std::string& name);

struct Outcome {
  StatusOr<RunResult> result = Internal("not run");
  std::string output;               // the workload's stdout and stderr
  std::vector<std::string> events;  // JSON lines
};

// Runs `argv` under `policy` with stdout+stderr captured.
Outcome RunArgv(const policy::WorkloadPolicy& policy, const std::vector<std::string>& argv);
// Runs `shell -c script`.
Outcome RunScript(const policy::WorkloadPolicy& policy, const std::string& script,
                  const std::string& shell = "/bin/sh");

// The cgroup directories a run named `name` from this process uses (v1).
std::vector<std::string> CgroupDirsFor(const std::string& name);

}  // namespace edgeward::sandbox::testing
