// WriteLearnedPolicy and UnifiedDiff: the learned policy is minimal, keeps
// the start's identity, and always parses back.
#include "edgeward/policy/learn.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "edgeward/policy/parse.h"

namespace edgeward::policy {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kStart =
    "# Sensor reader on the line-3 gateway.\n"
    "apiVersion: edgeward/v1\n"
    "kind: WorkloadPolicy\n"
    "metadata: {name: sensor}\n"
    "spec:\n"
    "  mode: learn\n"
    "  user: {uid: 1000, gid: 1000, groups: [20]}\n"
    "  namespaces: [pid, mount, ipc, uts, net]\n"
    "  network: none\n"
    "  filesystem: {readOnly: [/usr, /opt/sensor], readWrite: [/var/lib/sensor], tmpfs: [/tmp]}\n"
    "  limits: {memory: 64Mi, pids: 16, cpu: \"0.25\", nofile: 256}\n"
    "  seccomp:\n"
    "    profile: baseline\n"
    "    deny: [{names: [socket], action: errno(EACCES), args: [{index: 0, op: eq, value: 16}]}, {names: [kill]}]\n"
    "    allowDangerous: [{name: ptrace, reason: \"self-check \\\"debugger\\\"\"}]\n";

WorkloadPolicy ParseOk(const std::string& yaml, const std::string& name) {
  auto p = ParsePolicy(yaml, name);
  EXPECT_TRUE(p.ok()) << p.status().ToString() << "\n" << yaml;
  return p.ok() ? *p : WorkloadPolicy{};
}

LearnedUsage Usage() {
  LearnedUsage u;
  u.syscalls = {"read", "write", "openat", "close", "mmap", "execve", "exit_group", "ptrace", "bpf", "kill", "ioctl"};
  u.paths_read = {"/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2", "/etc/ssl/certs/ca.pem",
                  "/etc/ld.so.cache", "/opt/sensor/bin/reader", "/proc/self/status", "/dev/null", "/dev/ttyUSB0",
                  "/srv/cfg/reader.toml", "/var/lib/sensor/state", "/tmp/x"};
  u.paths_written = {"/var/lib/sensor/db/readings.db", "/var/log/sensor/reader.log", "/tmp/scratch", "/dev/null"};
  u.tcp_connect = {1883};
  return u;
}

TEST(WriteLearnedPolicy, RoundTripsAndIsMinimal) {
  const WorkloadPolicy start = ParseOk(kStart, "start.yaml");
  const std::string learned = WriteLearnedPolicy(start, kStart, Usage());
  const WorkloadPolicy p = ParseOk(learned, "learned.yaml");

  EXPECT_EQ(p.name, "sensor");
  EXPECT_EQ(p.mode, Mode::kEnforce);
  ASSERT_TRUE(p.user.has_value());
  EXPECT_EQ(p.user->supplementary_gids, std::vector<uint32_t>{20});
  EXPECT_EQ(p.limits.memory_bytes, start.limits.memory_bytes);
  EXPECT_EQ(p.limits.cpu_millis, 250u);

  // Seccomp: exactly what was used, minus the dangerous call without an
  // opt-in (bpf) and the call the start denies outright (kill).
  EXPECT_EQ(p.seccomp.profile, SeccompProfileKind::kNone);
  std::vector<std::string> allowed;
  for (const auto& r : p.seccomp.allow) allowed.insert(allowed.end(), r.names.begin(), r.names.end());
  std::sort(allowed.begin(), allowed.end());
  EXPECT_EQ(allowed, (std::vector<std::string>{"close", "execve", "exit_group", "ioctl", "mmap", "openat", "ptrace",
                                               "read", "write"}));
  ASSERT_EQ(p.seccomp.allow_dangerous.size(), 1u);
  EXPECT_EQ(p.seccomp.allow_dangerous[0].reason, "self-check \"debugger\"");
  EXPECT_EQ(p.seccomp.deny.size(), 2u);
  EXPECT_THAT(learned, HasSubstr("used but dangerous, NOT allowed (add to allow + allowDangerous with a reason if needed): bpf"));
  EXPECT_THAT(learned, HasSubstr("kill: used, but the start policy denies it; still denied"));

  // Filesystem collapsed to directories.
  EXPECT_EQ(p.filesystem.read_only,
            (std::vector<std::string>{"/dev/ttyUSB0", "/etc/ld.so.cache", "/etc/ssl", "/lib64", "/opt/sensor", "/srv/cfg", "/usr"}));
  EXPECT_EQ(p.filesystem.read_write, (std::vector<std::string>{"/var/lib/sensor", "/var/log/sensor"}));
  EXPECT_EQ(p.filesystem.tmpfs, std::vector<std::string>{"/tmp"});

  // Network: none can't carry ports, so loopback with the used port.
  EXPECT_EQ(p.network.mode, NetworkMode::kLoopback);
  EXPECT_EQ(p.network.tcp_connect, std::vector<uint16_t>{1883});
  EXPECT_TRUE(p.network.tcp_bind.empty());

  EXPECT_EQ(learned.rfind("# Sensor reader on the line-3 gateway.\n", 0), 0u);
}

TEST(WriteLearnedPolicy, HostNetworkDropsNetNamespaceAndNothingUsedStillParses) {
  const std::string start_yaml = "apiVersion: edgeward/v1\nkind: WorkloadPolicy\nmetadata: {name: h}\n"
                                 "spec: {network: host, seccomp: {defaultAction: kill}}\n";
  const WorkloadPolicy start = ParseOk(start_yaml, "s.yaml");
  const std::string learned = WriteLearnedPolicy(start, start_yaml, LearnedUsage{});
  const WorkloadPolicy p = ParseOk(learned, "l.yaml");
  EXPECT_EQ(p.network.mode, NetworkMode::kHost);
  EXPECT_TRUE(p.seccomp.allow.empty());
  ASSERT_TRUE(p.seccomp.default_action.has_value());
  EXPECT_EQ(p.seccomp.default_action->kind, SeccompActionKind::kKillProcess);
  EXPECT_FALSE(p.user.has_value());
}

TEST(WriteLearnedPolicy, HostilePathsCantInjectYaml) {
  const WorkloadPolicy start = ParseOk(kStart, "start.yaml");
  LearnedUsage u;
  u.paths_read = {"/srv/a\nspec: {mode: learn}/f", "/srv/quote\"d/f", "relative/f", "/srv/../etc/shadow",
                  std::string("/srv/bad\xff/f"), "/srv/sp ace/f: x"};
  const std::string learned = WriteLearnedPolicy(start, kStart, u);
  const WorkloadPolicy p = ParseOk(learned, "l.yaml");
  EXPECT_EQ(p.mode, Mode::kEnforce);
  EXPECT_EQ(p.filesystem.read_only, (std::vector<std::string>{"/srv/quote\"d", "/srv/sp ace"}))
      << learned;
  EXPECT_THAT(learned, HasSubstr("skipped recorded path(s) a policy can't hold"));
}

TEST(UnifiedDiff, EqualTextsGiveNothing) { EXPECT_EQ(UnifiedDiff("a\nb\n", "a\nb\n", "x", "y"), ""); }

TEST(UnifiedDiff, ShowsChangesWithContext) {
  const std::string a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
  const std::string b = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n";
  EXPECT_EQ(UnifiedDiff(a, b, "a.yaml", "b.yaml", 2),
            "--- a.yaml\n+++ b.yaml\n"
            "@@ -3,5 +3,5 @@\n 3\n 4\n-5\n+five\n 6\n 7\n"
            "@@ -9,2 +9,3 @@\n 9\n 10\n+11\n");
}

TEST(UnifiedDiff, NearbyChangesShareAHunkAndMissingNewlineIsMarked) {
  EXPECT_EQ(UnifiedDiff("a\nb\nc\n", "a\nB\nc", "x", "y", 1),
            "--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n-c\n+B\n+c\n\\ No newline at end of file\n");
  EXPECT_EQ(UnifiedDiff("", "new\n", "x", "y"), "--- x\n+++ y\n@@ -0,0 +1 @@\n+new\n");
  EXPECT_EQ(UnifiedDiff("old\n", "", "x", "y"), "--- x\n+++ y\n@@ -1 +0,0 @@\n-old\n");
}

TEST(UnifiedDiff, LearnedPolicyDiffAgainstStart) {
  const WorkloadPolicy start = ParseOk(kStart, "start.yaml");
  const std::string learned = WriteLearnedPolicy(start, kStart, Usage());
  const std::string d = UnifiedDiff(kStart, learned, "start.yaml", "learned.yaml");
  EXPECT_THAT(d, HasSubstr("-  mode: learn\n"));
  EXPECT_THAT(d, HasSubstr("+  mode: enforce\n"));
  EXPECT_THAT(d, HasSubstr("+    profile: none\n"));
  EXPECT_THAT(d, Not(HasSubstr("-apiVersion")));
}

}  // namespace
}  // namespace edgeward::policy
