#include <gtest/gtest.h>

#include "edgeward/seccomp/supervisor.h"

namespace edgeward::seccomp {
namespace {

TEST(EventTest, ViolationJsonIsExactlyTheContractLine) {
  ViolationEvent e;
  e.workload = "sensor-reader";
  e.pid = 1234;
  e.syscall = "ptrace";
  e.nr = 101;
  e.arch = "x86_64";
  e.args[0] = 16;
  e.action = "errno(EPERM)";
  e.mode = policy::Mode::kEnforce;
  e.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795477200123));
  EXPECT_EQ(ViolationEventJson(e),
            R"j({"type":"sandbox.violation","time":"2026-11-23T23:40:00.123Z",)j"
            R"j("workload":{"name":"sensor-reader","pid":1234},)j"
            R"j("syscall":{"name":"ptrace","nr":101,"arch":"x86_64","args":[16,0,0,0,0,0]},)j"
            R"j("action":"errno(EPERM)","mode":"enforce"})j");
  e.mode = policy::Mode::kAudit;
  e.args[5] = 0xffffffffffffffffull;
  EXPECT_NE(ViolationEventJson(e).find(R"j("args":[16,0,0,0,0,18446744073709551615]},"action":"errno(EPERM)","mode":"audit"})j"),
            std::string::npos);
}

}  // namespace
}  // namespace edgeward::seccomp
