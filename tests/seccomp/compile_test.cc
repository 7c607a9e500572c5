// Compilation without installing: cross-architecture BPF and the decision
// table for the dangerous set.
#include <errno.h>

#include <array>
#include <linux/audit.h>
#include <linux/filter.h>
#include <sys/ioctl.h>

#include <gtest/gtest.h>

#include "child_runner.h"
#include "edgeward/seccomp/filter.h"

namespace edgeward::seccomp {
namespace {

using policy::SeccompActionKind;
using testing::Act;
using testing::Errno;
using testing::MakePolicy;
using testing::Rule;

bool HasJeq(std::span<const sock_filter> prog, uint32_t k) {
  for (const sock_filter& f : prog) {
    if (f.code == (BPF_JMP | BPF_JEQ | BPF_K) && f.k == k) return true;
  }
  return false;
}

policy::WorkloadPolicy OnlyOpenat() {
  auto p = MakePolicy(policy::SeccompProfileKind::kNone);
  p.seccomp.allow.push_back(Rule({"openat"}, Act(SeccompActionKind::kAllow)));
  return p;
}

TEST(CompileTest, OneRuleCompilesToEachArchitecturesNumbers) {
  PrepareOptions x86;
  x86.arch = Arch::kX86_64;
  PrepareOptions arm;
  arm.arch = Arch::kAarch64;
  auto fx = PrepareFilter(OnlyOpenat(), x86);
  auto fa = PrepareFilter(OnlyOpenat(), arm);
  ASSERT_TRUE(fx.ok()) << fx.status().ToString();
  ASSERT_TRUE(fa.ok()) << fa.status().ToString();
  EXPECT_TRUE(HasJeq(fx->main_program(), AUDIT_ARCH_X86_64));
  EXPECT_FALSE(HasJeq(fx->main_program(), AUDIT_ARCH_AARCH64));
  EXPECT_TRUE(HasJeq(fa->main_program(), AUDIT_ARCH_AARCH64));
  EXPECT_FALSE(HasJeq(fa->main_program(), AUDIT_ARCH_X86_64));
  EXPECT_TRUE(HasJeq(fx->main_program(), 257));  // openat on x86_64
  EXPECT_TRUE(HasJeq(fa->main_program(), 56));   // openat on aarch64
  EXPECT_NE(fx->hash_hex(), fa->hash_hex());
  uint64_t args[6] = {};
  EXPECT_EQ(fa->Decide(56, args).name, "openat");
  EXPECT_FALSE(fa->Decide(56, args).violation);
  EXPECT_EQ(fx->Decide(257, args).name, "openat");
}

TEST(CompileTest, BaselineCompilesForBothArchitecturesWithinTheKernelLimit) {
  for (Arch a : {Arch::kX86_64, Arch::kAarch64}) {
    PrepareOptions o;
    o.arch = a;
    auto f = PrepareFilter(MakePolicy(policy::SeccompProfileKind::kBaseline), o);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_GT(f->instruction_count(), 50u);
    EXPECT_LT(f->instruction_count(), 4096u);
    EXPECT_TRUE(f->needs_supervisor());  // enforce: violations are notified
    EXPECT_EQ(f->hash_hex().size(), 64u);
  }
}

TEST(CompileTest, DangerousSetIsDecidedByArguments) {
  PrepareOptions o;
  o.arch = Arch::kX86_64;
  auto f = PrepareFilter(MakePolicy(policy::SeccompProfileKind::kBaseline), o);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto decide = [&](int nr, uint64_t a0, uint64_t a1 = 0) {
    uint64_t args[6] = {a0, a1, 0, 0, 0, 0};
    return f->Decide(nr, args).action;
  };
  constexpr int kClone = 56, kClone3 = 435, kIoctl = 16, kPersonality = 135, kPtrace = 101, kRead = 0;
  EXPECT_EQ(decide(kRead, 0), Act(SeccompActionKind::kAllow));
  EXPECT_EQ(decide(kPtrace, 0), Errno(EPERM));
  EXPECT_EQ(decide(kClone, 0x01200011 /*fork's flags*/), Act(SeccompActionKind::kAllow));
  EXPECT_EQ(decide(kClone, 0x10000000 | 17 /*CLONE_NEWUSER|SIGCHLD*/), Errno(EPERM));
  EXPECT_EQ(decide(kClone, 0x80 /*CLONE_NEWTIME*/), Errno(EPERM));
  EXPECT_EQ(decide(kClone3, 0), Errno(ENOSYS));
  EXPECT_EQ(decide(kIoctl, 0, TCGETS), Act(SeccompActionKind::kAllow));
  EXPECT_EQ(decide(kIoctl, 0, TIOCSTI), Errno(EPERM));
  EXPECT_EQ(decide(kIoctl, 0, 0xffffffff00000000ull | TIOCSTI), Errno(EPERM));  // high bits don't help
  EXPECT_EQ(decide(kIoctl, 0, TIOCLINUX), Errno(EPERM));
  EXPECT_EQ(decide(kPersonality, 0), Act(SeccompActionKind::kAllow));
  EXPECT_EQ(decide(kPersonality, 0xffffffff), Act(SeccompActionKind::kAllow));
  EXPECT_EQ(decide(kPersonality, 0x0040000 /*ADDR_NO_RANDOMIZE*/), Errno(EPERM));
  EXPECT_EQ(decide(kPersonality, 0x100000000ull), Errno(EPERM));
  // x32 numbers take the bad-arch action.
  EXPECT_EQ(decide(0x40000000 | 39, 0), Act(SeccompActionKind::kKillProcess));
}

TEST(CompileTest, OptInLiftsOneDangerousSyscall) {
  auto p = MakePolicy(policy::SeccompProfileKind::kBaseline);
  p.seccomp.allow.push_back(Rule({"ptrace"}, Act(SeccompActionKind::kAllow)));
  p.seccomp.allow_dangerous.push_back({"ptrace", "debug agent", {}});
  auto f = PrepareFilter(p, {});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  uint64_t args[6] = {};
  EXPECT_FALSE(f->Decide(101, args).violation);
  // Without the opt-in, an explicit allow doesn't lift it.
  p.seccomp.allow_dangerous.clear();
  auto g = PrepareFilter(p, {});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->Decide(101, args).action, Errno(EPERM));
}

TEST(CompileTest, DenyRulesWinOverTheProfileAndConditionsApply) {
  auto p = MakePolicy(policy::SeccompProfileKind::kBaseline);
  p.network.mode = policy::NetworkMode::kLoopback;
  p.seccomp.deny.push_back(Rule({"socket"}, Errno(EACCES), {{0, policy::ArgOp::kEq, 10 /*AF_INET6*/, 0}}));
  auto f = PrepareFilter(p, {});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  uint64_t inet6[6] = {10, 1, 0, 0, 0, 0}, inet[6] = {2, 1, 0, 0, 0, 0}, packet[6] = {17, 3, 0, 0, 0, 0};
  EXPECT_EQ(f->Decide(41, inet6).action, Errno(EACCES));
  EXPECT_EQ(f->Decide(41, inet).action, Act(SeccompActionKind::kAllow));
  // Outside the network's families the family filter decides.
  EXPECT_EQ(f->Decide(41, packet).action, Errno(EAFNOSUPPORT));
}

// socket is filtered by family as the policy's network says (review finding
// 5: the docs said so, the filter didn't).
TEST(CompileTest, SocketFamiliesFollowTheNetworkMode) {
  auto none = MakePolicy(policy::SeccompProfileKind::kBaseline);
  none.network.mode = policy::NetworkMode::kNone;
  auto f = PrepareFilter(none, {});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto family = [](uint64_t af) { return std::array<uint64_t, 6>{af, 1, 0, 0, 0, 0}; };
  EXPECT_EQ(f->Decide(41, family(1)).action, Act(SeccompActionKind::kAllow));  // AF_UNIX
  EXPECT_EQ(f->Decide(41, family(2)).action, Errno(EAFNOSUPPORT));
  EXPECT_EQ(f->Decide(41, family(10)).action, Errno(EAFNOSUPPORT));
  EXPECT_EQ(f->Decide(41, family(16)).action, Errno(EAFNOSUPPORT));  // AF_NETLINK
  // High garbage bits: the kernel would read AF_UNIX; the filter denies.
  EXPECT_EQ(f->Decide(41, family(0x100000001)).action, Errno(EAFNOSUPPORT));
  for (auto mode : {policy::NetworkMode::kLoopback, policy::NetworkMode::kHost}) {
    auto p = MakePolicy(policy::SeccompProfileKind::kBaseline);
    p.network.mode = mode;
    auto g = PrepareFilter(p, {});
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    for (uint64_t af : {1, 2, 10}) EXPECT_EQ(g->Decide(41, family(af)).action, Act(SeccompActionKind::kAllow)) << af;
    for (uint64_t af : {16, 17, 40}) EXPECT_EQ(g->Decide(41, family(af)).action, Errno(EAFNOSUPPORT)) << af;
  }
  // An allow rule naming a family exactly lifts it (here AF_NETLINK).
  auto nl = MakePolicy(policy::SeccompProfileKind::kBaseline);
  nl.seccomp.allow.push_back(Rule({"socket"}, Act(SeccompActionKind::kAllow), {{0, policy::ArgOp::kEq, 16, 0}}));
  auto h = PrepareFilter(nl, {});
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->Decide(41, family(16)).action, Act(SeccompActionKind::kAllow));
  EXPECT_EQ(h->Decide(41, family(17)).action, Errno(EAFNOSUPPORT));
}

TEST(CompileTest, AuditAndLearnNeedTheSupervisor) {
  PrepareOptions o;
  o.supervise = false;
  auto f = PrepareFilter(MakePolicy(policy::SeccompProfileKind::kBaseline, policy::Mode::kAudit), o);
  EXPECT_EQ(f.status().code(), StatusCode::kFailedPrecondition);
  auto native = PrepareFilter(MakePolicy(policy::SeccompProfileKind::kBaseline), o);
  ASSERT_TRUE(native.ok());
  EXPECT_FALSE(native->needs_supervisor());
}

TEST(CompileTest, MissingOciProfileIsNotFoundAndNamesThePath) {
  auto p = MakePolicy(policy::SeccompProfileKind::kOciFile);
  p.seccomp.profile_path = "/nonexistent/seccomp.json";
  auto f = PrepareFilter(p, {});
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
  EXPECT_NE(f.status().message().find("/nonexistent/seccomp.json"), std::string::npos);
}

TEST(CompileTest, PodmanProfileCompilesAndReportsSkippedNames) {
  auto p = MakePolicy(policy::SeccompProfileKind::kOciFile);
  p.seccomp.profile_path = "/usr/share/containers/seccomp.json";
  auto f = PrepareFilter(p, {});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_LT(f->instruction_count(), 4096u);
  uint64_t args[6] = {};
  EXPECT_EQ(f->Decide(101 /*ptrace*/, args).action, Errno(EPERM));  // dangerous set on top of Podman's
}

}  // namespace
}  // namespace edgeward::seccomp
