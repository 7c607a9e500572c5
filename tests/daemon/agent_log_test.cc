#include "edgeward/daemon/agent_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "edgeward/base/fd.h"

namespace edgeward::daemon {
namespace {

class LogCapture {
 public:
  LogCapture() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    r_ = UniqueFd(fds[0]);
    w_ = UniqueFd(fds[1]);
  }
  int fd() const { return w_.get(); }
  std::string Drain() {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(r_.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }

 private:
  UniqueFd r_, w_;
};

TEST(AgentLogTest, JsonLinesEscapeQuotesNewlinesAndBadUtf8) {
  LogCapture cap;
  SetupAgentLogging(LogFormat::kJson, LogTarget::kStderr, "info", cap.fd());
  spdlog::info("workload \"{}\" said:\n{}", "a\\b", std::string("\x01\xff ok"));
  spdlog::debug("not at info level");
  const std::string out = cap.Drain();
  ASSERT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  auto j = nlohmann::json::parse(out);  // throws (fails the test) if not JSON
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "workload \"a\\b\" said:\n\x01\xef\xbf\xbd ok");
  EXPECT_EQ(j["time"].get<std::string>().size(), 24u);  // 2026-11-24T02:40:00.123Z
}

TEST(AgentLogTest, JournaldLinesCarryTheSyslogPriority) {
  LogCapture cap;
  SetupAgentLogging(LogFormat::kText, LogTarget::kJournald, "debug", cap.fd());
  spdlog::warn("tpm: retrying");
  spdlog::error("two\nlines");
  spdlog::debug("d");
  EXPECT_EQ(cap.Drain(), "<4>tpm: retrying\n<3>two lines\n<7>d\n");
  SetAgentLogLevel("error");
  spdlog::warn("hidden");
  EXPECT_EQ(cap.Drain(), "");
}

TEST(AgentLogTest, TextLinesHaveTimeAndLevel) {
  LogCapture cap;
  SetupAgentLogging(LogFormat::kText, LogTarget::kStderr, "info", cap.fd());
  spdlog::info("hello");
  const std::string out = cap.Drain();
  EXPECT_EQ(out.size(), 24u + std::string(" info hello\n").size()) << out;
  EXPECT_EQ(out.substr(24), " info hello\n");
}

}  // namespace
}  // namespace edgeward::daemon
