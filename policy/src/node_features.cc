#include "edgeward/policy/node_features.h"

#include <linux/landlock.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "edgeward/base/fd.h"
#include "edgeward/base/file.h"

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

namespace edgeward::policy {
namespace {

bool IsFsType(const char* path, long magic) {
  struct statfs st {};
  if (::statfs(path, &st) != 0) return false;
  return static_cast<long>(st.f_type) == magic;
}

std::string ReadSmallFile(const std::string& path) {
  auto s = ReadFileToString(path, 64 * 1024);
  return s.ok() ? *s : std::string();
}

bool SeccompActionAvailable(uint32_t action) {
  return ::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

void ProbeCgroups(NodeFeatures& f) {
  if (IsFsType("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC)) {
    f.cgroup_v2_path = "/sys/fs/cgroup";
    f.cgroup_v2_pure = true;
  } else if (IsFsType("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC)) {
    f.cgroup_v2_path = "/sys/fs/cgroup/unified";
  }
  if (!f.cgroup_v2_path.empty()) {
    std::istringstream in(ReadSmallFile(f.cgroup_v2_path + "/cgroup.controllers"));
    std::string c;
    while (in >> c) f.cgroup_v2_controllers.push_back(c);
    auto has = [&](const char* name) {
      return std::find(f.cgroup_v2_controllers.begin(), f.cgroup_v2_controllers.end(), name) !=
             f.cgroup_v2_controllers.end();
    };
    f.cgroup_v2_unified_with_controllers = has("memory") && has("pids") && has("cpu");
  }
  if (!f.cgroup_v2_pure) {
    // statfs follows the cpu -> cpu,cpuacct symlink some distributions use.
    f.cgroup_v1_memory = IsFsType("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC);
    f.cgroup_v1_pids = IsFsType("/sys/fs/cgroup/pids", CGROUP_SUPER_MAGIC);
    f.cgroup_v1_cpu = IsFsType("/sys/fs/cgroup/cpu", CGROUP_SUPER_MAGIC);
  }
}

void ProbeUserNamespaces(NodeFeatures& f) {
  const std::string max = ReadSmallFile("/proc/sys/user/max_user_namespaces");
  f.user_namespaces = !max.empty() && std::atol(max.c_str()) > 0;
  // Debian/Ubuntu knob (absent upstream) and Ubuntu's AppArmor restriction.
  const std::string deb = ReadSmallFile("/proc/sys/kernel/unprivileged_userns_clone");
  const std::string apparmor = ReadSmallFile("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  f.unprivileged_user_namespaces = f.user_namespaces && (deb.empty() || deb[0] != '0') &&
                                   (apparmor.empty() || apparmor[0] != '1');
}

}  // namespace

int LandlockAbi() {
  const long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi > 0 ? static_cast<int>(abi) : 0;
}

NodeFeatures ProbeNodeFeatures() {
  NodeFeatures f;
  f.landlock_abi = LandlockAbi();
  ProbeCgroups(f);

  struct utsname u {};
  if (::uname(&u) == 0) {
    f.kernel_release = u.release;
    f.machine = u.machine;
    if (std::sscanf(u.release, "%d.%d", &f.kernel_major, &f.kernel_minor) != 2) {
      f.kernel_major = f.kernel_minor = 0;
    }
  }

  f.seccomp_filter = SeccompActionAvailable(SECCOMP_RET_ERRNO);
  f.seccomp_notify = SeccompActionAvailable(SECCOMP_RET_USER_NOTIF);
  f.seccomp_log = SeccompActionAvailable(SECCOMP_RET_LOG);
  f.seccomp_kill_process = SeccompActionAvailable(SECCOMP_RET_KILL_PROCESS);
  // There is no probe for the CONTINUE flag short of installing a filter;
  // it arrived in 5.5 together with SECCOMP_USER_NOTIF_FLAG_CONTINUE.
  f.seccomp_notify_continue =
      f.seccomp_notify && (f.kernel_major > 5 || (f.kernel_major == 5 && f.kernel_minor >= 5));

  ProbeUserNamespaces(f);

  const UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
  f.pidfd = pidfd.valid();
  return f;
}

}  // namespace edgeward::policy
