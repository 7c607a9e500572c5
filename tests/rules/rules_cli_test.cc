// End to end: the built edgeward binary's `rules check` and `rules test`.
#include <gtest/gtest.h>

#include <fstream>

#include "swtpm.h"

namespace edgeward::rules {
namespace {

using edgeward::testing::RunCommand;
using edgeward::testing::TempDir;

const std::string kBin = EDGEWARD_BINARY_DIR "/agent/edgeward";

void Write(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
}

constexpr char kRules[] = R"(- list: sensitive_workloads
  items: [model-server, payment-gw]
- macro: attestation_failed
  condition: event.type = "attestation.verdict" and verdict.pass = false
- rule: quarantine on failed attestation
  condition: attestation_failed
  actions: [stop_workloads(in: sensitive_workloads), report(priority: critical)]
  priority: critical
  output: "node %node.id failed attestation: %verdict.reasons"
- rule: repeated seccomp violations
  condition: event.type = "sandbox.violation" and workload.name in (sensitive_workloads)
  threshold: {count: 3, within: 10s, per: workload.name}
  actions: [kill_workload, report(priority: high)]
  output: "%workload.name: %syscall.name"
)";

std::string ViolationLine(const std::string& workload, const std::string& time) {
  return R"({"type":"sandbox.violation","time":")" + time + R"(","node":{"id":"n1"},"workload":{"name":")" +
         workload + R"J(","pid":1234},"syscall":{"name":"ptrace","nr":101,"arch":"x86_64","args":[16,0,0,0,0,0]},"action":"errno(EPERM)","mode":"enforce"})J";
}

TEST(RulesCliTest, CheckAcceptsGoodFilesAndTheShippedRules) {
  TempDir dir;
  Write(dir.File("r.yaml"), kRules);
  auto r = RunCommand(kBin + " rules check " + dir.File("r.yaml"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("ok: 2 rule(s) in 1 file(s)"), std::string::npos) << r.output;
  r = RunCommand(kBin + " rules check " EDGEWARD_SOURCE_DIR "/rules/default/*.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(RulesCliTest, CheckPrintsEveryLocatedErrorAndExits2) {
  TempDir dir;
  const std::string f = dir.File("bad.yaml");
  Write(f, "- rule: a\n  condition: workload.pid = \"x\"\n- rule: b\n  condition: workload.nme = y\n  actions: [kil_workload]\n");
  auto r = RunCommand(kBin + " rules check " + f + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(f + ":2:29: type mismatch: workload.pid is an int, but \"x\" is a string"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(f + ":4:14: unknown field \"workload.nme\" (did you mean \"workload.name\"?)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(f + ":5:13: unknown action \"kil_workload\" (did you mean \"kill_workload\"?)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("3 error(s); rule set rejected"), std::string::npos) << r.output;
  r = RunCommand(kBin + " rules check " + dir.File("missing.yaml") + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;  // kNotFound of an input file
}

TEST(RulesCliTest, TestReplaysEventsDeterministically) {
  TempDir dir;
  Write(dir.File("r.yaml"), kRules);
  Write(dir.File("ev.jsonl"),
        ViolationLine("model-server", "2026-11-23T23:40:00.000Z") + "\n" +
            ViolationLine("model-server", "2026-11-23T23:40:04.000Z") + "\n" +
            ViolationLine("sensor", "2026-11-23T23:40:05.000Z") + "\n\n" +
            ViolationLine("model-server", "2026-11-23T23:40:09.999Z") + "\n" +
            R"({"type":"attestation.verdict","time":"2026-11-23T23:41:00.000Z","node":{"id":"edge-7"},"verdict":{"pass":false,"reasons":["pcr 7 mismatch"]}})" "\n");
  auto r = RunCommand(kBin + " rules test " + dir.File("r.yaml") + " --events " + dir.File("ev.jsonl"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2026-11-23T23:40:09.999Z  " + dir.File("ev.jsonl") +
                          ":5  sandbox.violation  rule \"repeated seccomp violations\" fired (medium)\n"
                          "    output: model-server: ptrace\n"
                          "    would: kill_workload(model-server), report(priority: high)\n"),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rule \"quarantine on failed attestation\" fired (critical)\n"
                          "    output: node edge-7 failed attestation: pcr 7 mismatch\n"
                          "    would: stop_workloads(model-server, payment-gw), report(priority: critical)\n"),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find("5 event(s), 2 firing(s), 2 match(es) below a threshold, 0 rate-limited; no action taken"),
            std::string::npos) << r.output;

  r = RunCommand(kBin + " rules test " + dir.File("r.yaml") + " --json --events " + dir.File("ev.jsonl"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(R"J("actions": [
        "kill_workload(model-server)",
        "report(priority: high)"
      ])J"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(R"("line": 5)"), std::string::npos) << r.output;
}

TEST(RulesCliTest, TestRejectsBadEventLinesWithLocations) {
  TempDir dir;
  Write(dir.File("r.yaml"), kRules);
  Write(dir.File("ev.jsonl"), ViolationLine("a", "2026-11-23T23:40:00Z") + "\n{\"type\":\"nope\",\"time\":\"2026-11-23T23:40:00Z\"}\n{\n");
  auto r = RunCommand(kBin + " rules test " + dir.File("r.yaml") + " --events " + dir.File("ev.jsonl") + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(dir.File("ev.jsonl") + ":2: unknown event type \"nope\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(dir.File("ev.jsonl") + ":3:2: invalid JSON"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2 bad event line(s); nothing replayed"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace edgeward::rules
