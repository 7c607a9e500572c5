// The dangerous set under the shipped baseline, enforced for real.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "child_runner.h"

namespace edgeward::seccomp {
namespace {

using policy::SeccompActionKind;
using testing::Act;
using testing::MakePolicy;
using testing::Rule;

testing::ChildResult RunBaseline(const std::function<int()>& body, policy::WorkloadPolicy p =
                                     MakePolicy(policy::SeccompProfileKind::kBaseline)) {
  auto f = PrepareFilter(p, {});
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  if (!f.ok()) return {};
  auto r = testing::RunUnderFilter(*f, body);
  EXPECT_EQ(r.install_error, "");
  return r;
}

int ErrnoOf(long rc) { return rc < 0 ? errno : 0; }

void ExpectDenied(const testing::ChildResult& r, int err, const std::string& syscall) {
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, err) << syscall;
  ASSERT_EQ(r.events.size(), 1u) << syscall;
  EXPECT_EQ(r.events[0].syscall, syscall);
}

TEST(DangerousTest, PtraceIsDeniedAndOptInAllowsIt) {
  ExpectDenied(RunBaseline([] { return ErrnoOf(syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0)); }), EPERM, "ptrace");
  auto p = MakePolicy(policy::SeccompProfileKind::kBaseline);
  p.seccomp.allow.push_back(Rule({"ptrace"}, Act(SeccompActionKind::kAllow)));
  p.seccomp.allow_dangerous.push_back({"ptrace", "debug agent", {}});
  auto r = RunBaseline([] { return ErrnoOf(syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0)); }, p);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.events.empty());
}

TEST(DangerousTest, CloneWithNewUserIsDeniedButForkWorks) {
  ExpectDenied(RunBaseline([] { return ErrnoOf(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)); }), EPERM,
               "clone");
  auto r = RunBaseline([] {
    pid_t c = fork();
    if (c == 0) _exit(7);
    if (c < 0) return 100;
    int st = 0;
    if (waitpid(c, &st, 0) != c) return 101;
    return WIFEXITED(st) && WEXITSTATUS(st) == 7 ? 0 : 102;
  });
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.events.empty());
}

TEST(DangerousTest, Clone3FailsWithEnosysSoLibcFallsBack) {
  // Natively, without an event: glibc tries clone3 for every thread.
  auto r = RunBaseline([] { return ErrnoOf(syscall(SYS_clone3, nullptr, 0)); });
  EXPECT_EQ(r.exit_code, ENOSYS);
  EXPECT_TRUE(r.events.empty());
}

TEST(DangerousTest, UnshareSetnsMountAreDenied) {
  ExpectDenied(RunBaseline([] { return ErrnoOf(syscall(SYS_unshare, CLONE_NEWUSER)); }), EPERM, "unshare");
  ExpectDenied(RunBaseline([] { return ErrnoOf(syscall(SYS_setns, 0, 0)); }), EPERM, "setns");
  ExpectDenied(RunBaseline([] { return ErrnoOf(syscall(SYS_mount, "none", "/mnt", "tmpfs", 0, nullptr)); }), EPERM,
               "mount");
}

TEST(DangerousTest, TiocstiIsDeniedEvenWithHighBitsOtherIoctlsPass) {
  auto body = [](unsigned long request) {
    return [request] {
      int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) return 100;
      char c = 'x';
      return ErrnoOf(syscall(SYS_ioctl, fd, request, &c));
    };
  };
  ExpectDenied(RunBaseline(body(TIOCSTI)), EPERM, "ioctl");
  ExpectDenied(RunBaseline(body(0xffffffff00000000ul | TIOCSTI)), EPERM, "ioctl");
  ExpectDenied(RunBaseline(body(TIOCLINUX)), EPERM, "ioctl");
  auto ok = RunBaseline(body(TCGETS));
  EXPECT_EQ(ok.exit_code, ENOTTY);  // reached the kernel: /dev/null is no tty
  EXPECT_TRUE(ok.events.empty());
}

TEST(DangerousTest, PersonalityOnlyAllowsTheDefaults) {
  ExpectDenied(RunBaseline([] { return ErrnoOf(syscall(SYS_personality, ADDR_NO_RANDOMIZE)); }), EPERM,
               "personality");
  auto r = RunBaseline([] { return ErrnoOf(syscall(SYS_personality, 0xffffffff)); });
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.events.empty());
}

TEST(DangerousTest, X32SyscallIsKilledWithoutAnEvent) {
  auto r = RunBaseline([] { return ErrnoOf(syscall(0x40000000 | SYS_getpid)); });
  EXPECT_FALSE(r.exited);
  EXPECT_EQ(r.signal, SIGSYS);
  EXPECT_TRUE(r.events.empty());
}

}  // namespace
}  // namespace edgeward::seccomp
