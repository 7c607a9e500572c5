// ProbeNodeFeatures against the running kernel (read-only probes).
#include "edgeward/policy/node_features.h"

#include <linux/landlock.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace edgeward::policy {
namespace {

TEST(NodeFeatures, LandlockAbiMatchesTheKernel) {
  const long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  EXPECT_EQ(LandlockAbi(), abi > 0 ? abi : 0);
  EXPECT_EQ(ProbeNodeFeatures().landlock_abi, LandlockAbi());
}

TEST(NodeFeatures, KernelReleaseAndVersion) {
  struct utsname u {};
  ASSERT_EQ(::uname(&u), 0);
  const NodeFeatures f = ProbeNodeFeatures();
  EXPECT_EQ(f.kernel_release, u.release);
  EXPECT_EQ(f.machine, u.machine);
  EXPECT_GE(f.kernel_major, 3);
  // This code base needs seccomp filters; every supported kernel has them.
  EXPECT_TRUE(f.seccomp_filter);
  EXPECT_EQ(f.seccomp_notify_continue,
            f.seccomp_notify && (f.kernel_major > 5 || (f.kernel_major == 5 && f.kernel_minor >= 5)));
}

TEST(NodeFeatures, CgroupLayoutIsConsistent) {
  const NodeFeatures f = ProbeNodeFeatures();
  if (f.cgroup_v2_pure) {
    EXPECT_EQ(f.cgroup_v2_path, "/sys/fs/cgroup");
    EXPECT_FALSE(f.cgroup_v1_memory || f.cgroup_v1_pids || f.cgroup_v1_cpu);
  }
  if (f.cgroup_v2_unified_with_controllers) {
    EXPECT_FALSE(f.cgroup_v2_controllers.empty());
  }
  // Some way to limit memory exists on every node we run on (v1 or v2).
  EXPECT_TRUE(f.cgroup_v2_unified_with_controllers || f.cgroup_v1_memory);
}

TEST(NodeFeatures, PidfdProbeMatchesPidfdOpen) {
  const long fd = ::syscall(SYS_pidfd_open, ::getpid(), 0);
  if (fd >= 0) ::close(static_cast<int>(fd));
  EXPECT_EQ(ProbeNodeFeatures().pidfd, fd >= 0);
}

}  // namespace
}  // namespace edgeward::policy
