// The seccomp supervisor: the parent-side end of the user-notification
// listener. The launcher puts fd() in its poll loop and calls HandleReady()
// when it is readable; every notified syscall is decided here, in
// userspace, by re-evaluating the compiled rules (PreparedFilter::Decide):
//   enforce: errno → error reply; kill_process → SIGKILL, then error reply;
//            trap → SIGSYS to the thread, then ENOSYS; log → continue
//            (event action "log"); notify → continue (event action "allow").
//   audit:   every violation continues (SECCOMP_USER_NOTIF_FLAG_CONTINUE,
//            Linux >= 5.5) and is reported with action "allow".
//   learn:   everything continues; syscalls, opened paths and TCP ports are
//            recorded (learned()); violations of the policy are reported.
// Every violation is reported through `on_violation` (a sandbox.violation
// event; ViolationEventJson() renders it).
//
// If the supervisor goes away (destroyed, crashed), notified syscalls fail
// with ENOSYS: the filter fails closed.
//
// Not thread-safe; one thread drives it. Needs the rights to signal the
// workload and read its memory (process_vm_readv, for learn mode): the
// launcher, as root, has them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "edgeward/base/fd.h"
#include "edgeward/base/status.h"
#include "edgeward/policy/policy.h"
#include "edgeward/seccomp/filter.h"

namespace edgeward::seccomp {

struct ViolationEvent {
  std::string workload;
  pid_t pid = 0;          // the thread, in the supervisor's PID namespace
  std::string syscall;    // "" when the number has no name
  int nr = 0;
  std::string arch;       // "x86_64" | "aarch64"
  uint64_t args[6] = {};
  std::string action;     // errno(EPERM) | kill_process | kill_thread | trap | log | allow
  policy::Mode mode = policy::Mode::kEnforce;
  std::chrono::system_clock::time_point time;
};

// Exactly the sandbox.violation JSON line of the event contract
// (docs/events.md), without a trailing newline; "node" is left to the caller
// that knows it.
std::string ViolationEventJson(const ViolationEvent& event);

class Supervisor {
 public:
  // `filter` must be the one installed with the listener; its decision table
  // is shared (immutable), so `filter` may go away afterwards.
  Supervisor(UniqueFd listener, const PreparedFilter& filter, policy::Mode mode, std::string workload_name,
             std::function<void(const ViolationEvent&)> on_violation);
  ~Supervisor();
  Supervisor(Supervisor&&) noexcept;
  Supervisor& operator=(Supervisor&&) noexcept;
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Poll for POLLIN; POLLHUP once every task using the filter is gone.
  int fd() const { return listener_.get(); }

  // Handles the pending notifications (at most 256 per call, so one busy
  // workload can't starve the caller's loop: poll reports the rest at once)
  // and returns; never blocks. Errors
  // are the listener's own (kInternal naming the ioctl); a workload thread
  // that died mid-notification is not an error.
  Status HandleReady();

  // What the workload was seen to use (all modes; complete in learn mode,
  // where the small always-allowed core is recorded as used).
  const policy::LearnedUsage& learned() const;

  // Notifications handled so far.
  uint64_t handled() const { return handled_; }

  // The sandbox's PID 1 (the launcher's unreaped child, so its pid can't be
  // reused). When a kill_process or trap can't be delivered to the process
  // whose thread made the call, the supervisor kills this instead — the
  // whole sandbox — rather than degrade to an error return. Unset (0):
  // HandleReady() returns kInternal in that case, after denying the call.
  void set_sandbox_init(pid_t init) { sandbox_init_ = init; }

 private:
  struct Buffers;
  void Record(int nr, const std::string& name, pid_t pid, const uint64_t* args, uint64_t id);
  bool StillValid(uint64_t id) const;
  enum class Delivery { kDelivered, kGone, kImpossible };
  Delivery SignalCaller(pid_t tid, uint64_t id, int sig) const;

  UniqueFd listener_;
  std::shared_ptr<const internal::DecisionTable> table_;
  Arch arch_;
  policy::Mode mode_;
  std::string workload_;
  std::function<void(const ViolationEvent&)> on_violation_;
  std::unique_ptr<Buffers> buffers_;
  uint64_t handled_ = 0;
  pid_t sandbox_init_ = 0;
  std::set<std::string> syscalls_, paths_read_, paths_written_;
  std::set<uint16_t> tcp_bind_, tcp_connect_;
  mutable policy::LearnedUsage learned_;
};

}  // namespace edgeward::seccomp
