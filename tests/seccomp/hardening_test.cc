// Regression tests for the security review of the seccomp layer (issue 3):
// audit and learn modes must not relax the dangerous set, and kill_process /
// trap reach the right process or thread from any thread. Real filters in
// forked children, a real supervisor.
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "child_runner.h"
#include "edgeward/policy/learn.h"

namespace edgeward::seccomp {
namespace {

using ::testing::HasSubstr;
using policy::SeccompActionKind;
using testing::Act;
using testing::Errno;
using testing::MakePolicy;
using testing::Rule;

int ErrnoOf(long rc) { return rc < 0 ? errno : 0; }

testing::ChildResult RunPolicy(const policy::WorkloadPolicy& p, const std::function<int()>& body) {
  auto f = PrepareFilter(p, {});
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  if (!f.ok()) return {};
  auto r = testing::RunUnderFilter(*f, body);
  EXPECT_EQ(r.install_error, "");
  return r;
}

// Each dangerous call the child tries; the exit code packs which one got
// through (0: all denied with EPERM).
int TryDangerous() {
  if (ErrnoOf(syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0)) != EPERM) return 10;
  if (ErrnoOf(syscall(SYS_unshare, CLONE_NEWUSER)) != EPERM) return 11;
  if (ErrnoOf(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)) != EPERM) return 12;
  if (ErrnoOf(syscall(SYS_setns, 0, 0)) != EPERM) return 13;
  return 0;
}

// Finding 3: audit used to notify-and-continue everything, the dangerous
// set included (ptrace, unshare(CLONE_NEWUSER), clone with namespace flags).
TEST(HardeningTest, AuditKeepsTheDangerousSetDenied) {
  for (auto profile : {policy::SeccompProfileKind::kBaseline, policy::SeccompProfileKind::kStrict}) {
    auto p = MakePolicy(profile, policy::Mode::kAudit);
    auto r = RunPolicy(p, TryDangerous);
    EXPECT_TRUE(r.exited);
    EXPECT_EQ(r.exit_code, 0) << "10 ptrace, 11 unshare, 12 clone, 13 setns got through in audit mode";
  }
  // A denylist (default allow) too: the dangerous set is not the profile's.
  auto p = MakePolicy(policy::SeccompProfileKind::kNone, policy::Mode::kAudit);
  p.seccomp.default_action = Act(SeccompActionKind::kAllow);
  auto r = RunPolicy(p, TryDangerous);
  EXPECT_EQ(r.exit_code, 0);
}

TEST(HardeningTest, AuditStillLetsOrdinaryViolationsProceed) {
  auto p = MakePolicy(policy::SeccompProfileKind::kBaseline, policy::Mode::kAudit);
  p.seccomp.deny.push_back(Rule({"getppid"}, Errno(EACCES)));
  const pid_t parent = getpid();
  auto r = RunPolicy(p, [parent] {
    if (syscall(SYS_getppid) != parent) return 1;
    return TryDangerous();
  });
  EXPECT_EQ(r.exit_code, 0);
  ASSERT_EQ(r.events.size(), 1u);  // the dangerous denials are the kernel's: no event
  EXPECT_EQ(r.events[0].syscall, "getppid");
  EXPECT_EQ(r.events[0].action, "allow");
}

// Learn used to install no dangerous rule at all and continue everything.
// Now the call is denied, recorded, reported, and the learned policy says it
// would need allowDangerous.
TEST(HardeningTest, LearnDeniesDangerousCallsAndRecordsThem) {
  auto p = MakePolicy(policy::SeccompProfileKind::kStrict, policy::Mode::kLearn);
  auto r = RunPolicy(p, TryDangerous);
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 0) << "10 ptrace, 11 unshare, 12 clone, 13 setns got through in learn mode";
  for (const char* name : {"ptrace", "unshare", "setns"}) {
    EXPECT_TRUE(std::find(r.learned.syscalls.begin(), r.learned.syscalls.end(), name) != r.learned.syscalls.end())
        << name;
    bool reported = std::any_of(r.events.begin(), r.events.end(), [&](const ViolationEvent& e) {
      return e.syscall == name && e.mode == policy::Mode::kLearn && e.action == "errno(EPERM)";
    });
    EXPECT_TRUE(reported) << name;
  }
  const std::string learned = policy::WriteLearnedPolicy(p, "", r.learned);
  EXPECT_THAT(learned, HasSubstr("used but dangerous, NOT allowed"));
  EXPECT_THAT(learned, HasSubstr("ptrace"));
  EXPECT_THAT(learned, HasSubstr("unshare"));
}

// An opt-in still works in learn and audit.
TEST(HardeningTest, OptInLiftsTheDenialInAuditAndLearn) {
  for (auto mode : {policy::Mode::kAudit, policy::Mode::kLearn}) {
    auto p = MakePolicy(policy::SeccompProfileKind::kBaseline, mode);
    p.seccomp.allow.push_back(Rule({"ptrace"}, Act(SeccompActionKind::kAllow)));
    p.seccomp.allow_dangerous.push_back({"ptrace", "debug agent", {}});
    auto r = RunPolicy(p, [] { return ErrnoOf(syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0)); });
    EXPECT_EQ(r.exit_code, 0) << static_cast<int>(mode);
  }
}

// A deny rule may not make a dangerous syscall permissive (log lets the call
// run): the dangerous set's denial stands.
TEST(HardeningTest, PermissiveDenyRuleOnADangerousSyscallIsIgnored) {
  auto p = MakePolicy(policy::SeccompProfileKind::kBaseline);
  p.seccomp.deny.push_back(Rule({"ptrace"}, Act(SeccompActionKind::kLog)));
  auto r = RunPolicy(p, [] { return ErrnoOf(syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0)); });
  EXPECT_EQ(r.exit_code, EPERM);
}

// Denylist: everything allowed except getppid with `action`.
policy::WorkloadPolicy DenyGetppid(policy::SeccompAction action) {
  auto p = MakePolicy(policy::SeccompProfileKind::kNone);
  p.seccomp.default_action = Act(SeccompActionKind::kAllow);
  p.seccomp.deny.push_back(Rule({"getppid"}, action));
  return p;
}

// Finding 4: kill_process from a thread that isn't the leader kills the
// process (pidfd_open(tid) fails for it before Linux 6.9; the supervisor
// now resolves the thread group and signals that).
TEST(HardeningTest, KillProcessFromANonLeaderThreadKillsTheProcess) {
  auto r = RunPolicy(DenyGetppid(Act(SeccompActionKind::kKillProcess)), [] {
    std::thread t([] { syscall(SYS_getppid); });
    t.join();
    return 0;  // reached only if the process survived
  });
  EXPECT_FALSE(r.exited);
  EXPECT_EQ(r.signal, SIGKILL);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].action, "kill_process");
  EXPECT_NE(r.events[0].pid, 0);
}

std::atomic<long> g_sigsys_tid{0};
void OnSigsys(int) { g_sigsys_tid = syscall(SYS_gettid); }

// trap delivers SIGSYS to the calling thread, not to any thread of the
// process.
TEST(HardeningTest, TrapFromANonLeaderThreadSignalsThatThread) {
  auto r = RunPolicy(DenyGetppid(Act(SeccompActionKind::kTrap)), [] {
    struct sigaction sa = {};
    sa.sa_handler = OnSigsys;
    if (sigaction(SIGSYS, &sa, nullptr) != 0) return 20;
    std::atomic<long> worker{0};
    std::thread t([&] {
      worker = syscall(SYS_gettid);
      syscall(SYS_getppid);
    });
    t.join();
    if (g_sigsys_tid == 0) return 21;       // no SIGSYS at all
    if (g_sigsys_tid != worker) return 22;  // SIGSYS went to another thread
    return 0;
  });
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 0) << "21: no SIGSYS, 22: SIGSYS to the wrong thread";
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].action, "trap");
}

// Finding 5: pidfd_getfd, kcmp and process_madvise reach into other
// processes; baseline used to allow pidfd_getfd.
TEST(HardeningTest, CrossProcessSyscallsAreInTheDangerousSet) {
  auto r = RunPolicy(MakePolicy(policy::SeccompProfileKind::kBaseline), [] {
    if (ErrnoOf(syscall(SYS_pidfd_getfd, 0, 0, 0)) != EPERM) return 30;
    if (ErrnoOf(syscall(SYS_kcmp, getpid(), getpid(), 0 /*KCMP_FILE*/, 0, 0)) != EPERM) return 31;
    if (ErrnoOf(syscall(SYS_process_madvise, 0, 0, 0, 0, 0)) != EPERM) return 32;
    return 0;
  });
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 0) << "30 pidfd_getfd, 31 kcmp, 32 process_madvise not denied with EPERM";
}

int SocketErrno(int family, int type) {
  int s = socket(family, type | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  close(s);
  return 0;
}

// socket is filtered by family per the policy's network.
TEST(HardeningTest, SocketFamiliesFollowTheNetwork) {
  auto none = MakePolicy(policy::SeccompProfileKind::kBaseline);
  none.network.mode = policy::NetworkMode::kNone;
  auto r = RunPolicy(none, [] {
    if (SocketErrno(AF_UNIX, SOCK_STREAM) != 0) return 40;
    if (SocketErrno(AF_INET, SOCK_STREAM) != EAFNOSUPPORT) return 41;
    if (SocketErrno(AF_INET6, SOCK_DGRAM) != EAFNOSUPPORT) return 42;
    if (SocketErrno(AF_NETLINK, SOCK_RAW) != EAFNOSUPPORT) return 43;
    if (SocketErrno(AF_PACKET, SOCK_RAW) != EAFNOSUPPORT) return 44;
    return 0;
  });
  EXPECT_EQ(r.exit_code, 0) << "40 unix denied, 41 inet / 42 inet6 / 43 netlink / 44 packet allowed";
  auto loopback = MakePolicy(policy::SeccompProfileKind::kBaseline);
  loopback.network.mode = policy::NetworkMode::kLoopback;
  auto l = RunPolicy(loopback, [] {
    if (SocketErrno(AF_INET, SOCK_STREAM) != 0) return 50;
    if (SocketErrno(AF_INET6, SOCK_STREAM) != 0) return 51;
    if (SocketErrno(AF_NETLINK, SOCK_RAW) != EAFNOSUPPORT) return 52;
    return 0;
  });
  EXPECT_EQ(l.exit_code, 0) << "50 inet / 51 inet6 denied, 52 netlink allowed";
}

// Audit relaxes the network's family filter (and reports it) but not the
// netlink/packet denial.
TEST(HardeningTest, AuditRelaxesFamiliesButNotNetlink) {
  auto p = MakePolicy(policy::SeccompProfileKind::kBaseline, policy::Mode::kAudit);
  p.network.mode = policy::NetworkMode::kNone;
  auto r = RunPolicy(p, [] {
    if (SocketErrno(AF_INET, SOCK_STREAM) != 0) return 60;
    if (SocketErrno(AF_NETLINK, SOCK_RAW) != EAFNOSUPPORT) return 61;
    return 0;
  });
  EXPECT_EQ(r.exit_code, 0) << "60 inet not relaxed, 61 netlink relaxed";
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].syscall, "socket");
  EXPECT_EQ(r.events[0].action, "allow");
}

}  // namespace
}  // namespace edgeward::seccomp
