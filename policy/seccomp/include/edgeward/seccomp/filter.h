// The seccomp compiler and installer: a WorkloadPolicy's seccomp section
// (plus its base profile, the dangerous set and the policy's mode) becomes a
// BPF program for one architecture, compiled with libseccomp, and is
// installed in the workload's child as the last step before execve().
//
// Semantics (docs/seccomp.md has the full story):
//   - Rules are taken per syscall in precedence order: dangerous-set denials
//     (unless opted in with allowDangerous), the policy's `deny`, its `allow`,
//     then the base profile. The first rule without argument conditions ends
//     the list for that syscall; anything else falls to the default action
//     (the profile's, or spec.default_action; kAllow makes a denylist).
//   - Non-native architectures are killed (bad-arch action kill_process), and
//     on x86_64 so are x32 syscalls (nr with __X32_SYSCALL_BIT).
//   - mode enforce: a violation (a syscall whose action is errno, kill_process,
//     trap or log) becomes SECCOMP_RET_USER_NOTIF, and the Supervisor
//     (supervisor.h) applies the action and reports an event. kill_thread and
//     bad-arch stay native (no event). mode audit: violations are notified,
//     recorded and continued. mode learn: everything outside a small core is
//     notified, recorded and continued.
//   - If the supervisor dies, notified syscalls fail with ENOSYS: the filter
//     fails closed.
//
// Ownership: a PreparedFilter owns its BPF programs and shares an immutable
// decision table with any Supervisor built from it. Thread safety: const
// methods may be called concurrently.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/base/fd.h"
#include "edgeward/base/status.h"
#include "edgeward/policy/policy.h"

namespace edgeward::sandbox {
struct ChildFailure;
}

namespace edgeward::seccomp {

enum class Arch { kX86_64, kAarch64 };

// The architecture this binary runs on.
Arch NativeArch();
// "x86_64" / "aarch64" (as the sandbox.violation event names them).
std::string_view ArchName(Arch arch);

struct PrepareOptions {
  std::string cache_dir;  // empty: no cache. Created 0700 when missing.
  Arch arch = NativeArch();
  // false: no supervisor; violations take the policy's action natively in
  // the kernel and produce no events (notify becomes log). Only for mode
  // enforce (audit and learn need the supervisor: kFailedPrecondition).
  bool supervise = true;
};

namespace internal {
struct DecisionTable;  // decision.h
}

// What the filter does with one syscall (nr + arguments) of the target arch,
// as the supervisor re-evaluates it in userspace.
struct Decision {
  policy::SeccompAction action;  // the policy's action (never kNotify)
  bool violation = false;        // action is not kAllow (or the syscall is unknown)
  std::string_view name;         // "" when the number has no name on the arch
};

// A compiled filter for one architecture, ready to install. Move-only.
class PreparedFilter {
 public:
  PreparedFilter(PreparedFilter&&) noexcept;
  PreparedFilter& operator=(PreparedFilter&&) noexcept;
  PreparedFilter(const PreparedFilter&) = delete;
  PreparedFilter& operator=(const PreparedFilter&) = delete;
  ~PreparedFilter();

  // True when violations are reported through a user-notification listener
  // (mode audit or learn, or enforce with any notified action), so the
  // launcher must run a Supervisor.
  bool needs_supervisor() const { return needs_supervisor_; }
  // SHA-256 (hex) over the BPF program(s), in install order.
  const std::string& hash_hex() const { return hash_hex_; }
  // Instructions in all programs together.
  size_t instruction_count() const;
  Arch arch() const { return arch_; }
  policy::Mode mode() const { return mode_; }
  // True when this filter came from the BPF cache rather than libseccomp.
  bool from_cache() const { return from_cache_; }

  // The main program (installed first, with the listener when
  // needs_supervisor()), and the optional second program that applies the
  // policy's native action to sendmsg after the listener handoff (empty
  // when the policy allows sendmsg).
  std::span<const sock_filter> main_program() const { return main_; }
  std::span<const sock_filter> sendmsg_program() const { return sendmsg_; }

  // Syscall names the compiler skipped: unknown to libseccomp, or not on
  // this architecture (from an OCI profile; policy names are validated).
  const std::vector<std::string>& skipped_syscalls() const { return skipped_; }

  // Re-evaluates the compiled rules for syscall `nr` with `args`, as the
  // kernel filter would (first the arch check, then the ordered rules).
  Decision Decide(int nr, std::span<const uint64_t, 6> args) const;

  std::shared_ptr<const internal::DecisionTable> table() const { return table_; }

 private:
  friend StatusOr<PreparedFilter> PrepareFilter(const policy::WorkloadPolicy&, const PrepareOptions&);
  PreparedFilter();

  Arch arch_ = Arch::kX86_64;
  policy::Mode mode_ = policy::Mode::kEnforce;
  bool needs_supervisor_ = false;
  bool from_cache_ = false;
  std::vector<sock_filter> main_;
  std::vector<sock_filter> sendmsg_;
  std::string hash_hex_;
  std::vector<std::string> skipped_;
  std::shared_ptr<const internal::DecisionTable> table_;
};

// Compiles `policy.seccomp` (base profile + rules + dangerous set) for
// `options.arch` under `policy.mode`, or loads it from the cache. Errors:
// kNotFound / kInvalidArgument for a missing or malformed OCI profile
// (located: "FILE:LINE:COL: syscalls[12].action: ..."), kInvalidArgument for
// rules libseccomp rejects, kInternal when libseccomp fails. A corrupt cache
// entry is ignored and recompiled, never an error.
StatusOr<PreparedFilter> PrepareFilter(const policy::WorkloadPolicy& policy,
                                       const PrepareOptions& options);

// CHILD SIDE, after no_new_privs, as the very last step before execve:
// syscalls only, no allocation, no exceptions. Installs the filter; when
// needs_supervisor(), creates the listener (SECCOMP_FILTER_FLAG_NEW_LISTENER)
// and sends it over `handoff_fd` (a unix socket) with SCM_RIGHTS, then
// closes it; then installs sendmsg_program() if any. Returns false with
// `failure` filled (step "seccomp") on error. `filter.arch()` must be the
// native arch (else false, call "arch").
bool InstallInChild(const PreparedFilter& filter, int handoff_fd, sandbox::ChildFailure* failure);

// PARENT SIDE: receives the listener fd sent by InstallInChild, waiting at
// most `timeout_ms`. kUnavailable on timeout or when the peer closed the
// socket without sending (the child failed; read its ChildFailure);
// kInternal on a failed call.
StatusOr<UniqueFd> ReceiveListener(int handoff_fd, int timeout_ms);

}  // namespace edgeward::seccomp
