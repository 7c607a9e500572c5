// ParsePolicy: the schema's shape, and one test per error class with its
// exact file:line:col and field.
#include "edgeward/policy/parse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "edgeward/policy/syscalls.h"

namespace edgeward::policy {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A valid policy; tests splice a spec fragment into it.
std::string Policy(const std::string& spec_body) {
  return "apiVersion: edgeward/v1\n"   // line 1
         "kind: WorkloadPolicy\n"      // line 2
         "metadata: {name: t}\n"       // line 3
         "spec:\n" +                   // line 4
         spec_body;                    // from line 5
}

std::string ErrorOf(const std::string& yaml) {
  auto p = ParsePolicy(yaml, "p.yaml");
  EXPECT_FALSE(p.ok()) << "parsed unexpectedly";
  if (p.ok()) return "";
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  return p.status().message();
}

WorkloadPolicy Parsed(const std::string& yaml) {
  auto p = ParsePolicy(yaml, "p.yaml");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : WorkloadPolicy{};
}

TEST(ParsePolicy, IssueExampleParsesToTheModel) {
  const auto p = Parsed(Policy(
      "  mode: audit\n"
      "  user: {uid: 1000, gid: 1000, groups: [20, 44]}\n"
      "  namespaces: [pid, mount, ipc, uts, net, cgroup]\n"
      "  network: none\n"
      "  filesystem:\n"
      "    readOnly:  [/usr, /lib, /lib64, /bin, /etc/ssl/]\n"
      "    readWrite: [//var//lib/sensor]\n"
      "    tmpfs:     [/tmp]\n"
      "  capabilities: [net_bind_service, CAP_CHOWN]\n"
      "  limits: {memory: 256Mi, pids: 64, cpu: \"0.5\", nofile: 1024}\n"
      "  seccomp:\n"
      "    profile: baseline\n"
      "    defaultAction: errno(EACCES)\n"
      "    allow: [ptrace, {names: [ioctl], args: [{index: 1, op: eq, value: 0x5401}]}]\n"
      "    deny:  [{names: [socket], action: kill}]\n"
      "    allowDangerous: [{name: ptrace, reason: \"debug agent\"}]\n"));
  EXPECT_EQ(p.name, "t");
  EXPECT_EQ(p.mode, Mode::kAudit);
  ASSERT_TRUE(p.user.has_value());
  EXPECT_EQ(p.user->uid, 1000u);
  EXPECT_EQ(p.user->supplementary_gids, (std::vector<uint32_t>{20, 44}));
  EXPECT_EQ(p.namespaces, (std::vector<Namespace>{Namespace::kPid, Namespace::kMount, Namespace::kIpc,
                                                  Namespace::kUts, Namespace::kNet, Namespace::kCgroup}));
  EXPECT_EQ(p.network.mode, NetworkMode::kNone);
  EXPECT_EQ(p.filesystem.read_only.back(), "/etc/ssl");
  EXPECT_EQ(p.filesystem.read_write, (std::vector<std::string>{"/var/lib/sensor"}));
  EXPECT_EQ(p.capabilities, (std::vector<std::string>{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"}));
  EXPECT_EQ(p.limits.memory_bytes, 256ULL << 20);
  EXPECT_EQ(p.limits.pids, 64u);
  EXPECT_EQ(p.limits.cpu_millis, 500u);
  EXPECT_EQ(p.limits.nofile, 1024u);
  EXPECT_EQ(p.seccomp.profile, SeccompProfileKind::kBaseline);
  ASSERT_TRUE(p.seccomp.default_action.has_value());
  EXPECT_EQ(p.seccomp.default_action->kind, SeccompActionKind::kErrno);
  EXPECT_EQ(p.seccomp.default_action->errno_value, 13);
  ASSERT_EQ(p.seccomp.allow.size(), 2u);
  EXPECT_EQ(p.seccomp.allow[0].names, (std::vector<std::string>{"ptrace"}));
  EXPECT_EQ(p.seccomp.allow[0].action.kind, SeccompActionKind::kAllow);
  EXPECT_EQ(p.seccomp.allow[0].where.line, 18);
  ASSERT_EQ(p.seccomp.allow[1].args.size(), 1u);
  EXPECT_EQ(p.seccomp.allow[1].args[0], (ArgCondition{1, ArgOp::kEq, 0x5401, 0}));
  ASSERT_EQ(p.seccomp.deny.size(), 1u);
  EXPECT_EQ(p.seccomp.deny[0].action.kind, SeccompActionKind::kKillProcess);
  ASSERT_EQ(p.seccomp.allow_dangerous.size(), 1u);
  EXPECT_EQ(p.seccomp.allow_dangerous[0].reason, "debug agent");
}

TEST(ParsePolicy, MinimalPolicyGetsSafeDefaults) {
  const auto p = Parsed(Policy("  mode: enforce\n"));
  EXPECT_EQ(p.mode, Mode::kEnforce);
  EXPECT_FALSE(p.user.has_value());
  EXPECT_EQ(p.network.mode, NetworkMode::kNone);
  // network none implies its own network namespace (docs/policy.md).
  EXPECT_EQ(p.namespaces, std::vector<Namespace>{Namespace::kNet});
  EXPECT_EQ(p.seccomp.profile, SeccompProfileKind::kBaseline);
  EXPECT_FALSE(p.limits.memory_bytes.has_value());
}

TEST(ParsePolicy, NetworkMapWithPortsIsSortedAndLoopbackImpliesNetNamespace) {
  const auto p = Parsed(Policy("  namespaces: [pid]\n"
                               "  network: {mode: loopback, tcpBind: [8080, 80], tcpConnect: [443]}\n"));
  EXPECT_EQ(p.network.mode, NetworkMode::kLoopback);
  EXPECT_EQ(p.network.tcp_bind, (std::vector<uint16_t>{80, 8080}));
  EXPECT_EQ(p.network.tcp_connect, (std::vector<uint16_t>{443}));
  EXPECT_EQ(p.namespaces, (std::vector<Namespace>{Namespace::kPid, Namespace::kNet}));
}

TEST(ParsePolicy, HostNetworkLeavesNetNamespaceOut) {
  const auto p = Parsed(Policy("  namespaces: [pid, mnt]\n  network: host\n"));
  EXPECT_EQ(p.namespaces, (std::vector<Namespace>{Namespace::kPid, Namespace::kMount}));
}

TEST(ParsePolicyErrors, MisspeltKeyGetsSuggestionAndLocation) {
  const std::string e = ErrorOf(Policy("  filesytem: {readOnly: [/usr]}\n"));
  EXPECT_THAT(e, HasSubstr("p.yaml:5:3: field spec.filesytem: unknown key 'filesytem' (did you mean 'filesystem'?)"));
}

TEST(ParsePolicyErrors, MisspeltNestedKeyAndTopLevelKey) {
  const std::string e = ErrorOf("apiVersion: edgeward/v1\nkind: WorkloadPolicy\nmetdata: {name: t}\nspec:\n"
                                "  limits: {memroy: 1Gi}\n");
  EXPECT_THAT(e, HasSubstr("p.yaml:3:1: field metdata: unknown key 'metdata' (did you mean 'metadata'?)"));
  EXPECT_THAT(e, HasSubstr("p.yaml:5:12: field spec.limits.memroy: unknown key 'memroy' (did you mean 'memory'?)"));
  // A missing required key is reported at its parent mapping.
  EXPECT_THAT(e, HasSubstr("p.yaml:1:1: field metadata: missing required key 'metadata'"));
}

TEST(ParsePolicyErrors, MisspeltSyscallGetsSuggestion) {
  const std::string e = ErrorOf(Policy("  seccomp:\n"
                                       "    allow:\n"
                                       "      - read\n"
                                       "      - write\n"
                                       "      - names: [ptrce]\n"));
  EXPECT_THAT(e, HasSubstr("p.yaml:9:17: field spec.seccomp.allow[2].names[0]: unknown syscall 'ptrce' "
                           "(did you mean 'ptrace'?)"));
}

TEST(ParsePolicyErrors, EveryErrorOfTheFileIsReportedInFileOrder) {
  const std::string e = ErrorOf(Policy("  mode: enforse\n"
                                       "  limits: {pids: 0}\n"
                                       "  namespaces: [pid, pid]\n"));
  EXPECT_EQ(e,
            "p.yaml:5:9: field spec.mode: unknown mode 'enforse' (did you mean 'enforce'?) (expected enforce, audit or learn)\n"
            "p.yaml:6:18: field spec.limits.pids: 0 is out of range [1, 4194304]\n"
            "p.yaml:7:21: field spec.namespaces[1]: duplicate namespace 'pid'");
}

TEST(ParsePolicyErrors, ImpossibleLimits) {
  EXPECT_THAT(ErrorOf(Policy("  limits: {memory: 512Ki}\n")),
              HasSubstr("p.yaml:5:20: field spec.limits.memory: 512Ki (524288 bytes) is impossible"));
  EXPECT_THAT(ErrorOf(Policy("  limits: {memory: 2Pi}\n")), HasSubstr("field spec.limits.memory: 2Pi"));
  EXPECT_THAT(ErrorOf(Policy("  limits: {memory: lots}\n")),
              HasSubstr("p.yaml:5:20: field spec.limits.memory: 'lots' is not a size"));
  EXPECT_THAT(ErrorOf(Policy("  limits: {cpu: 0}\n")), HasSubstr("p.yaml:5:17: field spec.limits.cpu: '0' is impossible"));
  EXPECT_THAT(ErrorOf(Policy("  limits: {cpu: 1025}\n")), HasSubstr("field spec.limits.cpu: '1025' is impossible"));
  EXPECT_THAT(ErrorOf(Policy("  limits: {cpu: -1}\n")), HasSubstr("field spec.limits.cpu: '-1' is not a CPU amount"));
  EXPECT_THAT(ErrorOf(Policy("  limits: {nofile: 0}\n")), HasSubstr("field spec.limits.nofile: 0 is out of range"));
  EXPECT_THAT(ErrorOf(Policy("  limits: {nofile: 1048577}\n")), HasSubstr("field spec.limits.nofile: 1048577 is out of range"));
  EXPECT_THAT(ErrorOf(Policy("  limits: {pids: 0}\n")), HasSubstr("p.yaml:5:18: field spec.limits.pids: 0 is out of range"));
}

TEST(ParsePolicyErrors, RelativeAndNonNormalPaths) {
  const std::string e = ErrorOf(Policy("  filesystem:\n"
                                       "    readOnly: [usr/lib, /opt/../etc]\n"));
  EXPECT_THAT(e, HasSubstr("p.yaml:6:16: field spec.filesystem.readOnly[0]: 'usr/lib' is not an absolute path"));
  EXPECT_THAT(e, HasSubstr("p.yaml:6:25: field spec.filesystem.readOnly[1]: '/opt/../etc' contains '..'"));
}

TEST(ParsePolicyErrors, SamePathInTwoListsAfterNormalisation) {
  const std::string e = ErrorOf(Policy("  filesystem:\n"
                                       "    readOnly: [/usr, /var/lib/app]\n"
                                       "    readWrite: [/var//lib/app/]\n"));
  EXPECT_THAT(e, HasSubstr("p.yaml:7:17: field spec.filesystem.readWrite[0]: /var/lib/app is already in "
                           "spec.filesystem.readOnly[1] (line 6)"));
  EXPECT_THAT(ErrorOf(Policy("  filesystem: {tmpfs: [/tmp, /tmp/]}\n")),
              HasSubstr("field spec.filesystem.tmpfs[1]: duplicate path /tmp"));
}

TEST(ParsePolicyErrors, SyscallBothAllowedAndDeniedWithoutArgs) {
  const std::string e = ErrorOf(Policy("  seccomp:\n"
                                       "    allow: [socket]\n"
                                       "    deny: [{names: [socket]}]\n"));
  EXPECT_THAT(e, HasSubstr("p.yaml:7:21: field spec.seccomp.deny[0].names[0]: 'socket' is both allowed and denied "
                           "without args (other entry at line 6)"));
  // With an argument condition on one side, it's a refinement, not a conflict.
  Parsed(Policy("  seccomp:\n"
                "    allow: [socket]\n"
                "    deny: [{names: [socket], args: [{index: 0, op: eq, value: 16}]}]\n"));
}

TEST(ParsePolicyErrors, NetworkAndNetNamespaceConflicts) {
  EXPECT_THAT(ErrorOf(Policy("  namespaces: [pid, net]\n  network: host\n")),
              HasSubstr("p.yaml:5:21: field spec.namespaces: namespace 'net' conflicts with network mode 'host' (line 6)"));
  EXPECT_THAT(ErrorOf(Policy("  network: {mode: none, tcpBind: [80]}\n")),
              HasSubstr("p.yaml:5:34: field spec.network.tcpBind: TCP ports with network mode 'none'"));
  EXPECT_THAT(ErrorOf(Policy("  network: {mode: loopback, tcpBind: [0, 70000]}\n")),
              HasSubstr("field spec.network.tcpBind[0]: 0 is out of range [1, 65535]"));
  EXPECT_THAT(ErrorOf(Policy("  network: lan\n")), HasSubstr("p.yaml:5:12: field spec.network: unknown network mode 'lan'"));
}

TEST(ParsePolicyErrors, UidGidRange) {
  EXPECT_THAT(ErrorOf(Policy("  user: {uid: 4294967295, gid: 0}\n")),
              HasSubstr("p.yaml:5:15: field spec.user.uid: 4294967295 is out of range [0, 4294967294]"));
  EXPECT_THAT(ErrorOf(Policy("  user: {uid: 1}\n")), HasSubstr("p.yaml:5:9: field spec.user.gid: missing required key 'gid'"));
  EXPECT_THAT(ErrorOf(Policy("  user: {uid: -1, gid: 1}\n")), HasSubstr("field spec.user.uid: expected a whole number"));
  Parsed(Policy("  user: {uid: 4294967294, gid: 4294967294}\n"));
}

TEST(ParsePolicyErrors, UnknownNamespaceAndCapability) {
  EXPECT_THAT(ErrorOf(Policy("  namespaces: [pid, uts, ipcc]\n")),
              HasSubstr("p.yaml:5:26: field spec.namespaces[2]: unknown namespace 'ipcc' (did you mean 'ipc'?)"));
  EXPECT_THAT(ErrorOf(Policy("  capabilities: [net_bind_servce]\n")),
              HasSubstr("field spec.capabilities[0]: unknown capability 'net_bind_servce' (did you mean "
                        "'CAP_NET_BIND_SERVICE'?)"));
  EXPECT_THAT(ErrorOf(Policy("  capabilities: [CAP_KILL, kill]\n")),
              HasSubstr("field spec.capabilities[1]: duplicate capability CAP_KILL"));
}

TEST(ParsePolicyErrors, DuplicateEntries) {
  EXPECT_THAT(ErrorOf(Policy("  seccomp: {allow: [read, write, read]}\n")),
              HasSubstr("p.yaml:5:34: field spec.seccomp.allow[2]: duplicate entry for 'read' (also at line 5)"));
  EXPECT_THAT(ErrorOf(Policy("  mode: audit\n  mode: learn\n")), HasSubstr("p.yaml:6:3: field spec.mode: duplicate key 'mode'"));
  EXPECT_THAT(ErrorOf(Policy("  user: {uid: 1, gid: 1, groups: [5, 5]}\n")),
              HasSubstr("field spec.user.groups[1]: duplicate group 5"));
}

TEST(ParsePolicyErrors, MissingProfileFile) {
  EXPECT_THAT(ErrorOf(Policy("  seccomp:\n    profile: /nonexistent/x.json\n")),
              HasSubstr("p.yaml:6:14: field spec.seccomp.profile: /nonexistent/x.json: No such file"));
  EXPECT_THAT(ErrorOf(Policy("  seccomp: {profile: relative.json}\n")),
              HasSubstr("field spec.seccomp.profile: unknown profile 'relative.json'"));
  EXPECT_THAT(ErrorOf(Policy("  seccomp: {profile: /tmp}\n")), HasSubstr("/tmp: not a regular file"));
  EXPECT_THAT(ErrorOf(Policy("  seccomp: {profile: baselin}\n")), HasSubstr("(did you mean 'baseline'?)"));
}

TEST(ParsePolicy, ExistingProfileFileIsAccepted) {
  const std::string path = std::string(EDGEWARD_SOURCE_DIR) + "/rules/seccomp/strict.json";
  const auto p = Parsed(Policy("  seccomp: {profile: " + path + "}\n"));
  EXPECT_EQ(p.seccomp.profile, SeccompProfileKind::kOciFile);
  EXPECT_EQ(p.seccomp.profile_path, path);
}

TEST(ParsePolicyErrors, DangerousSyscallNeedsOptIn) {
  const std::string e = ErrorOf(Policy("  seccomp:\n    allow: [read, bpf]\n"));
  EXPECT_THAT(e, HasSubstr("p.yaml:6:19: field spec.seccomp.allow[1]: 'bpf' is dangerous ("));
  EXPECT_THAT(e, HasSubstr("to allow it, add {name: bpf, reason: \"...\"} to spec.seccomp.allowDangerous"));
  // clone/ioctl/personality are only partly dangerous: allowed freely.
  Parsed(Policy("  seccomp:\n    allow: [clone, ioctl, personality]\n"));
  Parsed(Policy("  seccomp:\n    allow: [bpf]\n    allowDangerous: [{name: bpf, reason: \"load XDP program\"}]\n"));
}

TEST(ParsePolicyErrors, AllowDangerousNeedsReasonAndADangerousName) {
  EXPECT_THAT(ErrorOf(Policy("  seccomp:\n    allowDangerous: [{name: ptrace}]\n")),
              HasSubstr("p.yaml:6:22: field spec.seccomp.allowDangerous[0].reason: missing required key 'reason'"));
  EXPECT_THAT(ErrorOf(Policy("  seccomp:\n    allowDangerous: [{name: ptrace, reason: \"  \"}]\n")),
              HasSubstr("field spec.seccomp.allowDangerous[0].reason: a reason is required"));
  EXPECT_THAT(ErrorOf(Policy("  seccomp:\n    allowDangerous: [{name: read, reason: x}]\n")),
              HasSubstr("p.yaml:6:29: field spec.seccomp.allowDangerous[0].name: 'read' is not in the dangerous set"));
  EXPECT_THAT(ErrorOf(Policy("  seccomp:\n    allowDangerous: [{name: ptrae, reason: x}]\n")),
              HasSubstr("unknown syscall 'ptrae' (did you mean 'ptrace'?)"));
}

TEST(ParsePolicyErrors, ActionsAndArgs) {
  EXPECT_THAT(ErrorOf(Policy("  seccomp: {deny: [{names: [read], action: errno(EFOO)}]}\n")),
              HasSubstr("field spec.seccomp.deny[0].action: unknown errno 'EFOO'"));
  EXPECT_THAT(ErrorOf(Policy("  seccomp: {deny: [{names: [read], action: allow}]}\n")),
              HasSubstr("field spec.seccomp.deny[0].action: a deny rule can't allow"));
  EXPECT_THAT(ErrorOf(Policy("  seccomp: {defaultAction: explode}\n")),
              HasSubstr("field spec.seccomp.defaultAction: unknown action 'explode'"));
  EXPECT_THAT(ErrorOf(Policy("  seccomp: {allow: [{names: [read], args: [{index: 6, op: eq, value: 1}]}]}\n")),
              HasSubstr("field spec.seccomp.allow[0].args[0].index: 6 is out of range [0, 5]"));
  EXPECT_THAT(ErrorOf(Policy("  seccomp: {allow: [{names: [read], args: [{index: 0, op: eqq, value: 1}]}]}\n")),
              HasSubstr("unknown operator 'eqq' (did you mean 'eq'?)"));
  EXPECT_THAT(ErrorOf(Policy("  seccomp: {allow: [{names: [read], args: [{index: 0, op: masked_eq, value: 3, mask: 1}]}]}\n")),
              HasSubstr("value has bits outside the mask"));
  EXPECT_THAT(ErrorOf(Policy("  seccomp: {allow: [{names: [read], args: [{index: 0, op: eq, value: 1}, {index: 0, op: ne, value: 2}]}]}\n")),
              HasSubstr("argument 0 is compared twice in one rule"));
  const auto p = Parsed(Policy("  seccomp: {allow: [{names: [openat], args: [{index: 0, op: eq, value: -100}]}]}\n"));
  ASSERT_EQ(p.seccomp.allow.size(), 1u);
  EXPECT_EQ(p.seccomp.allow[0].args[0].value, static_cast<uint64_t>(-100));
}

TEST(ParsePolicyErrors, HeaderFields) {
  EXPECT_THAT(ErrorOf("apiVersion: edgeward/v2\nkind: WorkloadPolcy\nmetadata: {name: Bad_Name}\nspec: {}\n"),
              ::testing::AllOf(HasSubstr("p.yaml:1:13: field apiVersion: unsupported apiVersion 'edgeward/v2'"),
                               HasSubstr("p.yaml:2:7: field kind: unknown kind 'WorkloadPolcy' (did you mean 'WorkloadPolicy'?)"),
                               HasSubstr("p.yaml:3:18: field metadata.name: 'Bad_Name' is not a valid name")));
}

TEST(ParsePolicyErrors, YamlSyntaxErrorIsLocated) {
  EXPECT_THAT(ErrorOf(Policy("  limits: {memory: 1Gi\n")), HasSubstr("p.yaml:6:1: YAML syntax error:"));
  EXPECT_THAT(ErrorOf(""), HasSubstr("p.yaml:1:1: empty policy"));
  EXPECT_THAT(ErrorOf("- a\n- b\n"), HasSubstr("p.yaml:1:1: field <document>: expected a mapping"));
  EXPECT_THAT(ErrorOf(Policy("  mode: audit\n") + "---\n" + Policy("  mode: audit\n")),
              HasSubstr("more than one YAML document"));
}

TEST(ParsePolicyErrors, WrongNodeKinds) {
  EXPECT_THAT(ErrorOf(Policy("  filesystem: [/usr]\n")), HasSubstr("p.yaml:5:15: field spec.filesystem: expected a mapping"));
  EXPECT_THAT(ErrorOf(Policy("  namespaces: pid\n")), HasSubstr("p.yaml:5:15: field spec.namespaces: expected a list"));
  EXPECT_THAT(ErrorOf(Policy("  mode: [a]\n")), HasSubstr("field spec.mode: expected a value, found a list"));
  EXPECT_THAT(ErrorOf(Policy("  user: {uid: , gid: 1}\n")), HasSubstr("field spec.user.uid: expected a value, found nothing"));
}

TEST(ParsePolicyFile, MissingFileIsNotFoundAndOversizedIsInvalid) {
  auto p = ParsePolicyFile("/nonexistent/policy.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(p.status().message(), HasSubstr("/nonexistent/policy.yaml"));
  const std::string big(kMaxPolicyBytes + 1, '#');
  auto q = ParsePolicy(big, "big.yaml");
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(q.status().message(), HasSubstr("larger than"));
}

TEST(ParsePolicyFile, EveryExamplePolicyParses) {
  const std::filesystem::path dir = std::filesystem::path(EDGEWARD_SOURCE_DIR) / "examples" / "policies";
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    auto p = ParsePolicyFile(entry.path());
    EXPECT_TRUE(p.ok()) << entry.path() << ": " << p.status().ToString();
    ++n;
  }
  EXPECT_GE(n, 4);
}

TEST(ParsePolicyErrors, AliasesCantMultiplyTheWork) {
  // A small file naming one large list many times through an alias.
  std::string names = "[";
  for (int i = 0; i < 300; ++i) names += std::string(i ? ", " : "") + "read";
  names += "]";
  std::string yaml = Policy("  capabilities: &big " + names + "\n  seccomp:\n    allow:\n");
  for (int i = 0; i < 200; ++i) yaml += "      - {names: *big, args: [{index: 0, op: eq, value: " + std::to_string(i) + "}]}\n";
  const std::string e = ErrorOf(yaml);
  EXPECT_THAT(e, HasSubstr("policy too large: more than 20000 values (counting aliases)"));
}

// policy_fuzzer find: yaml-cpp 0.7's LoadAll looped forever on this input
// (upstream yaml-cpp#1319). It must come back, rejected, at once.
TEST(ParsePolicyErrors, FuzzFindLoadAllHangIsRejected) {
  auto p = ParsePolicyFile(std::string(EDGEWARD_SOURCE_DIR) + "/tests/policy/data/loadall_hang.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("loadall_hang.yaml:"));
  EXPECT_THAT(ErrorOf(",\n"), HasSubstr("p.yaml:"));
}

// policy_fuzzer find: a NUL byte in a comment was accepted, and the learned
// rewrite (comment first) began "#\0\0\0", which yaml-cpp takes for UTF-32
// and reads as an empty document. A NUL is now refused where it is.
TEST(ParsePolicyErrors, FuzzFindNulByteIsRejectedWhereItIs) {
  auto p = ParsePolicyFile(std::string(EDGEWARD_SOURCE_DIR) + "/tests/policy/data/nul_in_comment.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("nul_in_comment.yaml:2:2: a NUL byte"));
  EXPECT_THAT(ErrorOf(Policy("  mode: audit\n") + std::string("# a\0b\n", 6)), HasSubstr("p.yaml:6:4: a NUL byte"));
}

TEST(ParsePolicyErrors, SecondDocumentIsLocated) {
  EXPECT_THAT(ErrorOf(Policy("  mode: audit\n") + "---\nfoo: 1\n"),
              HasSubstr("p.yaml:6:1: more than one YAML document"));
  Parsed("---\n" + Policy("  mode: audit\n"));
}

TEST(ParsePolicyErrors, ErrorCountIsCapped) {
  std::string allow = "  seccomp:\n    allow:\n";
  for (int i = 0; i < 150; ++i) allow += "      - nosuchcall" + std::to_string(i) + "\n";
  const std::string e = ErrorOf(Policy(allow));
  EXPECT_THAT(e, HasSubstr("p.yaml: 50 more errors not shown"));
}

}  // namespace
}  // namespace edgeward::policy
