// Runs programs through the real `edgeward run` for the escape and
// real-program suites: writes the policy, starts the binary with a timeout,
// collects its exit status, output and --events lines.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace edgeward::escapes {

// Where the suite's pieces are (compile definitions from escapes.cmake).
std::string EdgewardBinary();   // EDGEWARD_BINARY_DIR/agent/edgeward
std::string ProgsDir();         // the escape programs' build directory
std::string ProgPath(const std::string& name);
std::string DefaultPolicyTemplate();  // tests/sandbox/escapes/default-policy.yaml, read

// A fresh directory under /var/tmp (not /tmp: the test policy mounts a tmpfs
// there), mode 0755, owned by `uid`, removed by the destructor.
class WorkDir {
 public:
  explicit WorkDir(uid_t uid);
  ~WorkDir();
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The default test policy with its @PLACEHOLDERS@ replaced by `vars`
// (RW_DIR, PROGS_DIR, NETWORK are required by the template). Unknown or
// unreplaced placeholders abort the test run (a typo must not silently
// produce another policy).
std::string DefaultPolicy(const std::map<std::string, std::string>& vars);

struct SandboxRun {
  int exit_code = -1;      // edgeward's exit status (128+N: the workload died of signal N)
  bool timed_out = false;  // killed by the harness after the timeout
  std::string output;      // stdout and stderr of edgeward and the workload
  std::vector<nlohmann::json> events;  // --events lines, parsed
  std::string events_text;             // the raw lines (for failure messages)

  // The sandbox.violation events naming this syscall.
  std::vector<nlohmann::json> Violations(const std::string& syscall) const;
  // The workload.exit event's exit.signal ("" when absent or no event).
  std::string ExitSignal() const;
  // Everything, for a failure message.
  std::string Describe() const;
};

// Writes `policy_yaml` to <run_dir>/policy.yaml and runs
// `edgeward run --policy <it> --events <run_dir>/events.jsonl -- argv...`
// with stdin from /dev/null. `run_dir` must exist and be writable by root.
SandboxRun RunSandboxed(const std::string& run_dir, const std::string& policy_yaml,
                        const std::vector<std::string>& argv, int timeout_seconds = 120);

}  // namespace edgeward::escapes
