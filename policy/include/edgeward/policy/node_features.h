// What the running kernel can enforce: probed once, read by `policy explain`
// (degraded-node notes), the launcher (which steps to take, cgroup v1 or v2)
// and the Landlock step (which ABI to target).
//
// Probing never fails: anything that can't be determined reads as "not
// available", which makes explain report it as a missing protection rather
// than claim one. Plain data; ProbeNodeFeatures() is thread-safe.
#pragma once

#include <string>
#include <vector>

namespace edgeward::policy {

struct NodeFeatures {
  // Landlock ABI version (1..); 0 when Landlock is missing or disabled.
  // ABI >= 4 adds TCP bind/connect rules; 5 ioctl on devices; 6 scoping.
  int landlock_abi = 0;

  // cgroup v2: where its tree is mounted ("" when nowhere), whether it is the
  // only hierarchy (pure v2) and which controllers its root offers.
  std::string cgroup_v2_path;  // "/sys/fs/cgroup" or "/sys/fs/cgroup/unified"
  bool cgroup_v2_pure = false;
  std::vector<std::string> cgroup_v2_controllers;
  // The v2 tree offers memory, pids and cpu: limits can be set there.
  bool cgroup_v2_unified_with_controllers = false;
  // v1 hierarchies mounted under /sys/fs/cgroup/<controller>.
  bool cgroup_v1_memory = false;
  bool cgroup_v1_pids = false;
  bool cgroup_v1_cpu = false;

  bool seccomp_filter = false;           // seccomp(SECCOMP_SET_MODE_FILTER) exists
  bool seccomp_notify = false;           // SECCOMP_RET_USER_NOTIF (5.0+)
  bool seccomp_notify_continue = false;  // SECCOMP_USER_NOTIF_FLAG_CONTINUE (5.5+)
  bool seccomp_log = false;              // SECCOMP_RET_LOG (4.14+)
  bool seccomp_kill_process = false;     // SECCOMP_RET_KILL_PROCESS (4.14+)

  bool user_namespaces = false;               // user.max_user_namespaces > 0
  bool unprivileged_user_namespaces = false;  // and not disabled for unprivileged users
  bool pidfd = false;                         // pidfd_open (5.3+)

  std::string kernel_release;  // uname -r
  int kernel_major = 0;
  int kernel_minor = 0;
  std::string machine;  // uname -m: "x86_64", "aarch64"

  // True when memory, pids and cpu limits can all be enforced (v2 or v1).
  bool CanLimitResources() const {
    return cgroup_v2_unified_with_controllers || (cgroup_v1_memory && cgroup_v1_pids && cgroup_v1_cpu);
  }
};

// Probes the running kernel (syscalls and /proc, /sys reads; no state change).
NodeFeatures ProbeNodeFeatures();

// landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION); 0 when
// Landlock is unsupported or disabled.
int LandlockAbi();

}  // namespace edgeward::policy
