// `edgeward agent` end to end, local-only: the real binary with a local
// bundle directory, real `edgeward run` runners and sandboxes, the real
// CLI client over the control socket, a real HTTP scrape, real signals.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "edgeward/base/fd.h"
#include "edgeward/base/file.h"
#include "swtpm.h"

namespace edgeward::daemon {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kEdgeward = EDGEWARD_BINARY_DIR "/agent/edgeward";

std::string PolicyYaml(const std::string& name) {
  return "apiVersion: edgeward/v1\nkind: WorkloadPolicy\nmetadata: {name: " + name +
         "}\nspec:\n  mode: enforce\n  namespaces: [pid, mount, ipc, uts, net]\n  network: none\n"
         "  filesystem:\n    readOnly: [/usr, /lib, /lib64, /bin, /etc]\n    tmpfs: [/tmp]\n"
         "  capabilities: []\n  limits: {memory: 128Mi, pids: 64, nofile: 256}\n  seccomp:\n    profile: baseline\n";
}

std::string WorkloadYaml(const std::string& name) {
  return "apiVersion: edgeward/v1\nkind: Workload\nmetadata: {name: " + name +
         "}\nspec:\n  command: [/bin/sh, -c, 'while true; do sleep 1; done']\n  policy: " + name +
         "\n  restart: {policy: always}\n";
}

void Write(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

std::string HttpGet(const std::string& host, uint16_t port, const std::string& path) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return "";
  const std::string req = "GET " + path + " HTTP/1.0\r\n\r\n";
  if (::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return "";
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd.get(), buf, sizeof buf, 0)) > 0) resp.append(buf, static_cast<size_t>(n));
  return resp;
}

class AgentE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "sandboxed workloads need root";
    ASSERT_TRUE(MakeDirs(dir_.File("bundle/workloads"), 0700).ok());
    ASSERT_TRUE(MakeDirs(dir_.File("bundle/policies"), 0700).ok());
    Write(dir_.File("bundle/policies/e2e-ticker.yaml"), PolicyYaml("e2e-ticker"));
    Write(dir_.File("bundle/workloads/e2e-ticker.yaml"), WorkloadYaml("e2e-ticker"));
    socket_ = dir_.File("run/control.sock");
    Write(dir_.File("agent.yaml"), "node: {id: e2e-node}\n"
                                   "stateDir: " + dir_.File("state") + "\n"
                                   "tpm: {tcti: none}\n"
                                   "bundles: {localFile: " + dir_.File("bundle") + "}\n"
                                   "workloads: {stopTimeout: 3s}\n"
                                   "control: {socket: " + socket_ + ", group: \"\"}\n"
                                   "metrics: {listen: \"127.0.0.1:0\"}\n"
                                   "log: {level: info}\n");
  }

  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  pid_t StartAgent(const std::string& log_name = "agent.log") {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, dir_.File(log_name).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    const std::string config = dir_.File("agent.yaml");
    const char* argv[] = {kEdgeward.c_str(), "agent", "--config", config.c_str(), nullptr};
    pid_t pid = 0;
    EXPECT_EQ(::posix_spawn(&pid, kEdgeward.c_str(), &fa, nullptr, const_cast<char**>(argv), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
  }

  testing::CommandResult Cli(const std::string& args) {
    return testing::RunCommand(kEdgeward + " " + args + " --socket " + socket_ + " 2>&1");
  }

  // Polls `edgeward workloads --json` until `want` workloads are running.
  json WaitForRunning(size_t want) {
    json last;
    for (int i = 0; i < 200; ++i) {
      auto r = Cli("workloads --json");
      if (r.exit_code == 0) {
        last = json::parse(r.output, nullptr, false);
        size_t running = 0;
        if (!last.is_discarded()) {
          for (const auto& w : last["workloads"]) running += w["state"] == "running";
        }
        if (running == want) return last;
      }
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "workloads never reached " << want << " running; last: " << last.dump() << "\n"
                  << ReadFileToString(dir_.File("agent.log"), 1 << 20).value();
    return last;
  }

  // Waits up to `timeout` for the agent to exit; its exit code, or -1.
  int WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        if (pid == pid_) pid_ = 0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

  testing::TempDir dir_;
  std::string socket_;
  pid_t pid_ = 0;
};

TEST_F(AgentE2eTest, LocalOnlyAgentRunsShowsAndStopsItsWorkload) {
  pid_ = StartAgent();
  json workloads = WaitForRunning(1);
  ASSERT_EQ(workloads["workloads"].size(), 1u);
  const json& w = workloads["workloads"][0];
  EXPECT_EQ(w["name"], "e2e-ticker");
  EXPECT_EQ(w["policy"], "e2e-ticker");
  const pid_t runner = w["pid"].get<pid_t>();
  ASSERT_GT(runner, 0);
  EXPECT_EQ(::kill(runner, 0), 0);

  auto status = Cli("status --json");
  ASSERT_EQ(status.exit_code, 0) << status.output;
  json s = json::parse(status.output);
  EXPECT_EQ(s["node"]["id"], "e2e-node");
  EXPECT_EQ(s["mode"], "local-only");
  EXPECT_EQ(s["workloads"]["total"], 1);
  EXPECT_EQ(s["workloads"]["running"], 1);
  EXPECT_EQ(s["pid"], pid_);
  // `edgeward agent` exec'd the lean daemon binary installed beside it: the
  // same PID (what systemd tracks), a smaller process image.
  char exe[PATH_MAX] = {};
  ASSERT_GT(::readlink(("/proc/" + std::to_string(pid_) + "/exe").c_str(), exe, sizeof exe - 1), 0);
  EXPECT_EQ(std::string(exe), std::string(EDGEWARD_BINARY_DIR) + "/agent/edgeward-agent");
  EXPECT_TRUE(s["cloud"].is_null());
  EXPECT_EQ(s["bundle"]["source"], "local:" + dir_.File("bundle"));

  // The text forms too.
  auto text = Cli("workloads");
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.output.find("e2e-ticker"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("running"), std::string::npos) << text.output;
  auto policy = Cli("policy show --json");
  ASSERT_EQ(policy.exit_code, 0) << policy.output;
  EXPECT_EQ(json::parse(policy.output)["policies"][0]["workload"], "e2e-ticker");

  // The runner's workload.start reaches the event history (the runner
  // writes it after the supervisor reports "running": wait for it).
  testing::CommandResult events;
  for (int i = 0; i < 200; ++i) {
    events = Cli("events --json");
    if (events.output.find("\"type\":\"workload.start\"") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(events.exit_code, 0) << events.output;
  EXPECT_NE(events.output.find("\"type\":\"workload.start\""), std::string::npos) << events.output;

  // Metrics: a real scrape of the URL the agent reports.
  const std::string url = s["metrics"]["url"];  // http://127.0.0.1:PORT/metrics
  const uint16_t port = static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
  const std::string scrape = HttpGet("127.0.0.1", port, "/metrics");
  EXPECT_NE(scrape.find("\nedgeward_workloads{state=\"running\"} 1\n"), std::string::npos) << scrape;
  EXPECT_NE(scrape.find("\nedgeward_events_total{type=\"workload.start\"} 1\n"), std::string::npos) << scrape;

  // No verifier: attest now is refused with the reason.
  auto attest = Cli("attest now");
  EXPECT_EQ(attest.exit_code, 3) << attest.output;
  EXPECT_NE(attest.output.find("local-only"), std::string::npos) << attest.output;

  // SIGTERM: the workload stops, the agent exits 0 within the stop timeout
  // (3 s) plus slack.
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid_, 8s), 0) << ReadFileToString(dir_.File("agent.log"), 1 << 20).value();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 8s);
  EXPECT_NE(::kill(runner, 0), 0);  // the runner is gone (reaped by the agent)
  EXPECT_EQ(errno, ESRCH);
  struct stat st {};
  EXPECT_NE(::stat(socket_.c_str(), &st), 0);  // socket removed
  const std::string log = ReadFileToString(dir_.File("agent.log"), 1 << 20).value();
  EXPECT_NE(log.find("agent stopped"), std::string::npos) << log;
}

TEST_F(AgentE2eTest, SighupReloadsTheLocalBundle) {
  pid_ = StartAgent();
  WaitForRunning(1);
  Write(dir_.File("bundle/policies/e2e-second.yaml"), PolicyYaml("e2e-second"));
  Write(dir_.File("bundle/workloads/e2e-second.yaml"), WorkloadYaml("e2e-second"));
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  json w = WaitForRunning(2);
  ASSERT_EQ(w["workloads"].size(), 2u);
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid_, 8s), 0);
}

TEST_F(AgentE2eTest, BundleRulesActOnTheSupervisorAndRunConfiguredCommands) {
  Write(dir_.File("bundle/policies/e2e-doomed.yaml"), PolicyYaml("e2e-doomed"));
  Write(dir_.File("bundle/workloads/e2e-doomed.yaml"), WorkloadYaml("e2e-doomed"));
  ASSERT_TRUE(MakeDirs(dir_.File("bundle/rules"), 0700).ok());
  Write(dir_.File("bundle/rules/doom.yaml"),
        "- rule: doomed workloads die at start\n"
        "  condition: event.type = \"workload.start\" and workload.name = \"e2e-doomed\"\n"
        "  actions: [kill_workload, run_command(name: mark)]\n"
        "  priority: high\n"
        "  output: \"killing %workload.name\"\n");
  std::ofstream(dir_.File("agent.yaml"), std::ios::app)
      << "actions:\n  commands:\n    mark: [/bin/sh, -c, 'echo \"$EDGEWARD_RULE/$EDGEWARD_WORKLOAD\" > "
      << dir_.File("marked") << "']\n";
  pid_ = StartAgent();
  WaitForRunning(1);  // e2e-ticker; e2e-doomed gets killed
  json w;
  for (int i = 0; i < 200; ++i) {
    w = json::parse(Cli("workloads --json").output, nullptr, false);
    bool stopped = false;
    for (const auto& x : w["workloads"]) stopped |= x["name"] == "e2e-doomed" && x["state"] == "stopped";
    if (stopped && ::access(dir_.File("marked").c_str(), F_OK) == 0) break;
    std::this_thread::sleep_for(50ms);
  }
  bool doomed_stopped = false, ticker_running = false;
  for (const auto& x : w["workloads"]) {
    doomed_stopped |= x["name"] == "e2e-doomed" && x["state"] == "stopped";
    ticker_running |= x["name"] == "e2e-ticker" && x["state"] == "running";
  }
  EXPECT_TRUE(doomed_stopped) << w.dump();
  EXPECT_TRUE(ticker_running) << w.dump();
  auto marked = ReadFileToString(dir_.File("marked"), 4096);
  ASSERT_TRUE(marked.ok()) << ReadFileToString(dir_.File("agent.log"), 1 << 20).value();
  EXPECT_EQ(*marked, "doomed workloads die at start/e2e-doomed\n");
  auto events = Cli("events --json");
  EXPECT_NE(events.output.find("\"type\":\"rule.fired\""), std::string::npos) << events.output;
  json s = json::parse(Cli("status --json").output);
  EXPECT_EQ(s["rules"]["loaded"], 1);
  EXPECT_GE(s["rules"]["firings"].get<int>(), 1);
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid_, 8s), 0);
}

TEST_F(AgentE2eTest, BadConfigExitsTwoWithTheLocation) {
  Write(dir_.File("agent.yaml"), "node: {id: e2e}\ncontrol: {sokcet: /x}\n");
  pid_ = StartAgent();
  EXPECT_EQ(WaitExit(pid_, 5s), 2);
  const std::string log = ReadFileToString(dir_.File("agent.log"), 1 << 20).value();
  EXPECT_NE(log.find(dir_.File("agent.yaml") + ":2:11: field control.sokcet: unknown field 'sokcet' (did you mean "
                                               "'socket'?)"),
            std::string::npos)
      << log;
}

TEST_F(AgentE2eTest, SecondAgentOnTheSameSocketRefusesToStart) {
  pid_ = StartAgent();
  WaitForRunning(1);
  pid_t second = StartAgent("second.log");
  EXPECT_EQ(WaitExit(second, 10s), 3);
  const std::string log = ReadFileToString(dir_.File("second.log"), 1 << 20).value();
  EXPECT_NE(log.find("another agent is listening on " + socket_), std::string::npos) << log;
  // The first one is unharmed.
  EXPECT_EQ(Cli("status --json").exit_code, 0);
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid_, 8s), 0);
}

}  // namespace
}  // namespace edgeward::daemon
