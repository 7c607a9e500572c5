// Each action really taken by the kernel (native) and by the supervisor
// (enforce), in forked children with real seccomp filters.
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <iostream>

#include <gtest/gtest.h>

#include "child_runner.h"

namespace edgeward::seccomp {
namespace {

using policy::SeccompAction;
using policy::SeccompActionKind;
using testing::Act;
using testing::Errno;
using testing::MakePolicy;
using testing::Rule;

// Denylist: everything allowed except getppid with `action`.
policy::WorkloadPolicy DenyGetppid(SeccompAction action) {
  auto p = MakePolicy(policy::SeccompProfileKind::kNone);
  p.seccomp.default_action = Act(SeccompActionKind::kAllow);
  p.seccomp.deny.push_back(Rule({"getppid"}, action));
  return p;
}

int CallGetppid() {
  long r = syscall(SYS_getppid);
  return r < 0 ? errno : 0;
}

testing::ChildResult RunGetppid(const policy::WorkloadPolicy& p, bool supervise) {
  PrepareOptions o;
  o.supervise = supervise;
  auto f = PrepareFilter(p, o);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  if (!f.ok()) return {};
  auto r = testing::RunUnderFilter(*f, CallGetppid);
  EXPECT_EQ(r.install_error, "");
  return r;
}

TEST(ActionsTest, NativeErrnoFailsTheCall) {
  auto r = RunGetppid(DenyGetppid(Errno(EACCES)), false);
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, EACCES);
  EXPECT_TRUE(r.events.empty());
}

TEST(ActionsTest, NativeKillProcessTrapAndKillThreadEndWithSigsys) {
  for (auto k : {SeccompActionKind::kKillProcess, SeccompActionKind::kKillThread, SeccompActionKind::kTrap}) {
    auto r = RunGetppid(DenyGetppid(Act(k)), false);
    EXPECT_FALSE(r.exited) << static_cast<int>(k);
    EXPECT_EQ(r.signal, SIGSYS) << static_cast<int>(k);
  }
}

TEST(ActionsTest, NativeLogLetsTheCallThrough) {
  auto r = RunGetppid(DenyGetppid(Act(SeccompActionKind::kLog)), false);
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 0);
}

TEST(ActionsTest, SupervisedErrnoIsDeliveredAndReported) {
  auto r = RunGetppid(DenyGetppid(Errno(EACCES)), true);
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, EACCES);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].syscall, "getppid");
  EXPECT_EQ(r.events[0].nr, SYS_getppid);
  EXPECT_EQ(r.events[0].action, "errno(EACCES)");
  EXPECT_EQ(r.events[0].mode, policy::Mode::kEnforce);
  EXPECT_EQ(r.events[0].workload, "test");
  EXPECT_GT(r.events[0].pid, 0);
}

TEST(ActionsTest, SupervisedKillProcessKillsAndReports) {
  auto r = RunGetppid(DenyGetppid(Act(SeccompActionKind::kKillProcess)), true);
  EXPECT_FALSE(r.exited);
  EXPECT_EQ(r.signal, SIGKILL);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].action, "kill_process");
}

TEST(ActionsTest, SupervisedTrapRaisesSigsysAndReports) {
  auto r = RunGetppid(DenyGetppid(Act(SeccompActionKind::kTrap)), true);
  EXPECT_FALSE(r.exited);
  EXPECT_EQ(r.signal, SIGSYS);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].action, "trap");
}

TEST(ActionsTest, SupervisedLogContinuesAndReports) {
  auto r = RunGetppid(DenyGetppid(Act(SeccompActionKind::kLog)), true);
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 0);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].action, "log");
}

TEST(ActionsTest, KillThreadStaysNativeUnderTheSupervisor) {
  auto r = RunGetppid(DenyGetppid(Act(SeccompActionKind::kKillThread)), true);
  EXPECT_EQ(r.signal, SIGSYS);
  EXPECT_TRUE(r.events.empty());
}

TEST(ActionsTest, ArgumentConditionsSelectTheCall) {
  auto p = MakePolicy(policy::SeccompProfileKind::kNone);
  p.seccomp.default_action = Act(SeccompActionKind::kAllow);
  p.seccomp.deny.push_back(Rule({"dup"}, Errno(EACCES), {{0, policy::ArgOp::kEq, 0, 0}}));
  auto f = PrepareFilter(p, {});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto r = testing::RunUnderFilter(*f, [] {
    long a = syscall(SYS_dup, 0);
    int ea = errno;
    long b = syscall(SYS_dup, 1);
    return (a < 0 && ea == EACCES && b >= 0) ? 0 : 1;
  });
  EXPECT_EQ(r.install_error, "");
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 0);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].args[0], 0u);
}

TEST(ActionsTest, AllowlistDeniesWhatIsNotListed) {
  auto p = MakePolicy(policy::SeccompProfileKind::kNone);
  p.seccomp.default_action = Errno(EPERM);
  // What _exit needs; sigaltstack, gettid, write, mmap and munmap are for
  // ASan's no-return hook in the sanitizer build.
  p.seccomp.allow.push_back(Rule({"getpid", "exit_group", "exit", "sendmsg", "close", "sigaltstack", "gettid", "write",
                                  "mmap", "munmap"},
                                 Act(SeccompActionKind::kAllow)));
  auto f = PrepareFilter(p, {});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto r = testing::RunUnderFilter(*f, [] {
    if (syscall(SYS_getpid) <= 0) return 2;
    return syscall(SYS_getppid) < 0 && errno == EPERM ? 0 : 1;
  });
  EXPECT_EQ(r.install_error, "");
  EXPECT_EQ(r.exit_code, 0);
  for (const ViolationEvent& e : r.events) std::cerr << ViolationEventJson(e) << "\n";
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].syscall, "getppid");
}

TEST(ActionsTest, HandoffExceptionKeepsSendmsgDeniedAfterTheListenerIsSent) {
  auto p = MakePolicy(policy::SeccompProfileKind::kNone);
  p.seccomp.default_action = Act(SeccompActionKind::kAllow);
  p.seccomp.deny.push_back(Rule({"sendmsg", "getppid"}, Errno(EACCES)));
  auto f = PrepareFilter(p, {});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_TRUE(f->needs_supervisor());
  ASSERT_FALSE(f->sendmsg_program().empty());
  auto r = testing::RunUnderFilter(*f, [] {
    long s = syscall(SYS_sendmsg, 1, nullptr, 0);
    int es = errno;
    long g = syscall(SYS_getppid);
    return (s < 0 && es == EACCES && g < 0 && errno == EACCES) ? 0 : 1;
  });
  EXPECT_EQ(r.install_error, "");
  EXPECT_EQ(r.exit_code, 0);
  // sendmsg is denied natively (no event); getppid through the supervisor.
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].syscall, "getppid");
}

}  // namespace
}  // namespace edgeward::seccomp
