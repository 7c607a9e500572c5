// Explain: statements, score order, and degraded-node notes.
#include "edgeward/policy/explain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "edgeward/policy/parse.h"

namespace edgeward::policy {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A node with everything: Landlock 7, cgroup v2 with controllers, notify.
NodeFeatures FullNode() {
  NodeFeatures n;
  n.landlock_abi = 7;
  n.cgroup_v2_path = "/sys/fs/cgroup";
  n.cgroup_v2_pure = true;
  n.cgroup_v2_controllers = {"cpu", "memory", "pids"};
  n.cgroup_v2_unified_with_controllers = true;
  n.seccomp_filter = n.seccomp_notify = n.seccomp_notify_continue = n.seccomp_log = n.seccomp_kill_process = true;
  n.user_namespaces = n.unprivileged_user_namespaces = n.pidfd = true;
  n.kernel_release = "6.8.0";
  n.kernel_major = 6;
  n.kernel_minor = 8;
  return n;
}

// A node like many edge nodes: Landlock ABI 3, cgroup v1 only, notify.
NodeFeatures DegradedNode() {
  NodeFeatures n = FullNode();
  n.landlock_abi = 3;
  n.cgroup_v2_path = "/sys/fs/cgroup/unified";
  n.cgroup_v2_pure = false;
  n.cgroup_v2_controllers = {};
  n.cgroup_v2_unified_with_controllers = false;
  n.cgroup_v1_memory = n.cgroup_v1_pids = n.cgroup_v1_cpu = true;
  return n;
}

WorkloadPolicy Parse(const std::string& spec) {
  auto p = ParsePolicy("apiVersion: edgeward/v1\nkind: WorkloadPolicy\nmetadata: {name: t}\nspec:\n" + spec, "t.yaml");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : WorkloadPolicy{};
}

const std::string kStrict =
    "  user: {uid: 1000, gid: 1000}\n"
    "  namespaces: [pid, mount, ipc, uts, net, cgroup]\n"
    "  network: none\n"
    "  filesystem: {readOnly: [/usr, /lib], readWrite: [/var/lib/app], tmpfs: [/tmp]}\n"
    "  limits: {memory: 64Mi, pids: 16, cpu: \"0.25\", nofile: 256}\n"
    "  seccomp: {profile: strict}\n";

const std::string kPermissive =
    "  mode: audit\n"
    "  namespaces: [pid]\n"
    "  network: host\n"
    "  filesystem: {readOnly: [/], readWrite: [/etc]}\n"
    "  capabilities: [SYS_ADMIN, NET_ADMIN]\n"
    "  seccomp:\n"
    "    defaultAction: allow\n"
    "    allow: [ptrace, bpf]\n"
    "    allowDangerous: [{name: ptrace, reason: debugger}, {name: bpf, reason: tracing}]\n";

TEST(Explain, StrictPolicyScoresLowerThanPermissive) {
  const Explanation strict = Explain(Parse(kStrict), FullNode());
  const Explanation permissive = Explain(Parse(kPermissive), FullNode());
  EXPECT_LT(strict.exposure, 2.0) << FormatExplanation(strict);
  EXPECT_EQ(strict.rating, "OK");
  EXPECT_GT(permissive.exposure, 7.0) << FormatExplanation(permissive);
  EXPECT_LT(strict.exposure, permissive.exposure);
  EXPECT_GE(permissive.exposure, 0.0);
  EXPECT_LE(permissive.exposure, 10.0);
  // The middle ground lands in between.
  const Explanation middle = Explain(Parse("  user: {uid: 1000, gid: 1000}\n  network: host\n"), FullNode());
  EXPECT_GT(middle.exposure, strict.exposure);
  EXPECT_LT(middle.exposure, permissive.exposure);
}

TEST(Explain, EachWeaknessRaisesTheScore) {
  const double base = Explain(Parse(kStrict), FullNode()).exposure;
  for (const std::string& worse : {kStrict + "  capabilities: [SYS_ADMIN]\n",
                                   std::string(kStrict).replace(kStrict.find("uid: 1000"), 9, "uid: 0"),
                                   std::string(kStrict).replace(kStrict.find("pids: 16, "), 10, ""),
                                   std::string(kStrict).replace(kStrict.find("pid, "), 5, "")}) {
    EXPECT_GT(Explain(Parse(worse), FullNode()).exposure, base) << worse;
  }
}

TEST(Explain, FindingsCarryWeightsAndDangerousOptIns) {
  const Explanation e = Explain(Parse(kPermissive), FullNode());
  ASSERT_FALSE(e.findings.empty());
  // Sorted by contribution, largest first.
  for (size_t i = 1; i < e.findings.size(); ++i) {
    EXPECT_GE(e.findings[i - 1].weight * e.findings[i - 1].badness, e.findings[i].weight * e.findings[i].badness);
  }
  const std::string text = FormatExplanation(e);
  EXPECT_THAT(text, HasSubstr("seccomp.dangerous: dangerous syscalls opted in: ptrace, bpf"));
  EXPECT_THAT(text, HasSubstr("capabilities: keeps CAP_NET_ADMIN, CAP_SYS_ADMIN (worst: CAP_SYS_ADMIN)"));
  EXPECT_THAT(text, HasSubstr("can     use dangerous ptrace (reason: debugger)"));
  EXPECT_THAT(text, HasSubstr("can     use every syscall not denied (default action allow: a denylist)"));
}

TEST(Explain, SaysWhatTheWorkloadCanAndCannotDo) {
  const std::string text = FormatExplanation(Explain(Parse(kStrict), FullNode()));
  EXPECT_THAT(text, HasSubstr("can     read and execute: /usr, /lib"));
  EXPECT_THAT(text, HasSubstr("can     read, write and execute: /var/lib/app"));
  EXPECT_THAT(text, HasSubstr("cannot  use any network"));
  EXPECT_THAT(text, HasSubstr("can     run as uid 1000, gid 1000, no supplementary groups"));
  EXPECT_THAT(text, HasSubstr("cannot  use any capability"));
  EXPECT_THAT(text, HasSubstr("cannot  use the dangerous set: acct, add_key"));
  EXPECT_THAT(text, HasSubstr("clone with CLONE_NEW*"));
  EXPECT_THAT(text, HasSubstr("cannot  use more than 64Mi of memory"));
  EXPECT_THAT(text, HasSubstr("cannot  use more than 0.25 CPU"));
  EXPECT_THAT(text, HasSubstr("provides every protection this policy asks for"));
}

TEST(Explain, DegradedNodeIsVisible) {
  const WorkloadPolicy p = Parse("  user: {uid: 1000, gid: 1000}\n"
                                 "  network: {mode: loopback, tcpBind: [8000]}\n"
                                 "  limits: {memory: 64Mi, pids: 16}\n");
  const Explanation full = Explain(p, FullNode());
  const Explanation degraded = Explain(p, DegradedNode());
  EXPECT_TRUE(full.node_gaps.empty()) << FormatExplanation(full);
  const std::string text = FormatExplanation(degraded);
  EXPECT_THAT(text, HasSubstr("DEGRADED: Landlock ABI 3 < 4: TCP port rules (tcpBind/tcpConnect) not enforced"));
  EXPECT_THAT(text, HasSubstr("DEGRADED: cgroup v1 only (v2 at /sys/fs/cgroup/unified has no controllers)"));
  EXPECT_THAT(text, HasSubstr("listen on TCP ports 8000 (NOT enforced on this node: Landlock ABI < 4)"));
  EXPECT_THAT(text, Not(HasSubstr("provides every protection")));

  NodeFeatures bare = DegradedNode();
  bare.landlock_abi = 0;
  bare.seccomp_notify = bare.seccomp_notify_continue = false;
  bare.cgroup_v1_pids = false;
  const Explanation b = Explain(p, bare);
  const std::string btext = FormatExplanation(b);
  EXPECT_THAT(btext, HasSubstr("DEGRADED: no Landlock: filesystem access rests on the mount namespace alone"));
  EXPECT_THAT(btext, HasSubstr("DEGRADED: no seccomp user notification: violations are not reported as events"));
  EXPECT_THAT(btext, HasSubstr("DEGRADED: no pids controller: pids limit not enforced"));
  // What the node can't enforce counts against the score.
  EXPECT_GT(b.exposure, full.exposure);
}

TEST(Explain, JsonCarriesScoreFindingsAndGaps) {
  const Explanation e = Explain(Parse(kStrict), DegradedNode());
  const auto j = nlohmann::json::parse(FormatExplanationJson(e));
  EXPECT_EQ(j["policy"], "t");
  EXPECT_EQ(j["mode"], "enforce");
  EXPECT_DOUBLE_EQ(j["exposure"].get<double>(), e.exposure);
  EXPECT_EQ(j["rating"], e.rating);
  EXPECT_EQ(j["sections"].size(), 5u);
  EXPECT_EQ(j["findings"].size(), e.findings.size());
  EXPECT_TRUE(j["findings"][0].contains("weight"));
  EXPECT_EQ(j["node"]["landlock_abi"], 3);
  bool cgroup_note = false;
  for (const auto& g : j["node_gaps"]) cgroup_note = cgroup_note || g.get<std::string>().find("cgroup v1 only") == 0;
  EXPECT_TRUE(cgroup_note) << j["node_gaps"].dump();
}

}  // namespace
}  // namespace edgeward::policy
