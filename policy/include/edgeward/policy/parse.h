// Reading a policy file: YAML text → a validated WorkloadPolicy.
//
// The schema is docs/policy.md. Parsing collects every error in the file
// (kInvalidArgument, one error per line of the message, in file order):
//   FILE:LINE:COL: field spec.seccomp.allow[2].names[0]: unknown syscall 'ptrce' (did you mean 'ptrace'?)
// Lines and columns are 1-based. What comes back has passed every check that
// doesn't need the running kernel; a policy that fails never launches
// anything. No exception escapes these functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "edgeward/base/status.h"
#include "edgeward/policy/policy.h"

namespace edgeward::policy {

// Policy files larger than this are refused (kInvalidArgument).
inline constexpr size_t kMaxPolicyBytes = 1 << 20;

// Reads and parses `path`. A file that can't be read gives the read error
// (kNotFound for a missing file); a bad policy gives kInvalidArgument.
StatusOr<WorkloadPolicy> ParsePolicyFile(const std::string& path);

// Parses `yaml`; `file_name` is used in error messages and SourceLocations.
// A seccomp profile given as a path is checked for existence (stat).
StatusOr<WorkloadPolicy> ParsePolicy(std::string_view yaml, const std::string& file_name);

// ---- value syntaxes, shared with `policy learn` and tests -------------------

// "256Mi", "1G", "1048576", "512Ki", "2T": bytes. Binary suffixes Ki Mi Gi Ti
// Pi (1024^n), decimal K/k M G T P (1000^n). kInvalidArgument on bad syntax or
// overflow; range checks are the validator's.
StatusOr<uint64_t> ParseMemorySize(std::string_view text);

// "0.5", "2", "500m": thousandths of a CPU (at most three decimals).
StatusOr<uint32_t> ParseCpuMillis(std::string_view text);

// Absolute path → lexically normal form ("//" collapsed, "." dropped,
// trailing "/" removed). kInvalidArgument for relative paths, "..",
// NUL/control characters and paths longer than PATH_MAX.
StatusOr<std::string> NormalizePolicyPath(std::string_view path);

// "errno(EPERM)", "errno(13)", "errno" (EPERM), "kill" (= kill_process),
// "kill_process", "kill_thread", "trap", "log", "notify", "allow".
StatusOr<SeccompAction> ParseSeccompAction(std::string_view text);
// The canonical spelling ParseSeccompAction reads back: "errno(EACCES)", "kill_process", ...
std::string FormatSeccompAction(const SeccompAction& action);

std::string_view ModeName(Mode mode);                 // "enforce"
std::string_view NamespaceName(Namespace ns);         // "pid", "mount", ...
std::string_view NetworkModeName(NetworkMode mode);   // "none", "loopback", "host"
std::string_view ArgOpName(ArgOp op);                 // "eq", ..., "masked_eq"

// True when listing `name` in spec.seccomp.allow needs an allowDangerous
// entry: the whole call is dangerous (DangerKind::kWhole, and unshare/clone3,
// whose namespace flags seccomp can't separate). clone, ioctl and personality
// may be allowed freely: their dangerous part stays denied unless opted in.
bool AllowNeedsOptIn(std::string_view name);

}  // namespace edgeward::policy
