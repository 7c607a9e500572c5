// Regression tests for the security review of the sandbox (issue 3): each
// one is an attack that worked before its fix. Real namespaces and mounts,
// run as root.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sandbox_test_util.h"
#include "swtpm.h"

namespace edgeward::sandbox {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunScript;
using testing::ShellPolicy;

// Finding 1: the fresh /proc exposed host-wide tunables and kernel memory.
TEST(HardeningTest, ProcSysIsReadOnlyAndKernelMemoryIsNull) {
  // Which of the masked files this kernel has (kcore needs CONFIG_PROC_KCORE;
  // these VMs lack it, but have keys, timer_list and kallsyms).
  std::vector<std::string> masked;
  for (const char* name : {"kcore", "keys", "timer_list", "sched_debug", "kallsyms"}) {
    struct stat st;
    if (::stat((std::string("/proc/") + name).c_str(), &st) == 0) masked.push_back(name);
  }
  ASSERT_FALSE(masked.empty());
  std::string script =
      "if echo edgeward-x > /proc/sys/kernel/hostname 2>/dev/null; then echo sysctl-written; fi\n"
      "if [ -e /proc/sysrq-trigger ] && printf h > /proc/sysrq-trigger 2>/dev/null; then echo sysrq-written; fi\n"
      "awk '$5==\"/proc/sys\"{print \"sys:\" $6}' /proc/self/mountinfo\n"
      "hostname\n";
  for (const std::string& m : masked) {
    script += "echo " + m + "=$(stat -c %t:%T /proc/" + m + ") bytes=$(head -c 64 /proc/" + m + " | wc -c)\n";
  }
  auto o = RunScript(ShellPolicy("procmask"), script);
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  EXPECT_EQ(o.result->exit_status, 0) << o.output;
  EXPECT_THAT(o.output, Not(HasSubstr("sysctl-written")));
  EXPECT_THAT(o.output, Not(HasSubstr("sysrq-written")));
  EXPECT_THAT(o.output, Not(HasSubstr("edgeward-x")));
  EXPECT_THAT(o.output, HasSubstr("sys:ro,"));
  // /dev/null (char 1:3) is bound over each: it opens and reads nothing.
  for (const std::string& m : masked) EXPECT_THAT(o.output, HasSubstr(m + "=1:3 bytes=0\n"));
}

// The masks hold in an unprivileged-uid workload too, and the process list
// still works (the masks must not break /proc itself).
TEST(HardeningTest, ProcStillWorksForNonRoot) {
  auto p = ShellPolicy("procmask-user");
  p.user = policy::UserSpec{};
  p.user->uid = 65534;
  p.user->gid = 65534;
  auto o = RunScript(p, "cat /proc/self/status | grep -c '^Pid:'; ls /proc/sys/kernel | grep -c hostname");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  EXPECT_EQ(o.output, "1\n1\n");
}

// Finding 2: a mount target inside the new root that is a planted symlink
// (here: a readWrite directory the workload controls, with a tmpfs listed
// below it) used to be followed, so the tmpfs landed on the sandbox's /usr.
TEST(HardeningTest, PlantedSymlinkInMountTargetIsRefused) {
  edgeward::testing::TempDir dir;
  const std::string data = dir.File("data");
  ASSERT_EQ(::mkdir(data.c_str(), 0755), 0);
  // From <data>/cache, enough ".." to reach the sandbox root, then usr.
  std::string up;
  for (char c : data) {
    if (c == '/') up += "../";
  }
  ASSERT_EQ(::symlink((up + "usr").c_str(), (data + "/cache").c_str()), 0);
  auto p = ShellPolicy("planted-target");
  p.filesystem.read_write = {data};
  p.filesystem.tmpfs = {data + "/cache"};
  auto o = RunScript(p, "echo usr-entries=$(ls /usr | wc -l)");
  ASSERT_FALSE(o.result.ok()) << o.output;
  EXPECT_EQ(o.result.status().code(), StatusCode::kInternal) << o.result.status().ToString();  // ELOOP
  EXPECT_THAT(o.result.status().message(),
              HasSubstr("sandbox step 'mounts': openat2(tmpfs -> " + data +
                        "/cache: symlink in the target path refused): Too many levels of symbolic links"));
  EXPECT_THAT(o.output, Not(HasSubstr("usr-entries")));
}

// A planted symlink in the middle of a target path is refused too (a bind
// whose target walks through it).
TEST(HardeningTest, PlantedSymlinkInTargetParentIsRefused) {
  edgeward::testing::TempDir dir;
  const std::string data = dir.File("data");
  ASSERT_EQ(::mkdir(data.c_str(), 0755), 0);
  ASSERT_EQ(::symlink("/", (data + "/up").c_str()), 0);
  auto p = ShellPolicy("planted-parent");
  p.filesystem.read_write = {data};
  p.filesystem.tmpfs = {data + "/up/etc"};
  auto o = RunScript(p, "echo ran");
  ASSERT_FALSE(o.result.ok()) << o.output;
  EXPECT_THAT(o.result.status().message(), HasSubstr("symlink in the target path refused"));
  EXPECT_THAT(o.output, Not(HasSubstr("ran")));
}

// A readWrite path that resolves through a symlink is refused by the
// parent: realpath used to bind whatever the link pointed at (say /etc)
// read-write.
TEST(HardeningTest, ReadWriteSymlinkSourceIsRefused) {
  edgeward::testing::TempDir dir;
  const std::string link = dir.File("data");
  ASSERT_EQ(::symlink("/etc", link.c_str()), 0);
  auto p = ShellPolicy("rw-symlink");
  p.filesystem.read_write = {link};
  auto o = RunScript(p, "echo ran");
  ASSERT_FALSE(o.result.ok());
  EXPECT_EQ(o.result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(o.result.status().message(),
              HasSubstr("filesystem.readWrite " + link + ": resolves through a symlink (to /etc)"));
  EXPECT_THAT(o.output, Not(HasSubstr("ran")));
}

// A readOnly path below a readWrite path is bound as written, never through
// a symlink the workload may have planted there (data/conf -> /etc/shadow).
TEST(HardeningTest, ReadOnlySourceBelowReadWriteIsNotFollowed) {
  edgeward::testing::TempDir dir;
  const std::string data = dir.File("data");
  ASSERT_EQ(::mkdir(data.c_str(), 0755), 0);
  ASSERT_EQ(::symlink("/etc/shadow", (data + "/conf").c_str()), 0);
  auto p = ShellPolicy("ro-symlink");
  p.filesystem.read_write = {data};
  p.filesystem.read_only.push_back(data + "/conf");
  std::sort(p.filesystem.read_only.begin(), p.filesystem.read_only.end());
  auto o = RunScript(p, "cat " + data + "/conf");
  ASSERT_FALSE(o.result.ok()) << o.output;
  EXPECT_THAT(o.result.status().message(),
              HasSubstr("openat2(" + data + "/conf -> " + data +
                        "/conf, MS_BIND: symlink in the source path refused): Too many levels of symbolic links"));
  EXPECT_THAT(o.output, Not(HasSubstr("root:")));
}

// A symlinked readOnly path outside readWrite (the host's own layout, e.g.
// /lib64 -> usr/lib64) still works.
TEST(HardeningTest, HostSymlinkedReadOnlyPathStillBinds) {
  auto o = RunScript(ShellPolicy("ro-host-link"), "ls /lib64 >/dev/null && echo ok");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  EXPECT_EQ(o.output, "ok\n");
}

}  // namespace
}  // namespace edgeward::sandbox
