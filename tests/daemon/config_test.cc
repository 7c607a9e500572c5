#include "edgeward/daemon/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "swtpm.h"

namespace edgeward::daemon {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr char kFull[] = R"(node:
  id: edge-0001
stateDir: /var/lib/edgeward-test
tpm: {tcti: "swtpm:host=127.0.0.1,port=2321"}
verifier:
  url: https://verifier.example:8443
  caFile: /etc/edgeward/verifier-ca.pem
attestation: {interval: 90s}
bundles: {rootFile: /etc/edgeward/root.json, fetchInterval: 1h30m, jitter: 250ms, localFile: /srv/bundle}
workloads: {edgewardBinary: /usr/bin/edgeward, cgroupRoot: /sys/fs/cgroup, stopTimeout: 3s}
control: {socket: /run/ew/control.sock, group: wheel}
metrics: {listen: "[::1]:9500"}
log: {format: json, level: debug, target: journald}
rules: {files: [/etc/edgeward/rules.d/local.yaml]}
actions:
  commands:
    page-oncall: [/usr/local/bin/page, --severity, high]
)";

TEST(AgentConfigTest, FullConfigParsesEveryField) {
  auto c = ParseAgentConfig(kFull, "agent.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->node_id, "edge-0001");
  EXPECT_EQ(c->state_dir, "/var/lib/edgeward-test");
  EXPECT_EQ(c->tpm_tcti, "swtpm:host=127.0.0.1,port=2321");
  ASSERT_TRUE(c->verifier.has_value());
  EXPECT_EQ(c->verifier->url, "https://verifier.example:8443");
  EXPECT_EQ(c->verifier->ca_file, "/etc/edgeward/verifier-ca.pem");
  EXPECT_EQ(c->attestation_interval, seconds(90));
  EXPECT_EQ(c->bundles.fetch_interval, minutes(90));
  EXPECT_EQ(c->bundles.jitter, milliseconds(250));
  EXPECT_EQ(c->bundles.local_file, "/srv/bundle");
  EXPECT_EQ(c->workloads.edgeward_binary, "/usr/bin/edgeward");
  EXPECT_EQ(c->workloads.stop_timeout, seconds(3));
  EXPECT_EQ(c->control.socket, "/run/ew/control.sock");
  EXPECT_EQ(c->control.group, "wheel");
  EXPECT_EQ(c->metrics.host, "::1");
  EXPECT_EQ(c->metrics.port, 9500);
  EXPECT_EQ(c->log.format, LogFormat::kJson);
  EXPECT_EQ(c->log.level, "debug");
  EXPECT_EQ(c->log.target, LogTarget::kJournald);
  EXPECT_EQ(c->rule_files, std::vector<std::string>{"/etc/edgeward/rules.d/local.yaml"});
  ASSERT_EQ(c->commands.count("page-oncall"), 1u);
  EXPECT_EQ(c->commands.at("page-oncall"),
            (std::vector<std::string>{"/usr/local/bin/page", "--severity", "high"}));
}

TEST(AgentConfigTest, MinimalConfigIsLocalOnlyWithDefaults) {
  auto c = ParseAgentConfig("node: {id: n1}\n", "agent.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->verifier.has_value());
  EXPECT_EQ(c->state_dir, "/var/lib/edgeward");
  EXPECT_EQ(c->attestation_interval, minutes(10));
  EXPECT_EQ(c->control.socket, "/run/edgeward/control.sock");
  EXPECT_EQ(c->metrics.host, "127.0.0.1");
  EXPECT_EQ(c->metrics.port, 9464);
  EXPECT_EQ(c->workloads.stop_timeout, seconds(10));
}

TEST(AgentConfigTest, EmptyMetricsListenDisablesMetrics) {
  auto c = ParseAgentConfig("metrics: {listen: \"\"}\n", "a.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->metrics.listen.empty());
  EXPECT_EQ(c->metrics.port, 0);
}

TEST(AgentConfigTest, UnknownKeyIsLocatedWithSuggestion) {
  auto c = ParseAgentConfig("node: {id: n1}\ncontrol:\n  sokcet: /run/x.sock\n", "/etc/edgeward/agent.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            "/etc/edgeward/agent.yaml:3:3: field control.sokcet: unknown field 'sokcet' (did you mean 'socket'?)");
}

TEST(AgentConfigTest, EveryErrorIsReportedInFileOrder) {
  const char* text =
      "attestation:\n"
      "  interval: 10 minutes\n"
      "metrics: {listen: localhost}\n"
      "log: {level: loud}\n"
      "verifier: {url: http://v.example}\n";
  auto c = ParseAgentConfig(text, "a.yaml");
  ASSERT_FALSE(c.ok());
  const std::string m = c.status().message();
  EXPECT_NE(m.find("a.yaml:2:13: field attestation.interval: '10 minutes' is not a duration"), std::string::npos) << m;
  EXPECT_NE(m.find("a.yaml:3:19: field metrics.listen: 'localhost' is not HOST:PORT"), std::string::npos) << m;
  EXPECT_NE(m.find("a.yaml:4:14: field log.level: 'loud' is not one of: trace, debug"), std::string::npos) << m;
  EXPECT_NE(m.find("a.yaml:5:17: field verifier.url: 'http://v.example' is not an https:// URL"), std::string::npos)
      << m;
  EXPECT_NE(m.find("field verifier.caFile: missing"), std::string::npos) << m;
  EXPECT_LT(m.find("a.yaml:2:"), m.find("a.yaml:3:"));
  EXPECT_LT(m.find("a.yaml:4:"), m.find("a.yaml:5:"));
}

TEST(AgentConfigTest, SyntaxErrorIsLocated) {
  auto c = ParseAgentConfig("node:\n  id: [unclosed\n", "a.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("a.yaml:"), std::string::npos);
  EXPECT_NE(c.status().message().find("YAML syntax"), std::string::npos) << c.status().message();
}

TEST(AgentConfigTest, DuplicateKeysAndRelativePathsAndBadCommandsAreRefused) {
  const char* text =
      "stateDir: var/lib\n"
      "node: {id: \"bad id\"}\n"
      "node: {id: n2}\n"
      "actions:\n"
      "  commands:\n"
      "    reboot: [reboot, now]\n"
      "rules: {files: [local.yaml]}\n";
  auto c = ParseAgentConfig(text, "a.yaml");
  ASSERT_FALSE(c.ok());
  const std::string m = c.status().message();
  EXPECT_NE(m.find("a.yaml:1:11: field stateDir: 'var/lib' is not an absolute path"), std::string::npos) << m;
  EXPECT_NE(m.find("a.yaml:2:12: field node.id: 'bad id' is not a valid node id"), std::string::npos) << m;
  EXPECT_NE(m.find("a.yaml:3:1: field node: duplicate key 'node'"), std::string::npos) << m;
  EXPECT_NE(m.find("a.yaml:6:14: field actions.commands.reboot[0]: the program must be an absolute path"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("a.yaml:7:17: field rules.files[0]: 'local.yaml' is not an absolute path"), std::string::npos)
      << m;
}

TEST(AgentConfigTest, TopLevelMustBeAMappingAndNotEmpty) {
  auto list = ParseAgentConfig("- a\n- b\n", "a.yaml");
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.status().message().find("a.yaml:1:1: expected a mapping at the top level"), std::string::npos)
      << list.status().message();
  auto empty = ParseAgentConfig("", "a.yaml");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("empty config"), std::string::npos);
}

TEST(AgentConfigTest, OversizedConfigIsOutOfRange) {
  std::string big(kMaxConfigBytes + 1, '#');
  auto c = ParseAgentConfig(big, "a.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kOutOfRange);
}

TEST(AgentConfigTest, LoadReadsAFileAndNamesItInErrors) {
  testing::TempDir dir;
  {
    std::ofstream(dir.File("agent.yaml")) << "log: {format: xml}\n";
  }
  auto bad = LoadAgentConfig(dir.File("agent.yaml"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(dir.File("agent.yaml") + ":1:15: field log.format: 'xml' is not one of"),
            std::string::npos)
      << bad.status().message();
  auto missing = LoadAgentConfig(dir.File("nope.yaml"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(AgentConfigTest, DurationsParseAndFormat) {
  std::chrono::milliseconds d{};
  ASSERT_TRUE(ParseDuration("1h30m", &d));
  EXPECT_EQ(d, minutes(90));
  ASSERT_TRUE(ParseDuration("250ms", &d));
  EXPECT_EQ(d, milliseconds(250));
  ASSERT_TRUE(ParseDuration("2d", &d));
  EXPECT_EQ(FormatDuration(d), "2d");
  EXPECT_FALSE(ParseDuration("10", &d));     // no unit
  EXPECT_FALSE(ParseDuration("", &d));
  EXPECT_FALSE(ParseDuration("-5s", &d));
  EXPECT_FALSE(ParseDuration("31d", &d));    // above 30 days
  EXPECT_FALSE(ParseDuration("99999999999999999999s", &d));
  EXPECT_EQ(FormatDuration(milliseconds(5'400'250)), "1h30m250ms");
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
}

TEST(AgentConfigTest, RestartRequiredChangesNameOnlyUnsafeFields) {
  auto a = ParseAgentConfig(kFull, "a.yaml");
  ASSERT_TRUE(a.ok());
  AgentConfig b = *a;
  b.log.level = "warn";
  b.log.format = LogFormat::kText;
  b.workloads.stop_timeout = seconds(1);
  b.rule_files.clear();
  b.commands.clear();
  EXPECT_TRUE(RestartRequiredChanges(*a, b).empty());
  b.control.socket = "/run/other.sock";
  b.verifier.reset();
  b.attestation_interval = seconds(5);
  EXPECT_EQ(RestartRequiredChanges(*a, b),
            (std::vector<std::string>{"verifier", "attestation.interval", "control.socket"}));
}

}  // namespace
}  // namespace edgeward::daemon
