// JSON Lines event parsing: the contract, and errors located by line.
#include <gtest/gtest.h>

#include "edgeward/rules/event_parser.h"

namespace edgeward::rules {
namespace {

TEST(EventParserTest, ParsesTheSandboxViolationContract) {
  Event e;
  Status s = ParseEventJson(
      R"J({"type":"sandbox.violation","time":"2026-11-23T23:40:00.123Z","node":{"id":"edge-7"},
 "workload":{"name":"sensor-reader","pid":1234},
 "syscall":{"name":"ptrace","nr":101,"arch":"x86_64","args":[16,0,0,0,0,0]},
 "action":"errno(EPERM)","mode":"enforce"})J",
      "e.jsonl", 1, &e);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(e.type(), EventType::kSandboxViolation);
  EXPECT_EQ(FormatRfc3339Ms(e.time_ms()), "2026-11-23T23:40:00.123Z");
  EXPECT_EQ(e.GetString(FieldId::kEventType), "sandbox.violation");
  EXPECT_EQ(e.GetString(FieldId::kNodeId), "edge-7");
  EXPECT_EQ(e.GetString(FieldId::kWorkloadName), "sensor-reader");
  EXPECT_EQ(e.GetInt(FieldId::kWorkloadPid), 1234);
  EXPECT_EQ(e.GetString(FieldId::kSyscallName), "ptrace");
  EXPECT_EQ(e.GetInt(FieldId::kSyscallNr), 101);
  EXPECT_EQ(e.GetString(FieldId::kSyscallArch), "x86_64");
  ASSERT_EQ(e.GetIntList(FieldId::kSyscallArgs).size(), 6u);
  EXPECT_EQ(e.GetIntList(FieldId::kSyscallArgs)[0], 16);
  EXPECT_EQ(e.GetString(FieldId::kAction), "errno(EPERM)");
  EXPECT_EQ(e.GetString(FieldId::kMode), "enforce");
  EXPECT_FALSE(e.Has(FieldId::kExitCode));
}

TEST(EventParserTest, ParsesWorkloadExitWithAndWithoutSignal) {
  Event e;
  ASSERT_TRUE(ParseEventJson(R"({"type":"workload.exit","time":"2026-11-23T23:40:00Z",
      "workload":{"name":"a","pid":7},"exit":{"code":137,"signal":"SIGKILL"}})", "e", 1, &e).ok());
  EXPECT_EQ(e.GetInt(FieldId::kExitCode), 137);
  EXPECT_EQ(e.GetString(FieldId::kExitSignal), "SIGKILL");
  ASSERT_TRUE(ParseEventJson(R"({"type":"workload.exit","time":"2026-11-23T23:40:00Z",
      "workload":{"name":"a","pid":7},"exit":{"code":0,"signal":null}})", "e", 1, &e).ok());
  EXPECT_FALSE(e.Has(FieldId::kExitSignal));  // cleared from the previous parse
}

TEST(EventParserTest, EveryEventTypeParses) {
  const char* lines[] = {
      R"({"type":"workload.start","time":"2026-11-23T23:40:00Z","workload":{"name":"a","pid":1}})",
      R"({"type":"workload.crash_loop","time":"2026-11-23T23:40:00Z","workload":{"name":"a"},"crash_loop":{"restarts":5,"within_s":60},"exit":{"code":1}})",
      R"({"type":"attestation.verdict","time":"2026-11-23T23:40:00Z","verdict":{"pass":true,"reasons":[],"verifier":"local"}})",
      R"({"type":"measurement.changed","time":"2026-11-23T23:40:00Z","measurement":{"path":"/usr/bin/x","pcr":15,"old_sha256":"aa","new_sha256":"bb"}})",
      R"({"type":"bundle.accepted","time":"2026-11-23T23:40:00Z","bundle":{"id":"b","version":3,"signer":"ops"}})",
      R"({"type":"bundle.rejected","time":"2026-11-23T23:40:00Z","bundle":{"id":"b","reason":"bad signature"}})",
      R"({"type":"tpm.fault","time":"2026-11-23T23:40:00Z","tpm":{"operation":"quote","rc":2306,"message":"TPM_RC_OBJECT_MEMORY"}})",
      R"({"type":"spool.overflow","time":"2026-11-23T23:40:00Z","spool":{"name":"reports","dropped":10,"bytes":4096}})",
      R"({"type":"cert.renewal_failed","time":"2026-11-23T23:40:00Z","cert":{"name":"node","reason":"timeout","not_after":"2026-12-01T00:00:00Z","days_left":7}})",
      R"({"type":"node.reregistered","time":"2026-11-23T23:40:00Z","registration":{"reason":"unknown_node"}})",
  };
  for (const char* l : lines) {
    Event e;
    Status s = ParseEventJson(l, "e", 1, &e);
    EXPECT_TRUE(s.ok()) << l << ": " << s.message();
  }
}

TEST(EventParserTest, ErrorsNameTheLineAndField) {
  Event e;
  auto msg = [&](std::string_view json) { return ParseEventJson(json, "ev.jsonl", 4, &e).message(); };
  EXPECT_EQ(msg(R"({"type":"sandbox.violation","time":"2026-11-23T23:40:00Z","workload":{"name":"a","pid":"x"},
      "syscall":{"name":"p","nr":1},"action":"log","mode":"audit"})"),
            "ev.jsonl:4: field workload.pid: expected integer (64-bit signed), got string");
  EXPECT_EQ(msg(R"({"type":"sandbox.violation","time":"2026-11-23T23:40:00Z","workload":{"name":"a","pid":1},
      "syscall":{"nr":1},"action":"log","mode":"audit"})"),
            "ev.jsonl:4: sandbox.violation event lacks required field syscall.name");
  EXPECT_EQ(msg(R"({"type":"sandbox.violaton","time":"2026-11-23T23:40:00Z"})"),
            "ev.jsonl:4: unknown event type \"sandbox.violaton\"");
  EXPECT_EQ(msg(R"({"type":"tpm.fault","time":"yesterday","tpm":{"operation":"q"}})"),
            "ev.jsonl:4: \"time\" must be an RFC 3339 UTC time like \"2026-11-23T23:40:00.123Z\"");
  EXPECT_EQ(msg(R"({"time":"2026-11-23T23:40:00Z"})"), "ev.jsonl:4: event has no \"type\"");
  EXPECT_EQ(msg("[1,2]"), "ev.jsonl:4: an event must be a JSON object, got array");
  EXPECT_EQ(msg(R"({"type":"tpm.fault","time":"2026-11-23T23:40:00Z","tpm":{"operation":"q","rc":1.5}})"),
            "ev.jsonl:4: field tpm.rc: expected integer (64-bit signed), got number with a fraction");
  std::string bad = msg(R"({"type": "tpm.fault", oops})");
  EXPECT_TRUE(bad.starts_with("ev.jsonl:4:23: invalid JSON: ")) << bad;
}

TEST(EventParserTest, LinesAreNumberedAndAllBadLinesReported) {
  std::vector<Event> events;
  Status s = ParseEventLines(
      "{\"type\":\"tpm.fault\",\"time\":\"2026-11-23T23:40:00Z\",\"tpm\":{\"operation\":\"q\"}}\n"
      "\n"
      "not json\n"
      "{\"type\":\"tpm.fault\",\"time\":\"2026-11-23T23:40:00Z\"}\r\n"
      "{\"type\":\"tpm.fault\",\"time\":\"2026-11-23T23:40:01Z\",\"tpm\":{\"operation\":\"q\"}}",
      "rec.jsonl", &events);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "rec.jsonl:3:2: invalid JSON: syntax error while parsing value - invalid literal; last read: 'no'\n"
            "rec.jsonl:4: tpm.fault event lacks required field tpm.operation");
  EXPECT_EQ(events.size(), 2u);
}

TEST(EventParserTest, OverlongLinesAreRejected) {
  Event e;
  std::string big = R"({"type":"tpm.fault","time":"2026-11-23T23:40:00Z","tpm":{"operation":")" +
                    std::string(kMaxEventLineBytes, 'a') + "\"}}";
  Status s = ParseEventJson(big, "e", 9, &e);
  EXPECT_NE(s.message().find("e:9: event line of"), std::string::npos) << s.message();
}

TEST(EventParserTest, Rfc3339) {
  int64_t ms = 0;
  ASSERT_TRUE(ParseRfc3339Ms("1970-01-01T00:00:00Z", &ms));
  EXPECT_EQ(ms, 0);
  ASSERT_TRUE(ParseRfc3339Ms("1970-01-01T00:00:01.5Z", &ms));
  EXPECT_EQ(ms, 1500);
  ASSERT_TRUE(ParseRfc3339Ms("2000-02-29T12:00:00.123456789Z", &ms));
  EXPECT_EQ(FormatRfc3339Ms(ms), "2000-02-29T12:00:00.123Z");
  EXPECT_FALSE(ParseRfc3339Ms("2001-02-29T12:00:00Z", &ms));
  EXPECT_FALSE(ParseRfc3339Ms("2026-11-23T23:40:00+01:00", &ms));
  EXPECT_FALSE(ParseRfc3339Ms("2026-11-23T23:40:00.Z", &ms));
  EXPECT_FALSE(ParseRfc3339Ms("2026-13-01T00:00:00Z", &ms));
  EXPECT_EQ(FormatRfc3339Ms(-1), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace edgeward::rules
