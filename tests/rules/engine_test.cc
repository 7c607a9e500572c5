// Engine: thresholds (window edges, per-key isolation, eviction), exceptions,
// rate limits, output, actions, whole-file rejection and last-good-set
// retention, and the shipped default rules.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"

namespace edgeward::rules {
namespace {

using testing::Ev;
using testing::LoadText;
using testing::RecordingSink;
using testing::Violation;

constexpr char kThresholdRule[] = R"(- rule: repeated
  condition: event.type = "sandbox.violation"
  threshold: {count: 5, within: 10s, per: workload.name}
  actions: [kill_workload, report(priority: high)]
  output: "%workload.name x5"
)";

int FireCount(Engine& engine, const std::vector<Event>& events) {
  RecordingSink sink;
  for (const auto& e : events) engine.Process(e, sink);
  return static_cast<int>(sink.fires.size());
}

TEST(ThresholdTest, FiresOnTheCountthEventInsideTheWindow) {
  Engine engine;
  ASSERT_TRUE(LoadText(engine, kThresholdRule).ok());
  RecordingSink sink;
  for (int64_t t : {0, 1000, 2000, 3000}) engine.Process(Violation("w", "ptrace", t), sink);
  EXPECT_TRUE(sink.fires.empty());
  engine.Process(Violation("w", "ptrace", 9999), sink);  // span 9.999 s < 10 s
  ASSERT_EQ(sink.fires.size(), 1u);
  EXPECT_EQ(sink.fires[0].output, "w x5");
  EXPECT_EQ(sink.fires[0].actions, (std::vector<std::string>{"kill:w", "report:high"}));
  EXPECT_EQ(engine.stats().threshold_held, 4u);
}

TEST(ThresholdTest, WindowEdgeIsExclusive) {
  Engine engine;
  ASSERT_TRUE(LoadText(engine, kThresholdRule).ok());
  // Span exactly 10 s: the first event has left the window (t - 10 s, t].
  EXPECT_EQ(FireCount(engine, {Violation("w", "x", 0), Violation("w", "x", 2000), Violation("w", "x", 4000),
                               Violation("w", "x", 6000), Violation("w", "x", 10000)}),
            0);
  // The next event makes five inside (1 s, 11 s].
  EXPECT_EQ(FireCount(engine, {Violation("w", "x", 11000)}), 1);
}

TEST(ThresholdTest, FiringStartsACountAfresh) {
  Engine engine;
  ASSERT_TRUE(LoadText(engine, kThresholdRule).ok());
  std::vector<Event> ten;
  for (int i = 0; i < 10; ++i) ten.push_back(Violation("w", "x", i * 10));
  EXPECT_EQ(FireCount(engine, ten), 2);  // events 5 and 10, not 5..10
}

TEST(ThresholdTest, KeysAreIsolated) {
  Engine engine;
  ASSERT_TRUE(LoadText(engine, kThresholdRule).ok());
  std::vector<Event> mixed;
  for (int i = 0; i < 4; ++i) {
    mixed.push_back(Violation("a", "x", i));
    mixed.push_back(Violation("b", "x", i));
  }
  EXPECT_EQ(FireCount(engine, mixed), 0);  // 8 events, but 4 per key
  RecordingSink sink;
  engine.Process(Violation("b", "x", 10), sink);
  ASSERT_EQ(sink.fires.size(), 1u);
  EXPECT_EQ(sink.fires[0].actions[0], "kill:b");
}

TEST(ThresholdTest, IntKeysAndNoPerField) {
  Engine engine;
  ASSERT_TRUE(LoadText(engine, R"(- rule: per pid
  condition: event.type = "sandbox.violation"
  threshold: {count: 2, within: 1s, per: workload.pid}
- rule: global
  condition: event.type = "sandbox.violation"
  threshold: {count: 3, within: 1s}
)").ok());
  Event a = Violation("a", "x", 0), b = Violation("b", "x", 1);
  b.SetInt(FieldId::kWorkloadPid, 99);
  RecordingSink sink;
  engine.Process(a, sink);
  engine.Process(b, sink);
  EXPECT_TRUE(sink.fires.empty());  // pids differ: one each
  engine.Process(Violation("c", "x", 2), sink);  // pid 1234 again → per pid fires; global 3rd → fires
  EXPECT_EQ(sink.RuleNames(), (std::vector<std::string>{"per pid", "global"}));
}

TEST(ThresholdTest, LeastRecentlySeenKeyIsEvictedWhenTheTableIsFull) {
  Engine engine;
  ASSERT_TRUE(LoadText(engine, R"(- rule: r
  condition: event.type = "sandbox.violation"
  threshold: {count: 2, within: 1h, per: workload.name, max_keys: 3}
)").ok());
  // a, b, c fill the table; d evicts a (least recently seen).
  EXPECT_EQ(FireCount(engine, {Violation("a", "x", 0), Violation("b", "x", 1), Violation("c", "x", 2),
                               Violation("d", "x", 3)}),
            0);
  // a's first event was forgotten: one more a does not fire...
  EXPECT_EQ(FireCount(engine, {Violation("a", "x", 4)}), 0);
  // ...(that evicted b), while c and d kept theirs.
  EXPECT_EQ(FireCount(engine, {Violation("c", "x", 5), Violation("d", "x", 6)}), 2);
  EXPECT_EQ(FireCount(engine, {Violation("b", "x", 7)}), 0);
}

TEST(ThresholdTest, ManyKeysChurnThroughABoundedTable) {
  Engine engine;
  ASSERT_TRUE(LoadText(engine, R"(- rule: r
  condition: event.type = "sandbox.violation"
  threshold: {count: 2, within: 1h, per: workload.name, max_keys: 16}
)").ok());
  RecordingSink sink;
  for (int i = 0; i < 5000; ++i) engine.Process(Violation(std::string("k").append(std::to_string(i % 17)), "x", i), sink);
  // 17 keys cycling through 16 slots in LRU order: every key is evicted
  // just before it comes back, so nothing ever fires.
  EXPECT_TRUE(sink.fires.empty());
  // 8 fresh keys fit: z0..z3 get 13 events, z4..z7 get 12; each fires on
  // every 2nd of its events: 4×6 + 4×6 = 48.
  for (int i = 0; i < 100; ++i) engine.Process(Violation(std::string("z").append(std::to_string(i % 8)), "x", 6000 + i), sink);
  EXPECT_EQ(sink.fires.size(), 48u);
}

TEST(ThresholdTest, TimeGoingBackwardsCountsAsTheLatestTime) {
  Engine engine;
  ASSERT_TRUE(LoadText(engine, R"(- rule: r
  condition: event.type = "sandbox.violation"
  threshold: {count: 2, within: 10s}
)").ok());
  EXPECT_EQ(FireCount(engine, {Violation("w", "x", 100000), Violation("w", "x", 0)}), 1);
}

TEST(RateLimitTest, AtMostCountFiringsPerWindowPerKey) {
  Engine engine;
  ASSERT_TRUE(LoadText(engine, R"(- rule: r
  condition: event.type = "sandbox.violation"
  rate_limit: {count: 2, within: 1m, per: workload.name}
)").ok());
  RecordingSink sink;
  for (int i = 0; i < 5; ++i) engine.Process(Violation("a", "x", i * 1000), sink);
  engine.Process(Violation("b", "x", 5000), sink);
  EXPECT_EQ(sink.fires.size(), 3u);  // a twice, b once
  EXPECT_EQ(engine.stats().rate_limited, 3u);
  engine.Process(Violation("a", "x", 60000), sink);  // first a (t=0) left the window
  EXPECT_EQ(sink.fires.size(), 4u);
  engine.Process(Violation("a", "x", 60500), sink);  // second a (t=1 s) still inside
  EXPECT_EQ(sink.fires.size(), 4u);
}

TEST(ExceptionTest, FalcoStyleExceptionsSuppressMatches) {
  Engine engine;
  ASSERT_TRUE(LoadText(engine, R"(- list: tracers
  items: [ptrace, process_vm_readv]
- rule: r
  condition: event.type = "sandbox.violation"
  exceptions:
    - name: debug_builds
      fields: [workload.name, syscall.name]
      comps: [startswith, in]
      values:
        - [debug-, tracers]
        - [gdb, [kcmp]]
    - name: one_field
      fields: workload.pid
      values: [1, 2]
)").ok());
  RecordingSink sink;
  engine.Process(Violation("debug-x", "ptrace", 0), sink);        // excepted (tuple 1)
  engine.Process(Violation("debug-x", "process_vm_readv", 0), sink);  // excepted
  engine.Process(Violation("gdb", "kcmp", 0), sink);              // excepted (tuple 2)
  EXPECT_TRUE(sink.fires.empty());
  engine.Process(Violation("debug-x", "bpf", 0), sink);           // syscall not excepted
  engine.Process(Violation("prod", "ptrace", 0), sink);           // name not excepted
  engine.Process(Violation("gdb", "ptrace", 0), sink);
  EXPECT_EQ(sink.fires.size(), 3u);
  Event pid1 = Violation("prod", "ptrace", 0);
  pid1.SetInt(FieldId::kWorkloadPid, 1);
  engine.Process(pid1, sink);
  EXPECT_EQ(sink.fires.size(), 3u);
}

TEST(ExceptionTest, ExceptionErrorsAreLocated) {
  Engine engine;
  Status s = LoadText(engine, R"(- rule: r
  condition: event.type = "sandbox.violation"
  exceptions:
    - name: e
      fields: [workload.nam, workload.pid]
      comps: [=, "~"]
      values:
        - [a, notanint]
        - [a]
)");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("r.yaml:6:18: unknown exception comparison \"~\""), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("r.yaml:9:11: each exception value must be a list of 2 values"), std::string::npos)
      << s.message();
}

TEST(ExceptionTest, ExceptionTypesAreChecked) {
  Engine engine;
  Status s = LoadText(engine, R"(- rule: r
  condition: event.type = "sandbox.violation"
  exceptions:
    - name: e
      fields: [workload.nam, workload.pid]
      values:
        - [a, notanint]
)");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("r.yaml:5:16: unknown field \"workload.nam\" (did you mean \"workload.name\"?)"),
            std::string::npos) << s.message();
  EXPECT_NE(s.message().find("r.yaml:7:15: type mismatch: workload.pid is an int, but notanint is a word"),
            std::string::npos) << s.message();
}

TEST(OutputTest, SubstitutesFieldsAndMarksAbsentOnes) {
  Engine engine;
  ASSERT_TRUE(LoadText(engine, R"(- rule: r
  condition: event.type = "sandbox.violation"
  output: "100%% sure: %workload.name (pid %workload.pid) called %syscall.name, args %syscall.args; exit %exit.code at %event.time. Node %node.id."
)").ok());
  RecordingSink sink;
  engine.Process(Violation("w", "ptrace", 123), sink);
  ASSERT_EQ(sink.fires.size(), 1u);
  EXPECT_EQ(sink.fires[0].output,
            "100% sure: w (pid 1234) called ptrace, args 16,0,0,0,0,0; exit <NA> at 2026-11-23T23:40:00.123Z. Node n1.");
}

TEST(OutputTest, LongOutputIsTruncated) {
  Engine engine;
  ASSERT_TRUE(LoadText(engine, "- rule: r\n  condition: event.type = sandbox.violation\n  output: \"%workload.name\"\n").ok());
  RecordingSink sink;
  engine.Process(Violation(std::string(5000, 'w'), "x", 0), sink);
  ASSERT_EQ(sink.fires.size(), 1u);
  EXPECT_EQ(sink.fires[0].output.size(), kMaxOutputBytes);
  EXPECT_TRUE(sink.fires[0].output.ends_with("..."));
}

// Log injection: a workload name (any event string) with newlines or
// control characters must not reach the output line raw.
TEST(OutputTest, ControlCharactersInValuesAreEscaped) {
  Engine engine;
  ASSERT_TRUE(LoadText(engine, R"(- rule: r
  condition: event.type = "sandbox.violation"
  output: "killed %workload.name"
- rule: v
  condition: event.type = "attestation.verdict"
  output: "reasons: %verdict.reasons"
)").ok());
  RecordingSink sink;
  // Through the JSON parser, as a hostile workload's name would arrive.
  Event e = Ev(R"({"type":"sandbox.violation","time":"2026-11-23T23:40:00.000Z",
      "workload":{"name":"evil\nedgeward: rule \"x\" fired\r\t\u001b[31m\u007f\\\u009b","pid":1},
      "syscall":{"name":"ptrace","nr":101,"arch":"x86_64","args":[]},"action":"log","mode":"enforce"})");
  engine.Process(e, sink);
  ASSERT_EQ(sink.fires.size(), 1u);
  EXPECT_EQ(sink.fires[0].output, R"(killed evil\nedgeward: rule "x" fired\r\t\x1b[31m\x7f\\\u009b)");
  EXPECT_EQ(sink.fires[0].output.find('\n'), std::string::npos);
  // Printable UTF-8 passes untouched; list items are escaped one by one.
  sink.fires.clear();
  engine.Process(Ev(R"({"type":"attestation.verdict","time":"2026-11-23T23:40:00Z",
      "verdict":{"pass":false,"reasons":["pcr 7 \u00e9t\u00e9","a\nb"]}})"), sink);
  ASSERT_EQ(sink.fires.size(), 1u);
  EXPECT_EQ(sink.fires[0].output, "reasons: pcr 7 \xc3\xa9t\xc3\xa9, a\\nb");
  // Escaping near the end of the buffer still truncates cleanly.
  sink.fires.clear();
  std::string newlines;  // JSON for 3000 newlines
  for (int i = 0; i < 3000; ++i) newlines.append("\\n");
  engine.Process(Violation(newlines, "x", 0), sink);
  ASSERT_EQ(sink.fires.size(), 1u);
  EXPECT_EQ(sink.fires[0].output.size(), kMaxOutputBytes);
  EXPECT_TRUE(sink.fires[0].output.ends_with("..."));
  EXPECT_EQ(sink.fires[0].output.find('\n'), std::string::npos);
}

TEST(OutputTest, UnknownFieldInOutputIsLocated) {
  Engine engine;
  Status s = LoadText(engine, "- rule: r\n  condition: node.id exists\n  output: \"node %node.idd\"\n");
  EXPECT_EQ(s.message(), "r.yaml:3:17: unknown field \"node.idd\" in output (did you mean \"node.id\"?)");
}

TEST(ActionTest, AllActionsReachTheSink) {
  Engine engine;
  ASSERT_TRUE(LoadText(engine, R"J(- list: sensitive
  items: [model-server, payment-gw]
- rule: r
  condition: event.type = "sandbox.violation"
  priority: critical
  actions:
    - log
    - report
    - report(priority: low)
    - kill_workload
    - restart_workload
    - stop_workloads(in: sensitive)
    - "quarantine(allow: [uplink, dns])"
    - quarantine
    - reattest
    - run_command(name: collect-forensics)
)J").ok());
  RecordingSink sink;
  engine.Process(Violation("w", "x", 0), sink);
  ASSERT_EQ(sink.fires.size(), 1u);
  EXPECT_EQ(sink.fires[0].actions,
            (std::vector<std::string>{"log", "report:critical", "report:low", "kill:w", "restart:w",
                                      "stop:model-server,payment-gw", "quarantine:uplink,dns", "quarantine:",
                                      "reattest", "run:collect-forensics"}));
}

TEST(ActionTest, BadActionsAreLocated) {
  Engine engine;
  Status s = LoadText(engine, R"(- rule: r
  condition: event.type = "tpm.fault"
  actions: [kil_workload, kill_workload, stop_workloads, run_command(name: rm -rf /), report(priority: urgent)]
)");
  ASSERT_FALSE(s.ok());
  const std::string& m = s.message();
  EXPECT_NE(m.find("r.yaml:3:13: unknown action \"kil_workload\" (did you mean \"kill_workload\"?)"), std::string::npos) << m;
  EXPECT_NE(m.find("r.yaml:3:27: kill_workload needs workload.name, but this rule can match tpm.fault events"), std::string::npos) << m;
  EXPECT_NE(m.find("r.yaml:3:42: action stop_workloads needs \"in: ...\""), std::string::npos) << m;
  EXPECT_NE(m.find("is not a command name"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown priority \"urgent\""), std::string::npos) << m;
}

TEST(RuleFileTest, EveryErrorOfAFileIsReportedAndTheFileRejectedWhole) {
  Engine engine;
  std::vector<Diagnostic> diags;
  Status s = LoadText(engine, R"(- rule: good
  condition: event.type = "tpm.fault"
- rule: bad one
  condition: workload.pid = "x"
  priority: urgent
  threshold: {count: 0, within: 10}
  colour: red
- rule: good
  condition: node.id exists
- lst: x
)", &diags);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(engine.rule_count(), 0u);  // "good" is not loaded either
  std::vector<std::string> got;
  for (const auto& d : diags) got.push_back(d.ToString());
  EXPECT_EQ(got, (std::vector<std::string>{
                     "r.yaml:8:9: rule \"good\" is already defined at r.yaml:1:9 (names of lists, macros and rules are unique)",
                     "r.yaml:10:3: item has no \"list\", \"macro\" or \"rule\" key (did you mean \"list\"?)",
                     "r.yaml:7:3: unknown key \"colour\" in rule",
                     "r.yaml:5:13: unknown priority \"urgent\" (use info, low, medium, high or critical)",
                     "r.yaml:4:29: type mismatch: workload.pid is an int, but \"x\" is a string",
                     "r.yaml:6:22: threshold needs count: an integer from 1 to 10000",
                     "r.yaml:6:33: threshold needs within: a duration like 500ms, 10s, 5m, 1h, 1d (at most 365d)",
                 }));
}

TEST(RuleFileTest, YamlSyntaxErrorIsLocated) {
  Engine engine;
  Status s = LoadText(engine, "- rule: r\n  condition: [unclosed\n");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.message().starts_with("r.yaml:3:1: YAML: ")) << s.message();
}

TEST(RuleFileTest, OddItemsAndValuesAreErrorsNotCrashes) {
  Engine engine;
  EXPECT_EQ(LoadText(engine, "- {}\n").message(),
            "r.yaml:1:3: item has no \"list\", \"macro\" or \"rule\" key");
  // 10^12 days would overflow milliseconds: rejected, not wrapped.
  Status s = LoadText(engine, "- rule: r\n  condition: node.id exists\n  threshold: {count: 1, within: 999999999999d}\n");
  EXPECT_NE(s.message().find("r.yaml:3:33: threshold needs within"), std::string::npos) << s.message();
  // A rule name with "%" is its own default output, verbatim.
  ASSERT_TRUE(LoadText(engine, "- rule: 100% bad\n  condition: event.type = sandbox.violation\n").ok());
  RecordingSink sink;
  engine.Process(Violation("w", "x", 0), sink);
  ASSERT_EQ(sink.fires.size(), 1u);
  EXPECT_EQ(sink.fires[0].output, "100% bad");
}

TEST(RuleFileTest, NotAListIsAnError) {
  Engine engine;
  EXPECT_EQ(LoadText(engine, "rule: r\n").message(), "r.yaml:1:1: a rule file is a YAML list of list/macro/rule items");
}

TEST(EngineTest, BadLoadKeepsTheLastGoodSetRunning) {
  Engine engine;
  ASSERT_TRUE(LoadText(engine, "- rule: old\n  condition: event.type = sandbox.violation\n").ok());
  RecordingSink sink;
  engine.Process(Violation("w", "x", 0), sink);
  ASSERT_EQ(sink.RuleNames(), (std::vector<std::string>{"old"}));
  Status s = LoadText(engine, "- rule: new\n  condition: event.type = sandbox.violaton\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("did you mean \"sandbox.violation\""), std::string::npos);
  EXPECT_EQ(engine.rule_count(), 1u);
  engine.Process(Violation("w", "x", 1), sink);
  EXPECT_EQ(sink.RuleNames(), (std::vector<std::string>{"old", "old"}));
  // A missing file also leaves the set alone.
  EXPECT_EQ(engine.Load({"/nonexistent/rules.yaml"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(engine.rule_count(), 1u);
  // A good load replaces it.
  ASSERT_TRUE(LoadText(engine, "- rule: new\n  condition: event.type = sandbox.violation\n").ok());
  engine.Process(Violation("w", "x", 2), sink);
  EXPECT_EQ(sink.fires.back().rule, "new");
}

TEST(EngineTest, DisabledRulesAreCheckedButDoNotRun) {
  Engine engine;
  ASSERT_TRUE(LoadText(engine, "- rule: off\n  enabled: false\n  condition: node.id exists\n").ok());
  EXPECT_EQ(engine.rule_count(), 1u);
  RecordingSink sink;
  engine.Process(Violation("w", "x", 0), sink);
  EXPECT_TRUE(sink.fires.empty());
  EXPECT_FALSE(LoadText(engine, "- rule: off\n  enabled: false\n  condition: node.idd exists\n").ok());
}

TEST(EngineTest, RulesOnlyRunForEventTypesTheyCanMatch) {
  Engine engine;
  ASSERT_TRUE(LoadText(engine, R"(- rule: a
  condition: event.type = "tpm.fault"
- rule: b
  condition: syscall.nr = 1
- rule: c
  condition: not event.type = "tpm.fault"
)").ok());
  RecordingSink sink;
  engine.Process(Violation("w", "x", 0), sink);
  // a is never evaluated for a violation; b and c are.
  EXPECT_EQ(engine.stats().evaluations, 2u);
  EXPECT_EQ(sink.RuleNames(), (std::vector<std::string>{"c"}));
}

TEST(ShippedRulesTest, DefaultRulesLoadAndRespond) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(EDGEWARD_SOURCE_DIR "/rules/default")) {
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 3u);
  Engine engine;
  Status s = engine.Load(files);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_GE(engine.rule_count(), 10u);
  RecordingSink sink;
  engine.Process(Ev(R"({"type":"attestation.verdict","time":"2026-11-23T23:40:00.000Z","node":{"id":"edge-7"},
      "verdict":{"pass":false,"reasons":["pcr 7 mismatch"]}})"), sink);
  ASSERT_EQ(sink.fires.size(), 1u);
  EXPECT_EQ(sink.fires[0].output, "node edge-7 failed attestation: pcr 7 mismatch");
  EXPECT_EQ(sink.fires[0].actions, (std::vector<std::string>{"quarantine:edgeward-uplink", "report:critical"}));
  sink.fires.clear();
  for (int i = 0; i < 5; ++i) engine.Process(Violation("sensor-reader", "ptrace", i * 100), sink);
  ASSERT_EQ(sink.fires.size(), 1u);
  EXPECT_EQ(sink.fires[0].rule, "repeated seccomp violations");
  EXPECT_EQ(sink.fires[0].actions, (std::vector<std::string>{"kill:sensor-reader", "report:high"}));
  sink.fires.clear();
  engine.Process(Violation("sensor-reader", "init_module", 1000), sink);
  ASSERT_EQ(sink.fires.size(), 1u);
  EXPECT_EQ(sink.fires[0].rule, "kernel tampering attempt");
  sink.fires.clear();
  engine.Process(Ev(R"({"type":"bundle.rejected","time":"2026-11-23T23:41:00.000Z",
      "bundle":{"id":"b-12","version":12,"reason":"signature does not verify"}})"), sink);
  ASSERT_EQ(sink.fires.size(), 1u);
  EXPECT_EQ(sink.fires[0].output, "bundle b-12 (version 12) rejected: signature does not verify");
  EXPECT_EQ(sink.fires[0].actions, (std::vector<std::string>{"report:high"}));
}

}  // namespace
}  // namespace edgeward::rules
