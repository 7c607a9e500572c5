// Protections a policy asks for that this node's kernel can't provide, so a
// degraded node shows up in `policy explain` instead of failing silently.
#include <string>

#include "explain_internal.h"

namespace edgeward::policy::internal {

std::vector<std::string> NodeGaps(const WorkloadPolicy& p, const NodeFeatures& n) {
  std::vector<std::string> gaps;
  const bool has_tcp_rules = !p.network.tcp_bind.empty() || !p.network.tcp_connect.empty() ||
                             p.network.mode != NetworkMode::kNone;
  if (n.landlock_abi == 0) {
    gaps.push_back("no Landlock: filesystem access rests on the mount namespace alone; TCP port rules not enforced");
  } else {
    if (n.landlock_abi < 4 && has_tcp_rules) {
      gaps.push_back("Landlock ABI " + std::to_string(n.landlock_abi) +
                     " < 4: TCP port rules (tcpBind/tcpConnect) not enforced");
    }
    if (n.landlock_abi < 2) {
      gaps.push_back("Landlock ABI 1: renames and links across directories (REFER) not controlled");
    }
    if (n.landlock_abi < 3) {
      gaps.push_back("Landlock ABI " + std::to_string(n.landlock_abi) +
                     " < 3: truncating files is not controlled");
    }
    if (n.landlock_abi < 6 && (!HasNamespace(p, Namespace::kPid) || p.network.mode == NetworkMode::kHost)) {
      gaps.push_back("Landlock ABI " + std::to_string(n.landlock_abi) +
                     " < 6: signals and abstract unix sockets to processes outside are not scoped");
    }
  }

  const bool wants_limits = p.limits.memory_bytes || p.limits.pids || p.limits.cpu_millis;
  if (!n.cgroup_v2_unified_with_controllers) {
    const bool any_v1 = n.cgroup_v1_memory || n.cgroup_v1_pids || n.cgroup_v1_cpu;
    if (any_v1) {
      gaps.push_back("cgroup v1 only (v2 " +
                     (n.cgroup_v2_path.empty() ? std::string("not mounted") : "at " + n.cgroup_v2_path + " has no controllers") +
                     "): limits use the v1 hierarchies; no memory.high throttling or pressure information");
    }
    if (p.limits.memory_bytes && !n.cgroup_v1_memory) gaps.push_back("no memory controller: memory limit not enforced");
    if (p.limits.pids && !n.cgroup_v1_pids) gaps.push_back("no pids controller: pids limit not enforced (fork bombs)");
    if (p.limits.cpu_millis && !n.cgroup_v1_cpu) gaps.push_back("no cpu controller: CPU limit not enforced");
    if (!any_v1 && !wants_limits) gaps.push_back("no usable cgroup controllers: resource limits can't be enforced");
  }

  if (!n.seccomp_filter) {
    gaps.push_back("no seccomp filter support: syscalls can't be filtered (the launcher refuses to run)");
  } else {
    if (!n.seccomp_notify) {
      gaps.push_back("no seccomp user notification: violations are not reported as events"
                     " (audit falls back to the kernel log; learn mode can't record syscalls)");
    } else if (!n.seccomp_notify_continue && p.mode != Mode::kEnforce) {
      gaps.push_back("seccomp notify without CONTINUE (kernel < 5.5): audit/learn can't let a watched syscall proceed");
    }
    if (!n.seccomp_kill_process) gaps.push_back("no SECCOMP_RET_KILL_PROCESS (kernel < 4.14): kill acts per thread");
  }
  if (HasNamespace(p, Namespace::kUser) && !n.user_namespaces) {
    gaps.push_back("user namespaces disabled (user.max_user_namespaces = 0): the policy's user namespace can't be created");
  }
  if (!n.pidfd) gaps.push_back("no pidfd (kernel < 5.3): signal forwarding uses PIDs, which can be reused");
  return gaps;
}

}  // namespace edgeward::policy::internal
