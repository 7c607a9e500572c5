// The launcher against the real kernel: namespaces, mounts, cgroups (v1 on
// these machines), users, capabilities, rlimits, PID 1 duties. Each test
// runs /bin/sh (or bash) inside the sandbox and checks what it saw.
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edgeward/base/file.h"
#include "sandbox_test_util.h"
#include "swtpm.h"

namespace edgeward::sandbox {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunScript;
using testing::ShellPolicy;

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

TEST(LauncherTest, ExitCodesPassThrough) {
  auto p = ShellPolicy("exit-codes");
  auto ok = RunScript(p, "exit 0");
  ASSERT_TRUE(ok.result.ok()) << ok.result.status().ToString();
  EXPECT_EQ(ok.result->exit_status, 0);
  EXPECT_FALSE(ok.result->signal);

  auto three = RunScript(p, "exit 3");
  ASSERT_TRUE(three.result.ok()) << three.result.status().ToString();
  EXPECT_EQ(three.result->exit_status, 3);
}

TEST(LauncherTest, KilledWorkloadGives128PlusSignal) {
  auto o = RunScript(ShellPolicy("killed"), "kill -KILL $$");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  EXPECT_EQ(o.result->exit_status, 128 + SIGKILL);
  ASSERT_TRUE(o.result->signal);
  EXPECT_EQ(*o.result->signal, SIGKILL);
  ASSERT_EQ(o.events.size(), 2u);
  EXPECT_THAT(o.events[1], AllOf(HasSubstr("\"type\":\"workload.exit\""), HasSubstr("\"code\":137"),
                                 HasSubstr("\"signal\":\"SIGKILL\"")));
}

TEST(LauncherTest, EmitsStartAndExitEvents) {
  auto o = RunScript(ShellPolicy("events"), "exit 5");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  ASSERT_EQ(o.events.size(), 2u);
  EXPECT_THAT(o.events[0], AllOf(HasSubstr("\"type\":\"workload.start\""),
                                 HasSubstr("\"name\":\"events\""),
                                 HasSubstr("\"pid\":" + std::to_string(o.result->pid))));
  EXPECT_THAT(o.events[0], ::testing::ContainsRegex("\"time\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z\""));
  EXPECT_THAT(o.events[1], AllOf(HasSubstr("\"type\":\"workload.exit\""), HasSubstr("\"code\":5"),
                                 Not(HasSubstr("signal"))));
}

TEST(LauncherTest, SignalToLauncherIsForwardedToWorkload) {
  edgeward::testing::TempDir dir;
  auto p = ShellPolicy("signals");
  p.filesystem.read_write = {dir.path()};
  std::string ready = dir.File("ready");
  // A helper process plays the operator: once the workload's trap is set,
  // it sends SIGTERM to the launcher (this test process).
  pid_t test_pid = ::getpid();
  pid_t helper = ::fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {
    for (int i = 0; i < 1000 && !Exists(ready); ++i) ::usleep(10000);
    ::kill(test_pid, SIGTERM);
    ::_exit(0);
  }
  auto o = RunScript(p, "trap 'echo got-term; exit 7' TERM; touch " + ready +
                            "; i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; exit 1");
  int st = 0;
  ASSERT_EQ(::waitpid(helper, &st, 0), helper);
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  EXPECT_EQ(o.result->exit_status, 7) << o.output;
  EXPECT_THAT(o.output, HasSubstr("got-term"));
}

TEST(LauncherTest, OrphansAreReaped) {
  // Each ( cmd & ) leaves an orphan that is reparented to our PID 1; none may
  // stay a zombie.
  auto o = RunScript(ShellPolicy("zombies"),
                     "for i in 1 2 3 4 5 6 7 8; do (true &); (sleep 0.05 &); done; sleep 0.4; "
                     "z=0; for s in /proc/[0-9]*/stat; do read -r l < $s 2>/dev/null || continue; "
                     "case \"$l\" in *') Z '*) z=$((z+1));; esac; done; echo zombies=$z");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  EXPECT_THAT(o.output, HasSubstr("zombies=0"));
}

TEST(LauncherTest, WorkloadIsPid2UnderOurInit) {
  auto o = RunScript(ShellPolicy("pidns"), "echo pid=$$; echo ppid=$PPID; ls -d /proc/[0-9]* | wc -l");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  EXPECT_THAT(o.output, AllOf(HasSubstr("pid=2\n"), HasSubstr("ppid=1\n")));
  // init, sh, ls (and wc): a fresh /proc shows only the sandbox.
  EXPECT_THAT(o.output, ::testing::ContainsRegex("\n[2-4]\n"));
}

TEST(LauncherTest, NetworkNoneHasNoInterfaceUp) {
  auto p = ShellPolicy("netnone");
  p.network.tcp_connect = {9};  // Landlock lets the connect through; the network decides
  auto o = RunScript(p,
                     "exec 3<>/dev/tcp/127.0.0.1/9 && echo connected; tail -n +3 /proc/net/dev | wc -l",
                     "/bin/bash");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  // seccomp refuses AF_INET sockets under network none (docs/seccomp.md).
  EXPECT_THAT(o.output, AllOf(HasSubstr("Address family not supported"), Not(HasSubstr("connected"))));
  EXPECT_THAT(o.output, HasSubstr("\n1\n"));  // only lo exists, and it is down
  // With AF_INET allowed by the policy, the empty namespace still stops it.
  policy::SyscallRule inet;
  inet.names = {"socket"};
  inet.action = {policy::SeccompActionKind::kAllow, 0};
  inet.args = {{0, policy::ArgOp::kEq, 2 /*AF_INET*/, 0}};
  p.seccomp.allow.push_back(inet);
  auto o2 = RunScript(p, "exec 3<>/dev/tcp/127.0.0.1/9 && echo connected", "/bin/bash");
  ASSERT_TRUE(o2.result.ok()) << o2.result.status().ToString();
  EXPECT_THAT(o2.output, AllOf(HasSubstr("Network is unreachable"), Not(HasSubstr("connected"))));
}

TEST(LauncherTest, NetworkLoopbackHasLoUp) {
  auto p = ShellPolicy("netlo");
  p.network.mode = policy::NetworkMode::kLoopback;
  p.network.tcp_connect = {9};
  auto o = RunScript(p, "exec 3<>/dev/tcp/127.0.0.1/9 && echo connected", "/bin/bash");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  // lo is up: nothing listens on port 9, so the connection is refused
  // rather than unroutable.
  EXPECT_THAT(o.output, HasSubstr("Connection refused"));
}

TEST(LauncherTest, ReadOnlyBindRefusesWrites) {
  auto o = RunScript(ShellPolicy("rofs"),
                     "echo x > /usr/edgeward-test 2>&1; echo x > /etc/edgeward-test; "
                     "echo x > /edgeward-root-test; grep ' /usr ' /proc/mounts");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  EXPECT_THAT(o.output, HasSubstr("/usr/edgeward-test: Read-only file system"));
  EXPECT_THAT(o.output, HasSubstr("/etc/edgeward-test: Read-only file system"));
  EXPECT_THAT(o.output, HasSubstr("/edgeward-root-test: Read-only file system"));
  EXPECT_THAT(o.output, ::testing::ContainsRegex(" /usr [a-z0-9]+ ro,nosuid,nodev"));
  EXPECT_FALSE(Exists("/usr/edgeward-test"));
}

TEST(LauncherTest, ReadWriteBindIsWritable) {
  edgeward::testing::TempDir dir;
  auto p = ShellPolicy("rwfs");
  p.filesystem.read_write = {dir.path()};
  auto o = RunScript(p, "echo hello > " + dir.File("written") + " && echo wrote");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  EXPECT_THAT(o.output, HasSubstr("wrote"));
  auto content = ReadFileToString(dir.File("written"), 100);
  ASSERT_TRUE(content.ok()) << content.status().ToString();
  EXPECT_EQ(*content, "hello\n");
}

TEST(LauncherTest, TmpfsIsFreshWritableAndNoexec) {
  auto p = ShellPolicy("tmpfs");
  p.filesystem.tmpfs = {"/tmp"};
  auto o = RunScript(p,
                     "ls -A /tmp | wc -l; grep ' /tmp tmpfs ' /proc/mounts; cp /bin/true /tmp/t && "
                     "echo copied; /tmp/t || echo noexec-refused");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  EXPECT_THAT(o.output, AllOf(HasSubstr("0\n"), HasSubstr("rw,nosuid,nodev,noexec"),
                              HasSubstr("copied"), HasSubstr("noexec-refused")));
}

TEST(LauncherTest, DevIsMinimal) {
  auto o = RunScript(ShellPolicy("devmin"),
                     "ls -A /dev | tr '\\n' ' '; echo; echo x > /dev/null && echo null-ok; "
                     "head -c 4 /dev/urandom | wc -c");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  EXPECT_THAT(o.output, HasSubstr("fd full null random shm stderr stdin stdout tty urandom zero \n"));
  EXPECT_THAT(o.output, AllOf(HasSubstr("null-ok"), HasSubstr("\n4\n")));
}

TEST(LauncherTest, HostMountsAreUntouched) {
  auto before = ReadFileToString("/proc/self/mountinfo", 1 << 20);
  ASSERT_TRUE(before.ok());
  auto p = ShellPolicy("mountprop");
  p.filesystem.tmpfs = {"/tmp"};
  auto o = RunScript(p, "true");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  auto after = ReadFileToString("/proc/self/mountinfo", 1 << 20);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*before, *after);
}

TEST(LauncherTest, UserAndGroupsAreSwitched) {
  auto p = ShellPolicy("users");
  p.user = policy::UserSpec{65534, 65533, {}};
  auto o = RunScript(p, "id -u; id -g; id -G; grep -E '^(Uid|Gid|Groups):' /proc/self/status");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  EXPECT_THAT(o.output, HasSubstr("65534\n65533\n65533\n"));
  EXPECT_THAT(o.output, ::testing::ContainsRegex("Uid:\\s+65534\\s+65534\\s+65534\\s+65534"));
  EXPECT_THAT(o.output, ::testing::ContainsRegex("Groups:\\s*\n"));
}

TEST(LauncherTest, CapabilitiesAreDropped) {
  auto o = RunScript(ShellPolicy("nocaps"), "grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_THAT(o.output, HasSubstr(std::string(set) + ":\t0000000000000000")) << o.output;
  }
}

TEST(LauncherTest, KeptCapabilitySurvivesUserSwitch) {
  auto p = ShellPolicy("keepcap");
  p.user = policy::UserSpec{65534, 65534, {}};
  p.capabilities = {"CAP_NET_BIND_SERVICE"};
  auto o = RunScript(p, "grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_THAT(o.output, HasSubstr(std::string(set) + ":\t0000000000000400")) << o.output;
  }
}

TEST(LauncherTest, NoNewPrivsIsSet) {
  auto o = RunScript(ShellPolicy("nnp"), "grep NoNewPrivs /proc/self/status");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  EXPECT_THAT(o.output, HasSubstr("NoNewPrivs:\t1"));
}

TEST(LauncherTest, RlimitsApply) {
  auto p = ShellPolicy("rlimits");
  p.limits.nofile = 64;
  auto o = RunScript(p, "ulimit -n; ulimit -Hn; ulimit -c");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  EXPECT_EQ(o.output, "64\n64\n0\n");
}

TEST(LauncherTest, MemoryHogIsOomKilled) {
  auto p = ShellPolicy("memhog");
  p.limits.memory_bytes = 32ull << 20;
  // The shell accumulates 256 MiB in a variable: far past the limit.
  auto o = RunScript(p, "x=$(head -c 268435456 /dev/zero | tr '\\0' a); echo survived ${#x}");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  EXPECT_EQ(o.result->exit_status, 128 + SIGKILL) << o.output;
  EXPECT_THAT(o.output, Not(HasSubstr("survived")));
}

TEST(LauncherTest, ForkBombStopsAtPidsLimit) {
  auto p = ShellPolicy("forkbomb");
  p.limits.pids = 24;
  // A subshell forks sleepers until fork fails (bounded at 100, so a
  // missing limit fails the test instead of hanging it); the shell then
  // counts the sandbox's processes with builtins only.
  auto o = RunScript(p,
                     "(i=0; while [ $i -lt 100 ]; do sleep 5 & i=$((i+1)); done) 2>/dev/null; "
                     "set -- /proc/[0-9]*; echo procs=$#");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  auto pos = o.output.find("procs=");
  ASSERT_NE(pos, std::string::npos) << o.output;
  int procs = std::stoi(o.output.substr(pos + 6));
  EXPECT_LE(procs, 24);
  EXPECT_GE(procs, 16) << "the fork loop never got going: " << o.output;
}

TEST(LauncherTest, CgroupIsRemovedAfterExit) {
  auto p = ShellPolicy("cgclean");
  p.limits.memory_bytes = 64ull << 20;
  p.limits.pids = 32;
  p.limits.cpu_millis = 500;
  auto dirs = testing::CgroupDirsFor("cgclean");
  auto o = RunScript(p, "cat /proc/self/cgroup");
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  // While it ran, the workload was in our groups...
  EXPECT_THAT(o.output, HasSubstr(":pids:/edgeward/cgclean-" + std::to_string(::getpid())));
  EXPECT_THAT(o.output, HasSubstr(":memory:/edgeward/cgclean-" + std::to_string(::getpid())));
  // ...and afterwards they are gone.
  for (const auto& d : dirs) EXPECT_FALSE(Exists(d)) << d;
}

TEST(LauncherTest, CgroupLimitsAreWritten) {
  auto p = ShellPolicy("cglimits");
  p.limits.memory_bytes = 48ull << 20;
  p.limits.pids = 17;
  p.limits.cpu_millis = 250;
  std::string leaf = "/edgeward/cglimits-" + std::to_string(::getpid());
  // The workload reads its own group's control files through read-only
  // binds of the host hierarchies.
  p.filesystem.read_only.push_back("/sys/fs/cgroup/memory");
  p.filesystem.read_only.push_back("/sys/fs/cgroup/pids");
  p.filesystem.read_only.push_back("/sys/fs/cgroup/cpu");
  auto o2 = RunScript(p, "cat /sys/fs/cgroup/memory" + leaf + "/memory.limit_in_bytes /sys/fs/cgroup/pids" +
                             leaf + "/pids.max /sys/fs/cgroup/cpu" + leaf +
                             "/cpu.cfs_quota_us /sys/fs/cgroup/cpu" + leaf + "/cpu.cfs_period_us");
  ASSERT_TRUE(o2.result.ok()) << o2.result.status().ToString();
  EXPECT_EQ(o2.output, std::to_string(48ull << 20) + "\n17\n25000\n100000\n");
}

TEST(LauncherTest, MissingReadOnlyPathNamesStepAndCall) {
  auto p = ShellPolicy("missing");
  p.filesystem.read_only.push_back("/nonexistent-edgeward-path");
  auto o = RunScript(p, "echo should-not-run");
  ASSERT_FALSE(o.result.ok());
  EXPECT_EQ(o.result.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(o.result.status().message(),
              HasSubstr("sandbox step 'mounts': mount(/nonexistent-edgeward-path -> "
                        "/nonexistent-edgeward-path, MS_BIND): No such file or directory"));
  EXPECT_THAT(o.output, Not(HasSubstr("should-not-run")));
  EXPECT_TRUE(o.events.empty());
  for (const auto& d : testing::CgroupDirsFor("missing")) EXPECT_FALSE(Exists(d)) << d;
}

TEST(LauncherTest, MissingCommandNamesExecve) {
  auto o = testing::RunArgv(ShellPolicy("nocmd"), {"edgeward-no-such-command"});
  ASSERT_FALSE(o.result.ok());
  EXPECT_EQ(o.result.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(o.result.status().message(),
              HasSubstr("sandbox step 'exec': execve(edgeward-no-such-command): No such file or directory"));
}

TEST(LauncherTest, EmptyArgvIsInvalid) {
  auto o = testing::RunArgv(ShellPolicy("noargv"), {});
  ASSERT_FALSE(o.result.ok());
  EXPECT_EQ(o.result.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgeward::sandbox
