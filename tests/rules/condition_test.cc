// Conditions: every operator, lists, macros, glob, exists, types, and errors
// located at file:line:col.
#include <gtest/gtest.h>

#include "test_util.h"

namespace edgeward::rules {
namespace {

using testing::Ev;
using testing::LoadText;
using testing::RecordingSink;
using testing::Violation;

std::string RuleYaml(const std::string& cond, const std::string& prelude = "") {
  return prelude + "- rule: r\n  condition: >-\n    " + cond + "\n";
}

bool Matches(const std::string& cond, const Event& e, const std::string& prelude = "") {
  Engine engine;
  Status s = LoadText(engine, RuleYaml(cond, prelude));
  EXPECT_TRUE(s.ok()) << cond << "\n" << s.message();
  RecordingSink sink;
  engine.Process(e, sink);
  return !sink.fires.empty();
}

// The error text of loading `yaml`, one diagnostic per line.
std::string Errors(const std::string& yaml) {
  Engine engine;
  Status s = LoadText(engine, yaml);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  return s.message();
}

const Event kPtrace = Violation("sensor-reader", "ptrace", 0);

TEST(ConditionTest, StringComparisons) {
  EXPECT_TRUE(Matches(R"(syscall.name = "ptrace")", kPtrace));
  EXPECT_TRUE(Matches("syscall.name = ptrace", kPtrace));  // bare word
  EXPECT_TRUE(Matches("syscall.name == ptrace", kPtrace));
  EXPECT_FALSE(Matches(R"(syscall.name = "bpf")", kPtrace));
  EXPECT_TRUE(Matches(R"(syscall.name != "bpf")", kPtrace));
  EXPECT_FALSE(Matches(R"(syscall.name != "ptrace")", kPtrace));
  EXPECT_TRUE(Matches(R"(workload.name contains "sor-re")", kPtrace));
  EXPECT_FALSE(Matches(R"(workload.name contains "xyz")", kPtrace));
  EXPECT_TRUE(Matches(R"(workload.name startswith "sensor")", kPtrace));
  EXPECT_FALSE(Matches(R"(workload.name startswith "reader")", kPtrace));
  EXPECT_TRUE(Matches(R"(workload.name endswith "-reader")", kPtrace));
  EXPECT_FALSE(Matches(R"(workload.name endswith "sensor")", kPtrace));
  EXPECT_TRUE(Matches(R"J(action = "errno(EPERM)")J", kPtrace));
}

TEST(ConditionTest, IntComparisons) {
  EXPECT_TRUE(Matches("syscall.nr = 101", kPtrace));
  EXPECT_FALSE(Matches("syscall.nr = 100", kPtrace));
  EXPECT_TRUE(Matches("syscall.nr != 100", kPtrace));
  EXPECT_TRUE(Matches("syscall.nr < 102", kPtrace));
  EXPECT_FALSE(Matches("syscall.nr < 101", kPtrace));
  EXPECT_TRUE(Matches("syscall.nr <= 101", kPtrace));
  EXPECT_FALSE(Matches("syscall.nr <= 100", kPtrace));
  EXPECT_TRUE(Matches("syscall.nr > 100", kPtrace));
  EXPECT_FALSE(Matches("syscall.nr > 101", kPtrace));
  EXPECT_TRUE(Matches("syscall.nr >= 101", kPtrace));
  EXPECT_FALSE(Matches("syscall.nr >= 102", kPtrace));
  EXPECT_TRUE(Matches("workload.pid > -5", kPtrace));
  EXPECT_TRUE(Matches("syscall.nr in (1, 101, 3)", kPtrace));
  EXPECT_FALSE(Matches("syscall.nr in (1, 2, 3)", kPtrace));
}

TEST(ConditionTest, BoolAndListFields) {
  Event fail = Ev(R"({"type":"attestation.verdict","time":"2026-11-23T23:40:00.000Z","node":{"id":"n1"},
      "verdict":{"pass":false,"reasons":["pcr 7 mismatch","ima: unknown file"]}})");
  EXPECT_TRUE(Matches("verdict.pass = false", fail));
  EXPECT_FALSE(Matches("verdict.pass = true", fail));
  EXPECT_TRUE(Matches("verdict.pass != true", fail));
  EXPECT_TRUE(Matches(R"(verdict.reasons contains "pcr 7 mismatch")", fail));
  EXPECT_FALSE(Matches(R"(verdict.reasons contains "pcr 7")", fail));  // element equality
  EXPECT_TRUE(Matches(R"(verdict.reasons in ("x", "ima: unknown file"))", fail));
  EXPECT_FALSE(Matches(R"(verdict.reasons in ("x", "y"))", fail));
  EXPECT_TRUE(Matches("syscall.args contains 16", kPtrace));
  EXPECT_FALSE(Matches("syscall.args contains 17", kPtrace));
}

TEST(ConditionTest, InListsWithManyItemsUseTheSortedSet) {
  std::string items;
  // append, not "w" + std::to_string(i): GCC 12 -O3 gives a false
  // -Wrestrict for const char* + std::string&& (GCC bug 105329).
  for (int i = 0; i < 50; ++i) items.append("w").append(std::to_string(i)).append(", ");
  EXPECT_TRUE(Matches("workload.name in (" + items + "sensor-reader)", kPtrace));
  EXPECT_FALSE(Matches("workload.name in (" + items + "other)", kPtrace));
}

TEST(ConditionTest, Glob) {
  EXPECT_TRUE(Matches(R"(workload.name glob "sensor-*")", kPtrace));
  EXPECT_TRUE(Matches(R"(workload.name glob "*-reader")", kPtrace));
  EXPECT_TRUE(Matches(R"(workload.name glob "s?nsor*r")", kPtrace));
  EXPECT_TRUE(Matches(R"(workload.name glob "*")", kPtrace));
  EXPECT_FALSE(Matches(R"(workload.name glob "sensor")", kPtrace));
  EXPECT_FALSE(Matches(R"(workload.name glob "*-writer")", kPtrace));
  EXPECT_FALSE(Matches(R"(workload.name glob "s?sor*")", kPtrace));
}

TEST(ConditionTest, ExistsAndAbsentFields) {
  Event exit = Ev(R"({"type":"workload.exit","time":"2026-11-23T23:40:00.000Z",
      "workload":{"name":"a","pid":7},"exit":{"code":1}})");
  EXPECT_TRUE(Matches("exit.code exists", exit));
  EXPECT_FALSE(Matches("exit.signal exists", exit));
  EXPECT_TRUE(Matches("not exit.signal exists", exit));
  // Every comparison on an absent field is false, even "!=".
  EXPECT_FALSE(Matches(R"(exit.signal != "SIGKILL")", exit));
  EXPECT_FALSE(Matches(R"(exit.signal = "SIGKILL")", exit));
  EXPECT_FALSE(Matches("node.id exists", exit));
}

TEST(ConditionTest, BooleanOperatorsAndPrecedence) {
  EXPECT_TRUE(Matches("syscall.nr = 1 or syscall.nr = 101", kPtrace));
  EXPECT_FALSE(Matches("syscall.nr = 1 and syscall.nr = 101", kPtrace));
  // and binds tighter than or: true or (false and false).
  EXPECT_TRUE(Matches("syscall.nr = 101 or syscall.nr = 1 and syscall.nr = 2", kPtrace));
  EXPECT_FALSE(Matches("(syscall.nr = 101 or syscall.nr = 1) and syscall.nr = 2", kPtrace));
  EXPECT_TRUE(Matches("not syscall.nr = 1", kPtrace));
  EXPECT_TRUE(Matches("not not syscall.nr = 101", kPtrace));
  EXPECT_FALSE(Matches("not (syscall.nr = 101 and mode = enforce)", kPtrace));
}

TEST(ConditionTest, EventTypeTests) {
  EXPECT_TRUE(Matches(R"(event.type = "sandbox.violation")", kPtrace));
  EXPECT_TRUE(Matches("event.type = sandbox.violation", kPtrace));
  EXPECT_FALSE(Matches(R"(event.type = "workload.exit")", kPtrace));
  EXPECT_TRUE(Matches(R"(event.type != "workload.exit")", kPtrace));
  EXPECT_TRUE(Matches("event.type in (workload.exit, sandbox.violation)", kPtrace));
  EXPECT_TRUE(Matches(R"(event.type startswith "sandbox.")", kPtrace));
}

TEST(ConditionTest, ListsAndMacros) {
  const std::string prelude = R"(- list: base
  items: [a, b]
- list: sensitive
  items: [base, sensor-reader]
- macro: is_violation
  condition: event.type = "sandbox.violation"
- macro: sensitive_violation
  condition: is_violation and workload.name in (sensitive)
)";
  EXPECT_TRUE(Matches("sensitive_violation", kPtrace, prelude));
  EXPECT_TRUE(Matches("workload.name in sensitive", kPtrace, prelude));
  EXPECT_FALSE(Matches("workload.name in (base)", kPtrace, prelude));
  EXPECT_TRUE(Matches("workload.name in (base, sensor-reader)", kPtrace, prelude));
  EXPECT_TRUE(Matches("not workload.name in (base)", kPtrace, prelude));
  // A nested list is expanded: "a" comes from base through sensitive.
  EXPECT_TRUE(Matches("workload.name in (sensitive)", Violation("a", "ptrace", 0), prelude));
}

TEST(ConditionTest, MacroUsedBeforeItsDefinitionWorks) {
  EXPECT_TRUE(Matches("later", kPtrace, "- macro: later\n  condition: syscall.nr = 101\n"));
}

TEST(ConditionErrorTest, TypeMismatchIsLocated) {
  std::string e = Errors("- rule: bad\n  condition: workload.pid = \"x\"\n");
  EXPECT_EQ(e, "r.yaml:2:29: type mismatch: workload.pid is an int, but \"x\" is a string");
}

TEST(ConditionErrorTest, StringOperatorOnIntIsAnError) {
  std::string e = Errors("- rule: bad\n  condition: workload.pid startswith 1\n");
  EXPECT_EQ(e, "r.yaml:2:27: operator \"startswith\" does not apply to int field workload.pid "
               "(it takes =, !=, <, <=, >, >=, in, exists)");
}

TEST(ConditionErrorTest, OrderingOnStringAndOpsOnBoolAreErrors) {
  EXPECT_NE(Errors("- rule: bad\n  condition: workload.name < a\n").find("r.yaml:2:28: operator \"<\" does not apply to string field workload.name"), std::string::npos);
  EXPECT_NE(Errors("- rule: bad\n  condition: verdict.pass contains x\n").find("r.yaml:2:27: operator \"contains\" does not apply to bool field"), std::string::npos);
  EXPECT_NE(Errors("- rule: bad\n  condition: verdict.pass = 1\n").find("r.yaml:2:29: type mismatch: verdict.pass is a bool (true or false), but 1 is an int"), std::string::npos);
  EXPECT_NE(Errors("- rule: bad\n  condition: workload.name = 5\n").find("r.yaml:2:30: type mismatch: workload.name is a string, but 5 is an int (quote it)"), std::string::npos);
}

TEST(ConditionErrorTest, UnknownFieldSuggestsTheNearest) {
  std::string e = Errors("- rule: bad\n  condition: workload.nme = x\n");
  EXPECT_EQ(e, "r.yaml:2:14: unknown field \"workload.nme\" (did you mean \"workload.name\"?)");
}

TEST(ConditionErrorTest, UnknownMacroListAndEventTypeSuggest) {
  std::string e = Errors(R"(- list: sensitive_workloads
  items: [a]
- macro: attestation_failed
  condition: verdict.pass = false
- rule: bad
  condition: attestaton_failed and workload.name in sensitive_workload and event.type = "tpm.falt"
)");
  EXPECT_NE(e.find("r.yaml:6:14: unknown macro \"attestaton_failed\" (did you mean \"attestation_failed\"?)"), std::string::npos) << e;
  EXPECT_NE(e.find("r.yaml:6:53: unknown list \"sensitive_workload\" (did you mean \"sensitive_workloads\"?)"), std::string::npos) << e;
  EXPECT_NE(e.find("r.yaml:6:89: unknown event type \"tpm.falt\" (did you mean \"tpm.fault\"?)"), std::string::npos) << e;
}

TEST(ConditionErrorTest, SyntaxErrorsAreLocated) {
  EXPECT_EQ(Errors("- rule: bad\n  condition: (syscall.nr = 1\n"), "r.yaml:2:29: expected \")\", got end of condition");
  EXPECT_EQ(Errors("- rule: bad\n  condition: syscall.nr = 1 syscall.nr = 2\n"),
            "r.yaml:2:29: unexpected \"syscall.nr\" after a complete condition (missing \"and\"/\"or\"?)");
  EXPECT_EQ(Errors("- rule: bad\n  condition: 'syscall.name = \"ptrace'\n"),
            "r.yaml:2:30: unterminated string (no closing \")");
  EXPECT_EQ(Errors("- rule: bad\n  condition: syscall.nr = 99999999999999999999\n"),
            "r.yaml:2:27: integer 99999999999999999999 is out of range (64-bit signed)");
  EXPECT_EQ(Errors("- rule: bad\n  condition: syscall.nr = and\n"), "r.yaml:2:27: expected a value, got \"and\"");
  EXPECT_EQ(Errors("- rule: bad\n  condition: syscall.nr ! 1\n"),
            "r.yaml:2:25: \"!\" must be followed by \"=\" (use \"not\" to negate)");
}

TEST(ConditionErrorTest, LocationsInsideMultiLineBlockScalars) {
  std::string e = Errors("- rule: bad\n  condition: >\n    event.type = sandbox.violation\n      and syscall.nme = x\n");
  EXPECT_EQ(e, "r.yaml:4:11: unknown field \"syscall.nme\" (did you mean \"syscall.name\"?)");
}

TEST(ConditionErrorTest, MacroCyclesAreRejected) {
  std::string e = Errors(R"(- macro: a
  condition: b and syscall.nr = 1
- macro: b
  condition: not a
- rule: r
  condition: a
)");
  EXPECT_EQ(e, "r.yaml:4:18: macro cycle: a -> b -> a");
  EXPECT_EQ(Errors("- macro: self\n  condition: self\n- rule: r\n  condition: self\n"),
            "r.yaml:2:14: macro cycle: self -> self");
}

TEST(ConditionErrorTest, ErrorsInAMacroAreReportedOnceWhereItIsDefined) {
  std::string e = Errors(R"(- macro: m
  condition: syscall.nr = x
- rule: r1
  condition: m
- rule: r2
  condition: m or m
)");
  EXPECT_EQ(e, "r.yaml:2:27: type mismatch: syscall.nr is an int, but x is a word");
}

TEST(ConditionErrorTest, ListCyclesAreRejected) {
  std::string e = Errors("- list: a\n  items: [b]\n- list: b\n  items: [a]\n");
  EXPECT_NE(e.find("list cycle"), std::string::npos) << e;
}

TEST(ConditionErrorTest, FieldWithoutOperatorAndMacroWithOperator) {
  EXPECT_EQ(Errors("- rule: r\n  condition: node.id\n"),
            "r.yaml:2:14: field \"node.id\" needs an operator (e.g. \"node.id exists\")");
  EXPECT_EQ(Errors("- macro: m\n  condition: node.id exists\n- rule: r\n  condition: m = 1\n"),
            "r.yaml:4:14: \"m\" is a macro; a macro takes no operator");
}

TEST(ConditionErrorTest, DeepNestingIsBounded) {
  std::string deep(150, '(');
  deep += "syscall.nr = 1";
  deep += std::string(150, ')');
  EXPECT_NE(Errors(RuleYaml(deep)).find("nests deeper than"), std::string::npos);
  // A long flat "or" chain is fine (n-ary), up to the term limit.
  std::string chain = "syscall.nr = 0";
  for (int i = 1; i < 900; ++i) chain += " or syscall.nr = " + std::to_string(i);
  EXPECT_TRUE(Matches(chain, kPtrace));
}

TEST(ConditionErrorTest, ExponentialMacroExpansionIsBounded) {
  std::string yaml = "- macro: m0\n  condition: syscall.nr = 1\n";
  for (int i = 1; i < 30; ++i) {
    yaml += "- macro: m" + std::to_string(i) + "\n  condition: m" + std::to_string(i - 1) + " or m" +
            std::to_string(i - 1) + "\n";
  }
  yaml += "- rule: r\n  condition: m29\n";
  EXPECT_NE(Errors(yaml).find("nodes after macro expansion"), std::string::npos);
}

}  // namespace
}  // namespace edgeward::rules
