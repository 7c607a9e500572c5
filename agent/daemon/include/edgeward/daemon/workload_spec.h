// Workload declarations: what the agent runs, under which policy, and how it
// restarts (docs/workloads.md). One YAML document per file,
// `workloads/<name>.yaml` in a bundle or in a local directory:
//
//   apiVersion: edgeward/v1
//   kind: Workload
//   metadata: {name: sensor-reader}
//   spec:
//     command: [/usr/bin/sensor, --interval, "5"]
//     env: [LOG_LEVEL=info]
//     policy: sensor-reader          # metadata.name of a policy in policies/
//     restart: {policy: always, backoff: {initial: 1s, max: 60s},
//               crashLoop: {count: 5, within: 60s}}
//     startOrder: 10
//     measure: [/etc/sensor/sensor.conf]
//
// Parse, then validate, then use: the parsers return a typed, validated
// WorkloadSpec or kInvalidArgument listing every problem, one per line, as
// "FILE:LINE:COL: field spec.restart.policy: unknown restart policy
// 'alway' (did you mean 'always'?)". No exception escapes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/base/status.h"

namespace edgeward::daemon {

inline constexpr size_t kMaxWorkloadSpecBytes = 64u << 10;
inline constexpr size_t kMaxWorkloads = 256;

enum class RestartPolicy {
  kAlways,     // restart after any exit
  kOnFailure,  // restart after a non-zero exit or a signal
  kNever,
};
// "always", "on-failure", "never".
std::string_view RestartPolicyName(RestartPolicy policy);

struct RestartRule {
  RestartPolicy policy = RestartPolicy::kAlways;
  // Delay before restart n (0-based) is initial * 2^n, at most `max`; the
  // count starts again after a run that lasted at least crash_loop_within.
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{60000};
  // crash_loop_count exits within crash_loop_within → state crash_loop,
  // event workload.crash_loop, no more restarts until Restart() or a
  // changed spec.
  uint32_t crash_loop_count = 5;
  std::chrono::milliseconds crash_loop_within{60000};
};

struct WorkloadSpec {
  std::string name;                   // metadata.name: [a-z0-9][a-z0-9.-]*, ≤ 63
  std::vector<std::string> command;   // argv; command[0] absolute or found in PATH
  std::vector<std::string> env;       // KEY=VALUE, keys unique
  std::string policy;                 // metadata.name of the WorkloadPolicy
  RestartRule restart;
  int64_t start_order = 0;            // lower starts first; ties by name
  std::vector<std::string> measure;   // absolute paths hashed with the binary before every start
  std::string source;                 // the file it came from (for messages)

  // Filled by LoadWorkloads() (empty after ParseWorkloadSpec alone):
  std::string policy_path;    // "policies/sensor-reader.yaml"
  std::string policy_text;    // that file's bytes; the runner gets exactly these
  std::string policy_digest;  // SHA-256 hex of policy_text
  // SHA-256 hex over every field above except `source` and the policy's
  // bytes (so a changed policy and a changed spec can be told apart).
  std::string spec_digest;
};

// Parses one workload file. Errors (kInvalidArgument, every problem with its
// location): YAML syntax, unknown keys (with a suggestion), missing
// apiVersion/kind/metadata.name/spec.command/spec.policy, bad names,
// durations ("500ms", "1s", "2m", "1h"), relative measure paths, env
// entries without '=', duplicates, a file larger than kMaxWorkloadSpecBytes
// or holding more than one document.
StatusOr<WorkloadSpec> ParseWorkloadSpec(std::string_view yaml, const std::string& file_name);

// Parses every workloads/*.yaml (or .yml) in `files` (bundle path → bytes,
// as in a bundle's payload) and resolves each `policy` against the
// policies/ files (parsed with policy::ParsePolicy; a workload names a
// policy by its metadata.name). Returns the specs sorted by (start_order,
// name), digests filled. Errors name the file, line and field: a workload
// naming a policy that isn't there (with the closest name), two workloads
// with the same name (both files), two policies with the same name, a policy
// that doesn't parse, more than kMaxWorkloads workloads. Files outside
// workloads/ and policies/ are ignored.
StatusOr<std::vector<WorkloadSpec>> LoadWorkloads(const std::map<std::string, std::string>& files);

// Reads DIR/workloads/* and DIR/policies/* (regular files, one level deep
// for workloads, as in a bundle for policies) and calls LoadWorkloads. A
// missing DIR/workloads → no workloads; unreadable files → their errno
// status naming the path.
StatusOr<std::vector<WorkloadSpec>> LoadWorkloadsFromDir(const std::string& dir);

}  // namespace edgeward::daemon
