// WorkloadPolicy: the typed, validated form of a policy file (docs/policy.md).
//
// Parse, then validate, then use: ParsePolicyFile()/ParsePolicy() (parse.h)
// are the only way to get one from outside input, and what they return has
// passed every check that doesn't need the running kernel. The sandbox
// (edgeward::sandbox) and the seccomp compiler (edgeward::seccomp) take their
// own part of this struct and never see YAML.
//
// Plain data: copyable, no hidden state, no thread-safety concerns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace edgeward::policy {

// Where a value came from, for error messages and `policy explain`.
struct SourceLocation {
  std::string file;  // as given by the caller ("<string>" when parsed from memory)
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown
};

enum class Mode {
  kEnforce,  // violations take the policy's action
  kAudit,    // violations proceed and are recorded as events
  kLearn,    // everything proceeds; syscalls, paths and ports are recorded
};

enum class Namespace { kPid, kMount, kIpc, kUts, kNet, kCgroup, kUser };

enum class NetworkMode {
  kNone,      // a new network namespace with no interface up
  kLoopback,  // a new network namespace with only `lo` up
  kHost,      // the host's network namespace (Landlock TCP rules still apply)
};

struct UserSpec {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> supplementary_gids;  // empty: all dropped
};

// Paths are absolute and lexically normal (no "..", no "//", no trailing /).
struct FilesystemSpec {
  std::vector<std::string> read_only;   // bind-mounted read-only; read+execute
  std::vector<std::string> read_write;  // bind-mounted read-write
  std::vector<std::string> tmpfs;       // fresh tmpfs, read-write, noexec
};

struct NetworkSpec {
  NetworkMode mode = NetworkMode::kNone;
  // TCP ports the workload may bind / connect to. Enforced with Landlock
  // where the kernel's ABI has TCP rules (ABI >= 4); everything else is
  // refused. Empty lists: no TCP bind / connect at all.
  std::vector<uint16_t> tcp_bind;
  std::vector<uint16_t> tcp_connect;
};

// Resource limits; an absent value means "not limited by the policy".
struct Limits {
  std::optional<uint64_t> memory_bytes;  // cgroup memory limit
  std::optional<uint64_t> pids;          // cgroup pids.max
  std::optional<uint32_t> cpu_millis;    // CPU quota in thousandths of a CPU ("0.5" -> 500)
  std::optional<uint64_t> nofile;        // RLIMIT_NOFILE (soft = hard)
};

// ---- seccomp ---------------------------------------------------------------

enum class SeccompActionKind {
  kAllow,
  kErrno,        // fail the call with `errno_value`
  kKillProcess,
  kKillThread,
  kTrap,         // SIGSYS
  kLog,          // allow, and log through the kernel
  kNotify,       // ask the supervisor (user notification)
};

struct SeccompAction {
  SeccompActionKind kind = SeccompActionKind::kErrno;
  uint16_t errno_value = 1;  // EPERM; only for kErrno
  bool operator==(const SeccompAction&) const = default;
};

enum class ArgOp { kEq, kNe, kLt, kLe, kGt, kGe, kMaskedEq };

// Argument `index` (0..5) compared with `value`; for kMaskedEq the test is
// (arg & mask) == value.
struct ArgCondition {
  unsigned index = 0;
  ArgOp op = ArgOp::kEq;
  uint64_t value = 0;
  uint64_t mask = 0;
  bool operator==(const ArgCondition&) const = default;
};

// One rule: these syscalls (by name; never numbers, so one policy serves
// x86_64 and aarch64) get `action` when all `args` conditions hold.
struct SyscallRule {
  std::vector<std::string> names;
  SeccompAction action;
  std::vector<ArgCondition> args;
  SourceLocation where;
};

// A syscall from the dangerous set (docs/policy.md) that this policy lets the
// workload use, and why. Without one, the dangerous set is always denied.
struct DangerousOptIn {
  std::string name;
  std::string reason;
  SourceLocation where;
};

enum class SeccompProfileKind {
  kBaseline,  // shipped: what a typical service needs (rules/seccomp/baseline.json)
  kStrict,    // shipped: a minimal daemon (rules/seccomp/strict.json)
  kOciFile,   // an OCI runtime-spec / Docker / Podman seccomp JSON at `profile_path`
  kNone,      // no base profile: `allow`/`deny` and `default_action` only
};

struct SeccompSpec {
  SeccompProfileKind profile = SeccompProfileKind::kBaseline;
  std::string profile_path;  // absolute; only for kOciFile
  // Overrides the profile's default action. kAllow makes the filter a
  // denylist (the dangerous set stays denied unless opted in).
  std::optional<SeccompAction> default_action;
  std::vector<SyscallRule> allow;  // action is always kAllow
  std::vector<SyscallRule> deny;   // action is never kAllow
  std::vector<DangerousOptIn> allow_dangerous;
};

// ---- the policy ------------------------------------------------------------

struct WorkloadPolicy {
  std::string name;  // metadata.name: [a-z0-9]([-a-z0-9.]*[a-z0-9])?, <= 63 chars
  Mode mode = Mode::kEnforce;
  std::optional<UserSpec> user;        // absent: run as the invoking user
  std::vector<Namespace> namespaces;   // sorted, unique
  NetworkSpec network;
  FilesystemSpec filesystem;
  std::vector<std::string> capabilities;  // kept, e.g. "CAP_NET_BIND_SERVICE"; sorted, unique
  Limits limits;
  SeccompSpec seccomp;
  SourceLocation where;  // of the document
};

// What a workload was seen to use in `mode: learn` (recorded by the seccomp
// supervisor), from which `policy learn` writes a minimal policy.
struct LearnedUsage {
  std::vector<std::string> syscalls;      // names, sorted, unique
  std::vector<std::string> paths_read;    // absolute paths opened for reading/executing
  std::vector<std::string> paths_written; // absolute paths opened for writing/created
  std::vector<uint16_t> tcp_bind;         // sorted, unique
  std::vector<uint16_t> tcp_connect;      // sorted, unique
};

}  // namespace edgeward::policy
