// WorkloadSupervisor against real runners: the built `edgeward run`, real
// sandboxes (namespaces, cgroups, seccomp), /bin/sh and /bin/sleep. Needs
// root (label "root").
#include "edgeward/daemon/supervisor.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "edgeward/base/bytes.h"
#include "edgeward/base/file.h"
#include "edgeward/daemon/event_loop.h"
#include "edgeward/daemon/workload_spec.h"
#include "swtpm.h"

namespace edgeward::daemon {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const std::string kEdgeward = EDGEWARD_BINARY_DIR "/agent/edgeward";

std::string PolicyYaml(const std::string& name, const std::string& shared_dir, const std::string& comment = "") {
  return "apiVersion: edgeward/v1\nkind: WorkloadPolicy\nmetadata: {name: " + name +
         "}\nspec:\n  mode: enforce\n  namespaces: [pid, mount, ipc, uts, net]\n  network: none\n"
         "  filesystem:\n    readOnly: [/usr, /lib, /lib64, /bin, /etc]\n    readWrite: [" +
         shared_dir + "]\n    tmpfs: [/tmp]\n  capabilities: []\n  limits: {memory: 128Mi, pids: 64, nofile: 256}\n"
         "  seccomp:\n    profile: baseline\n" + comment;
}

std::string WorkloadYaml(const std::string& name, const std::string& command_flow, const std::string& restart) {
  return "apiVersion: edgeward/v1\nkind: Workload\nmetadata: {name: " + name + "}\nspec:\n  command: " + command_flow +
         "\n  policy: " + name + "\n  restart: " + restart + "\n";
}

std::vector<pid_t> RunnersNamed(const std::string& state_dir, const std::string& name);

// A test fixture: a state dir, a shared read-write dir for the workloads,
// a loop, and every forwarded event.
class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "needs root";
    shared_ = dir_.File("shared");
    ASSERT_EQ(::mkdir(shared_.c_str(), 0777), 0);
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status().ToString();
    loop_ = std::move(*loop);
  }

  // Runners a failed test left behind must not outlive it.
  void TearDown() override {
    for (pid_t pid : RunnersNamed(dir_.File("state"), "")) ::kill(pid, SIGKILL);
  }

  SupervisorOptions Options() {
    SupervisorOptions o;
    o.edgeward_binary = kEdgeward;
    o.state_dir = dir_.File("state");
    o.node_id = "test-node";
    o.stop_timeout = 3s;
    o.on_event = [this](const std::string& line) { events_.push_back(line); };
    return o;
  }

  // Specs as a bundle would carry them: name → (command flow list, restart).
  std::vector<WorkloadSpec> Specs(const std::vector<std::tuple<std::string, std::string, std::string, std::string>>& w) {
    std::map<std::string, std::string> files;
    for (const auto& [name, command, restart, policy_comment] : w) {
      files["policies/" + name + ".yaml"] = PolicyYaml(name, shared_, policy_comment);
      files["workloads/" + name + ".yaml"] = WorkloadYaml(name, command, restart);
    }
    auto specs = LoadWorkloads(files);
    EXPECT_TRUE(specs.ok()) << specs.status().ToString();
    return specs.ok() ? *specs : std::vector<WorkloadSpec>{};
  }

  // Runs the loop until `pred` holds (checked every 20 ms) or `timeout`.
  bool RunUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 15s) {
    bool ok = false;
    const auto deadline = loop_->Now() + timeout;
    std::function<void()> tick = [&] {
      if (pred()) {
        ok = true;
        loop_->Stop();
        return;
      }
      if (loop_->Now() > deadline) {
        loop_->Stop();
        return;
      }
      loop_->After(20ms, tick);
    };
    loop_->After(0ms, tick);
    EXPECT_TRUE(loop_->Run().ok());
    return ok;
  }

  static std::optional<WorkloadStatus> Get(const WorkloadSupervisor& s, const std::string& name) {
    for (const WorkloadStatus& w : s.List()) {
      if (w.name == name) return w;
    }
    return std::nullopt;
  }

  size_t Count(const std::string& type, const std::string& name = "") const {
    size_t n = 0;
    for (const std::string& e : events_) {
      if (e.find("\"type\":\"" + type + "\"") != std::string::npos &&
          (name.empty() || e.find("\"name\":\"" + name + "\"") != std::string::npos)) {
        ++n;
      }
    }
    return n;
  }

  edgeward::testing::TempDir dir_;
  std::string shared_;
  std::unique_ptr<EventLoop> loop_;
  std::vector<std::string> events_;
};

// Alive and not a zombie (a reattached runner's parent is whatever reaps
// orphans here, which may take its time).
bool Alive(pid_t pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  auto stat = ReadFileToString("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!stat.ok()) return false;
  const size_t close = stat->rfind(')');
  return close == std::string::npos || close + 2 >= stat->size() || (*stat)[close + 2] != 'Z';
}

pid_t ParentOf(pid_t pid) {
  auto status = ReadFileToString("/proc/" + std::to_string(pid) + "/status", 1 << 16);
  if (!status.ok()) return 0;
  const size_t at = status->find("PPid:");
  return at == std::string::npos ? 0 : static_cast<pid_t>(std::atoi(status->c_str() + at + 5));
}

// Runners (`edgeward run ... --name NAME`) alive now, from /proc. The
// sandbox's init is a fork of its runner with the same command line: only
// processes whose parent doesn't match count.
std::vector<pid_t> RunnersNamed(const std::string& state_dir, const std::string& name) {
  std::vector<pid_t> all;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir("/proc"), &::closedir);
  while (dirent* e = ::readdir(d.get())) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    auto cmd = ReadFileToString("/proc/" + std::to_string(pid) + "/cmdline", 1 << 16);
    if (!cmd.ok()) continue;
    std::string args = *cmd;
    std::replace(args.begin(), args.end(), '\0', ' ');
    if (args.find("edgeward run ") != std::string::npos && args.find(" --policy " + state_dir + "/workloads/" + name) != std::string::npos) {
      all.push_back(pid);
    }
  }
  std::vector<pid_t> out;
  for (pid_t pid : all) {
    if (std::find(all.begin(), all.end(), ParentOf(pid)) == all.end()) out.push_back(pid);
  }
  std::sort(out.begin(), out.end());
  return out;
}

long RssKb(pid_t pid) {
  auto status = ReadFileToString("/proc/" + std::to_string(pid) + "/status", 1 << 16);
  if (!status.ok()) return -1;
  const size_t at = status->find("VmRSS:");
  return at == std::string::npos ? -1 : std::atol(status->c_str() + at + 6);
}

TEST_F(SupervisorTest, StartsWorkloadAndForwardsItsEvents) {
  // A descriptor of ours without close-on-exec: the runner must not get it.
  const std::string marker = dir_.File("leak-marker");
  std::ofstream(marker) << "x";
  const int leaky = ::open(marker.c_str(), O_RDONLY);
  ASSERT_GE(leaky, 0);
  WorkloadSupervisor sup(*loop_, Options());
  ASSERT_TRUE(sup.Apply(Specs({{"sv-start", "[/bin/sh, -c, 'sleep 30']", "{policy: always}", ""}})).ok());
  ASSERT_TRUE(RunUntil([&] { return Count("workload.start", "sv-start") == 1; }));
  auto st = Get(sup, "sv-start");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state, WorkloadState::kRunning);
  EXPECT_TRUE(Alive(st->pid));
  EXPECT_THAT(events_[0], HasSubstr("\"node\":{\"id\":\"test-node\"}"));
  // The runner keeps to itself: its own session, no fd of ours.
  EXPECT_EQ(::getsid(st->pid), st->pid);
  const std::string fd_dir = "/proc/" + std::to_string(st->pid) + "/fd";
  std::unique_ptr<DIR, int (*)(DIR*)> fds(::opendir(fd_dir.c_str()), &::closedir);
  ASSERT_TRUE(fds);
  std::map<int, std::string> targets;
  while (dirent* e = ::readdir(fds.get())) {
    if (e->d_name[0] == '.') continue;
    char buf[4096];
    const ssize_t n = ::readlink((fd_dir + "/" + e->d_name).c_str(), buf, sizeof buf - 1);
    if (n > 0) targets[std::atoi(e->d_name)] = std::string(buf, static_cast<size_t>(n));
  }
  ::close(leaky);
  EXPECT_EQ(targets[0], "/dev/null");
  EXPECT_EQ(targets[1], dir_.File("state") + "/workloads/sv-start/runner.log");
  EXPECT_EQ(targets[2], targets[1]);
  for (const auto& [fd, target] : targets) {
    EXPECT_NE(target, marker) << "fd " << fd << " leaked into the runner";
    EXPECT_EQ(target.find("inotify"), std::string::npos) << "fd " << fd << ": " << target;
  }
  std::printf("runner RSS: %ld kB\n", RssKb(st->pid));
  // State files are private.
  struct stat sb {};
  ASSERT_EQ(::stat((dir_.File("state") + "/workloads/sv-start").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((dir_.File("state") + "/workloads/sv-start/policy.yaml").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);

  bool done = false;
  sup.StopAll(3s, [&] { done = true; });
  ASSERT_TRUE(RunUntil([&] { return done; }));
  EXPECT_FALSE(Alive(st->pid));
  EXPECT_EQ(Get(sup, "sv-start")->state, WorkloadState::kStopped);
  EXPECT_EQ(Count("workload.exit", "sv-start"), 1u);
}

TEST_F(SupervisorTest, FailingWorkloadBacksOffThenEntersCrashLoop) {
  WorkloadSupervisor sup(*loop_, Options());
  std::vector<EventLoop::Clock::time_point> starts;
  auto opts = Options();
  opts.on_event = [&](const std::string& line) {
    events_.push_back(line);
    if (line.find("\"type\":\"workload.start\"") != std::string::npos) starts.push_back(EventLoop::Clock::now());
  };
  WorkloadSupervisor crashing(*loop_, opts);
  ASSERT_TRUE(crashing
                  .Apply(Specs({{"sv-crash", "[/bin/sh, -c, 'exit 1']",
                                 "{policy: on-failure, backoff: {initial: 200ms, max: 5s}, crashLoop: {count: 4, within: 60s}}",
                                 ""}}))
                  .ok());
  ASSERT_TRUE(RunUntil([&] { return Get(crashing, "sv-crash")->state == WorkloadState::kCrashLoop; }, 30s));
  auto st = Get(crashing, "sv-crash");
  EXPECT_EQ(st->restarts, 3u);
  EXPECT_EQ(st->last_exit_code, 1);
  ASSERT_EQ(starts.size(), 4u);
  // Delays 200, 400, 800 ms (plus start-up time): each gap grows.
  const auto g1 = starts[1] - starts[0], g2 = starts[2] - starts[1], g3 = starts[3] - starts[2];
  EXPECT_GE(g1, 200ms);
  EXPECT_GE(g2, 400ms);
  EXPECT_GE(g3, 800ms);
  EXPECT_GT(g2, g1);
  EXPECT_GT(g3, g2);
  ASSERT_EQ(Count("workload.crash_loop", "sv-crash"), 1u);
  for (const std::string& e : events_) {
    if (e.find("workload.crash_loop") != std::string::npos) {
      EXPECT_THAT(e, HasSubstr("\"crash_loop\":{\"restarts\":4,\"within_s\":60}"));
      EXPECT_THAT(e, HasSubstr("\"exit\":{\"code\":1}"));
    }
  }
  // No further restarts while in crash_loop...
  RunUntil([] { return false; }, 1500ms);
  EXPECT_EQ(starts.size(), 4u);
  // ...until Restart().
  ASSERT_TRUE(crashing.Restart("sv-crash").ok());
  ASSERT_TRUE(RunUntil([&] { return starts.size() == 5; }));
  EXPECT_EQ(crashing.Restart("nope").code(), StatusCode::kNotFound);
  bool done = false;
  crashing.StopAll(2s, [&] { done = true; });
  ASSERT_TRUE(RunUntil([&] { return done; }));
}

TEST_F(SupervisorTest, ExitZeroWithOnFailureStaysExited) {
  WorkloadSupervisor sup(*loop_, Options());
  ASSERT_TRUE(sup.Apply(Specs({{"sv-ok", "[/bin/true]", "{policy: on-failure}", ""}})).ok());
  ASSERT_TRUE(RunUntil([&] { return Get(sup, "sv-ok")->state == WorkloadState::kExited; }));
  EXPECT_EQ(Get(sup, "sv-ok")->last_exit_code, 0);
  EXPECT_EQ(Get(sup, "sv-ok")->restarts, 0u);
}

TEST_F(SupervisorTest, ApplyRestartsOnlyChangedWorkloadsAndStopsRemoved) {
  WorkloadSupervisor sup(*loop_, Options());
  const std::string cmd = "[/bin/sh, -c, 'sleep 60']";
  ASSERT_TRUE(sup.Apply(Specs({{"sv-a", cmd, "{policy: always}", ""}, {"sv-b", cmd, "{policy: always}", ""}})).ok());
  ASSERT_TRUE(RunUntil([&] { return Count("workload.start") == 2; }));
  const pid_t a = Get(sup, "sv-a")->pid, b = Get(sup, "sv-b")->pid;
  ASSERT_TRUE(Alive(a) && Alive(b));
  const std::string b_policy = Get(sup, "sv-b")->policy_digest;

  // Same bundle again: nothing restarts.
  ASSERT_TRUE(sup.Apply(Specs({{"sv-a", cmd, "{policy: always}", ""}, {"sv-b", cmd, "{policy: always}", ""}})).ok());
  RunUntil([] { return false; }, 300ms);
  EXPECT_EQ(Get(sup, "sv-a")->pid, a);
  EXPECT_EQ(Get(sup, "sv-b")->pid, b);

  // sv-b's policy changes: only sv-b restarts.
  ASSERT_TRUE(
      sup.Apply(Specs({{"sv-a", cmd, "{policy: always}", ""}, {"sv-b", cmd, "{policy: always}", "# v2\n"}})).ok());
  ASSERT_TRUE(RunUntil([&] { return Count("workload.start", "sv-b") == 2; }));
  ASSERT_TRUE(RunUntil([&] { return Get(sup, "sv-b")->state == WorkloadState::kRunning; }));
  EXPECT_EQ(Get(sup, "sv-a")->pid, a);
  EXPECT_TRUE(Alive(a));
  EXPECT_NE(Get(sup, "sv-b")->pid, b);
  EXPECT_NE(Get(sup, "sv-b")->policy_digest, b_policy);
  EXPECT_FALSE(Alive(b));
  EXPECT_EQ(Count("workload.start", "sv-a"), 1u);

  // sv-b removed: stopped and gone from the list; sv-a untouched.
  const pid_t b2 = Get(sup, "sv-b")->pid;
  ASSERT_TRUE(sup.Apply(Specs({{"sv-a", cmd, "{policy: always}", ""}})).ok());
  ASSERT_TRUE(RunUntil([&] { return !Get(sup, "sv-b"); }));
  EXPECT_FALSE(Alive(b2));
  EXPECT_EQ(Get(sup, "sv-a")->pid, a);
  EXPECT_EQ(sup.List().size(), 1u);

  // Bad input changes nothing.
  auto twice = Specs({{"sv-a", cmd, "{policy: always}", ""}});
  twice.push_back(twice[0]);
  EXPECT_EQ(sup.Apply(twice).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Get(sup, "sv-a")->pid, a);

  bool done = false;
  sup.StopAll(3s, [&] { done = true; });
  ASSERT_TRUE(RunUntil([&] { return done; }));
}

TEST_F(SupervisorTest, StopAllUsesTheGraceThenKills) {
  WorkloadSupervisor sup(*loop_, Options());
  ASSERT_TRUE(sup.Apply(Specs({{"sv-polite", "[/bin/sh, -c, 'sleep 60']", "{policy: always}", ""},
                               {"sv-stubborn", "[/bin/sh, -c, 'trap \"\" TERM; echo ready > " + shared_ +
                                                   "/stubborn; while :; do sleep 0.1; done']",
                                "{policy: always}", ""}}))
                  .ok());
  ASSERT_TRUE(RunUntil([&] { return Count("workload.start") == 2 && ::access((shared_ + "/stubborn").c_str(), F_OK) == 0; }));
  const pid_t polite = Get(sup, "sv-polite")->pid, stubborn = Get(sup, "sv-stubborn")->pid;
  bool done = false;
  const auto t0 = EventLoop::Clock::now();
  std::optional<EventLoop::Clock::duration> polite_gone;
  sup.StopAll(1500ms, [&] { done = true; });
  ASSERT_TRUE(RunUntil([&] {
    if (!polite_gone && Get(sup, "sv-polite")->state == WorkloadState::kStopped) polite_gone = EventLoop::Clock::now() - t0;
    return done;
  }));
  const auto took = EventLoop::Clock::now() - t0;
  ASSERT_TRUE(polite_gone);
  EXPECT_LT(*polite_gone, 1500ms);  // SIGTERM was enough
  EXPECT_GE(took, 1500ms);          // the stubborn one needed the SIGKILL
  EXPECT_LT(took, 6s);
  EXPECT_FALSE(Alive(polite));
  EXPECT_FALSE(Alive(stubborn));
  EXPECT_EQ(Get(sup, "sv-stubborn")->last_exit_code, 128 + SIGKILL);
  EXPECT_EQ(Get(sup, "sv-polite")->state, WorkloadState::kStopped);
  EXPECT_EQ(Get(sup, "sv-stubborn")->state, WorkloadState::kStopped);
  // No restart after StopAll.
  RunUntil([] { return false; }, 500ms);
  EXPECT_EQ(Count("workload.start"), 2u);
}

TEST_F(SupervisorTest, KillAndQuarantineStopWithoutRestart) {
  WorkloadSupervisor sup(*loop_, Options());
  const std::string cmd = "[/bin/sh, -c, 'sleep 60']";
  ASSERT_TRUE(sup.Apply(Specs({{"sv-k1", cmd, "{policy: always}", ""},
                               {"sv-k2", cmd, "{policy: always}", ""},
                               {"sv-k3", cmd, "{policy: always}", ""}}))
                  .ok());
  ASSERT_TRUE(RunUntil([&] { return Count("workload.start") == 3; }));
  const pid_t k3 = Get(sup, "sv-k3")->pid;
  const auto t0 = EventLoop::Clock::now();
  ASSERT_TRUE(sup.Kill("sv-k1").ok());
  ASSERT_TRUE(RunUntil([&] { return Get(sup, "sv-k1")->state == WorkloadState::kStopped; }));
  EXPECT_LT(EventLoop::Clock::now() - t0, 2s);
  EXPECT_EQ(Get(sup, "sv-k1")->last_exit_code, 128 + SIGKILL);
  EXPECT_EQ(sup.Kill("nope").code(), StatusCode::kNotFound);
  sup.Quarantine({"sv-k3"});
  ASSERT_TRUE(RunUntil([&] { return Get(sup, "sv-k2")->state == WorkloadState::kStopped; }));
  RunUntil([] { return false; }, 500ms);
  EXPECT_EQ(Get(sup, "sv-k3")->pid, k3);
  EXPECT_TRUE(Alive(k3));
  EXPECT_EQ(Count("workload.start"), 3u);
  bool done = false;
  sup.StopAll(2s, [&] { done = true; });
  ASSERT_TRUE(RunUntil([&] { return done; }));
}

TEST_F(SupervisorTest, MeasuresBinaryAndFilesBeforeEveryStart) {
  const std::string conf = shared_ + "/sensor.conf";
  std::ofstream(conf) << "x=1\n";
  std::mutex mu;
  std::vector<std::vector<std::string>> calls;
  std::vector<size_t> starts_at_call;
  std::vector<std::thread> threads;
  auto opts = Options();
  opts.measure = [&](const WorkloadSpec& spec, std::vector<std::string> files, std::function<void(Status)> done) {
    {
      std::lock_guard<std::mutex> lock(mu);
      EXPECT_EQ(spec.name, "sv-measure");
      calls.push_back(files);
      starts_at_call.push_back(Count("workload.start"));
    }
    // As the cloud worker does: done from another thread, a little later.
    threads.emplace_back([done] {
      std::this_thread::sleep_for(50ms);
      done(Status::Ok());
    });
  };
  WorkloadSupervisor sup(*loop_, opts);
  std::map<std::string, std::string> files;
  files["policies/p.yaml"] = PolicyYaml("sv-measure", shared_);
  files["workloads/w.yaml"] =
      "apiVersion: edgeward/v1\nkind: Workload\nmetadata: {name: sv-measure}\nspec:\n  command: [sh, -c, 'exit 3']\n"
      "  policy: sv-measure\n  measure: [" + conf + "]\n"
      "  restart: {policy: always, backoff: {initial: 100ms}, crashLoop: {count: 3, within: 60s}}\n";
  auto specs = LoadWorkloads(files);
  ASSERT_TRUE(specs.ok()) << specs.status().ToString();
  ASSERT_TRUE(sup.Apply(*specs).ok());
  ASSERT_TRUE(RunUntil([&] { return Get(sup, "sv-measure")->state == WorkloadState::kCrashLoop; }, 20s));
  for (auto& t : threads) t.join();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(Count("workload.start"), 3u);
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i], (std::vector<std::string>{"/usr/bin/sh", conf}));
    EXPECT_EQ(starts_at_call[i], i);  // measured before start i, not after
  }
}

TEST_F(SupervisorTest, EnvReachesTheWorkload) {
  WorkloadSupervisor sup(*loop_, Options());
  std::map<std::string, std::string> files;
  files["policies/p.yaml"] = PolicyYaml("sv-env", shared_);
  files["workloads/w.yaml"] =
      "apiVersion: edgeward/v1\nkind: Workload\nmetadata: {name: sv-env}\nspec:\n  command: [/bin/sh, -c, 'echo "
      "\"$GREETING $HOME\" > " + shared_ + "/env']\n  env: [GREETING=hello]\n  policy: sv-env\n"
      "  restart: {policy: never}\n";
  auto specs = LoadWorkloads(files);
  ASSERT_TRUE(specs.ok()) << specs.status().ToString();
  ASSERT_TRUE(sup.Apply(*specs).ok());
  ASSERT_TRUE(RunUntil([&] { return Get(sup, "sv-env")->state == WorkloadState::kExited; }));
  auto text = ReadFileToString(shared_ + "/env", 4096);
  auto log = ReadFileToString(dir_.File("state") + "/workloads/sv-env/runner.log", 1 << 16);
  ASSERT_TRUE(text.ok()) << text.status().ToString() << "\n" << (log.ok() ? *log : "");
  EXPECT_EQ(*text, "hello /\n");
}

TEST_F(SupervisorTest, MeasurementFailureStillStarts) {
  auto opts = Options();
  opts.measure = [](const WorkloadSpec&, std::vector<std::string>, std::function<void(Status)> done) {
    done(Unavailable("TPM unreachable (test)"));
  };
  WorkloadSupervisor sup(*loop_, opts);
  ASSERT_TRUE(sup.Apply(Specs({{"sv-nomeasure", "[/bin/sh, -c, 'sleep 30']", "{policy: always}", ""}})).ok());
  ASSERT_TRUE(RunUntil([&] { return Count("workload.start") == 1; }));
  EXPECT_THAT(Get(sup, "sv-nomeasure")->last_error, HasSubstr("TPM unreachable"));
  bool done = false;
  sup.StopAll(2s, [&] { done = true; });
  ASSERT_TRUE(RunUntil([&] { return done; }));
}

// Footprint figures for the report (printed, not asserted: tests never fail
// on size): each runner's RSS and what five supervised workloads add to
// the supervising process; the loop sleeps while they run.
TEST_F(SupervisorTest, FiveWorkloadsFootprint) {
  const long rss_before = RssKb(::getpid());
  WorkloadSupervisor sup(*loop_, Options());
  std::vector<std::tuple<std::string, std::string, std::string, std::string>> five;
  for (int i = 0; i < 5; ++i) five.emplace_back("sv-five-" + std::to_string(i), "[/bin/sleep, '60']", "{policy: always}", "");
  ASSERT_TRUE(sup.Apply(Specs(five)).ok());
  ASSERT_TRUE(RunUntil([&] { return Count("workload.start") == 5; }));
  long runners = 0;
  for (const WorkloadStatus& w : sup.List()) {
    ASSERT_EQ(w.state, WorkloadState::kRunning);
    runners += RssKb(w.pid);
  }
  const long rss_after = RssKb(::getpid());
  std::printf("5 runners: %ld kB RSS total (%ld kB each); supervising process RSS %ld -> %ld kB\n", runners,
              runners / 5, rss_before, rss_after);
  // Idle: no wake-ups of the loop without a timer or an event.
  const uint64_t wakeups = loop_->wakeups();
  bool fired = false;
  loop_->After(1s, [&] {
    fired = true;
    loop_->Stop();
  });
  ASSERT_TRUE(loop_->Run().ok());
  ASSERT_TRUE(fired);
  std::printf("loop wake-ups in 1 s idle with 5 workloads: %llu (1 is the test's own timer)\n",
              static_cast<unsigned long long>(loop_->wakeups() - wakeups));
  EXPECT_LE(loop_->wakeups() - wakeups, 2u);
  bool done = false;
  sup.StopAll(3s, [&] { done = true; });
  ASSERT_TRUE(RunUntil([&] { return done; }));
}

// ---- reattach --------------------------------------------------------------

// The agent in a child process: supervise, forward events to `forwarded`
// (one line each, fsync'd), run until killed.
pid_t ForkAgent(const SupervisorOptions& base, const std::vector<WorkloadSpec>& specs, const std::string& forwarded) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  auto loop = EventLoop::Create();
  if (!loop.ok()) ::_exit(10);
  SupervisorOptions o = base;
  o.on_event = [forwarded](const std::string& line) {
    FILE* f = std::fopen(forwarded.c_str(), "a");
    if (f == nullptr) ::_exit(11);
    std::fprintf(f, "%s\n", line.c_str());
    std::fclose(f);
  };
  {
    WorkloadSupervisor sup(**loop, o);
    if (!sup.Reattach().ok() || !sup.Apply(specs).ok()) ::_exit(12);
    (void)(*loop)->Run();
  }
  ::_exit(0);
}

// SIGKILLs and reaps the forked agent when a test ends early.
struct ChildGuard {
  pid_t pid;
  ~ChildGuard() {
    if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
  }
};

size_t CountIn(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST_F(SupervisorTest, ReattachAfterAgentSigkillKeepsTheRunnerAndItsEvents) {
  const std::string trigger = shared_ + "/go";
  // Waits for the trigger, then makes one ptrace call (a sandbox.violation
  // written while no agent runs), then keeps running.
  const std::string cmd =
      "[/bin/sh, -c, 'while [ ! -e " + trigger +
      " ]; do sleep 0.05; done; /usr/bin/python3 -c \"import ctypes; ctypes.CDLL(None).ptrace(16, 1, 0, 0)\"; "
      "echo done > " + shared_ + "/traced; sleep 60']";
  auto specs = Specs({{"sv-reattach", cmd, "{policy: always}", ""}});
  const std::string forwarded = dir_.File("forwarded.jsonl");
  pid_t agent = ForkAgent(Options(), specs, forwarded);
  ASSERT_GT(agent, 0);
  ChildGuard guard{agent};
  auto read_forwarded = [&] {
    auto t = ReadFileToString(forwarded, 1 << 20);
    return t.ok() ? *t : std::string();
  };
  ASSERT_TRUE(RunUntil([&] { return CountIn(read_forwarded(), "\"type\":\"workload.start\"") == 1; }));
  const std::vector<pid_t> before = RunnersNamed(dir_.File("state"), "sv-reattach");
  ASSERT_EQ(before.size(), 1u);

  // The agent dies hard; its runner must not.
  ASSERT_EQ(::kill(agent, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(agent, &status, 0), agent);
  guard.pid = 0;
  ASSERT_TRUE(Alive(before[0]));
  // While no agent runs, the workload causes a violation.
  std::ofstream(trigger) << "go\n";
  ASSERT_TRUE(RunUntil([&] { return ::access((shared_ + "/traced").c_str(), F_OK) == 0; }));
  ASSERT_TRUE(Alive(before[0]));

  // A new agent on the same state dir.
  WorkloadSupervisor sup(*loop_, Options());
  ASSERT_TRUE(sup.Reattach().ok());
  auto st = Get(sup, "sv-reattach");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state, WorkloadState::kRunning);
  EXPECT_EQ(st->pid, before[0]);
  ASSERT_TRUE(sup.Apply(specs).ok());
  RunUntil([] { return false; }, 500ms);
  EXPECT_EQ(Get(sup, "sv-reattach")->pid, before[0]);
  EXPECT_EQ(RunnersNamed(dir_.File("state"), "sv-reattach"), before);  // no second instance
  // Nothing lost, nothing repeated: the start went out once (before the
  // kill), the violation once (after).
  EXPECT_EQ(Count("workload.start"), 0u);
  EXPECT_EQ(Count("sandbox.violation", "sv-reattach"), 1u);
  EXPECT_EQ(CountIn(read_forwarded(), "sandbox.violation"), 0u);

  // The reattached runner is stopped like our own, and its exit is seen.
  bool done = false;
  sup.StopAll(3s, [&] { done = true; });
  ASSERT_TRUE(RunUntil([&] { return done; }));
  EXPECT_FALSE(Alive(before[0]));
  EXPECT_EQ(Count("workload.exit", "sv-reattach"), 1u);
}

// A noisy workload must not grow its events file without bound while it
// runs: past events_rotate_bytes the supervisor rotates the file under the
// runner's feet (flock protocol, base/event_file.h) and the runner follows.
// 400 real seccomp violations (~140 KB of lines) through a 16 KiB limit:
// several rotations, and every line arrives exactly once.
TEST_F(SupervisorTest, EventsFileRotatesWhileTheRunnerWritesAndNoLineIsLostOrRepeated) {
  SupervisorOptions o = Options();
  o.events_rotate_bytes = 16 << 10;
  WorkloadSupervisor sup(*loop_, o);
  const std::string cmd =
      "[/bin/sh, -c, '/usr/bin/python3 -c \"import ctypes; l = ctypes.CDLL(None); "
      "[l.ptrace(16, 1, 0, 0) for _ in range(400)]\"; sleep 60']";
  ASSERT_TRUE(sup.Apply(Specs({{"sv-rotate", cmd, "{policy: always}", ""}})).ok());
  ASSERT_TRUE(RunUntil([&] { return Count("sandbox.violation", "sv-rotate") >= 400; }, 60s))
      << Count("sandbox.violation", "sv-rotate") << " violation events arrived";
  // Let any straggler (a repeat) arrive before counting exactly.
  RunUntil([] { return false; }, 500ms);
  EXPECT_EQ(Count("sandbox.violation", "sv-rotate"), 400u);
  const std::string events = dir_.File("state") + "/workloads/sv-rotate/events.jsonl";
  struct stat cur {};
  struct stat old {};
  ASSERT_EQ(::stat((events + ".1").c_str(), &old), 0) << "never rotated";
  ASSERT_EQ(::stat(events.c_str(), &cur), 0);
  EXPECT_LT(cur.st_size + old.st_size, 100 << 10) << "rotation kept everything: " << cur.st_size << " + " << old.st_size;
  EXPECT_EQ(old.st_mode & 0777, 0600u);
  EXPECT_EQ(cur.st_mode & 0777, 0600u);
  bool done = false;
  sup.StopAll(3s, [&] { done = true; });
  ASSERT_TRUE(RunUntil([&] { return done; }));
}

// The window between spawning a runner and recording it in runner.json: an
// agent killed there must leave no unrecorded runner that starts its
// workload (a restarted agent would start a second instance). The runner
// waits on its start gate (fd 3) and starts nothing on EOF — which is what
// it sees when the agent dies, since the agent's end closes with it. Here
// the gate is a real file: /dev/null is EOF at once, a one-byte file is go.
TEST_F(SupervisorTest, RunnerStartsNothingUntilItsStartGateOpens) {
  const std::string policy = dir_.File("gate-policy.yaml");
  ASSERT_TRUE(WriteFileAtomic(policy, AsBytes(PolicyYaml("sv-gate", shared_)), 0600).ok());
  const std::string marker = shared_ + "/started";
  const std::string run = kEdgeward + " run --policy " + policy + " --name sv-gate --cgroup-root /sys/fs/cgroup" +
                          " --start-gate-fd 3 -- /bin/sh -c 'echo ran > " + marker + "'";
  auto closed = testing::RunCommand(run + " 3</dev/null");
  EXPECT_EQ(closed.exit_code, 3) << closed.output;
  EXPECT_THAT(closed.output, HasSubstr("closed before the start signal"));
  EXPECT_NE(::access(marker.c_str(), F_OK), 0) << "the workload ran without the start signal";

  const std::string go = dir_.File("go");
  ASSERT_TRUE(WriteFileAtomic(go, AsBytes(std::string("g")), 0600).ok());
  auto opened = testing::RunCommand(run + " 3<" + go);
  EXPECT_EQ(opened.exit_code, 0) << opened.output;
  auto text = ReadFileToString(marker, 64);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "ran\n");
}

// Review finding: the gate used to open even when runner.json could not be
// written. A real write failure (runner.json is a directory, so the atomic
// rename onto it fails): the runner must start nothing, and the start is a
// failure for the restart rule.
TEST_F(SupervisorTest, NoRecordNoStart) {
  const std::string marker = shared_ + "/started";
  ASSERT_TRUE(MakeDirs(dir_.File("state") + "/workloads/sv-norecord/runner.json", 0700).ok());
  WorkloadSupervisor sup(*loop_, Options());
  ASSERT_TRUE(sup.Apply(Specs({{"sv-norecord", "[/bin/sh, -c, 'touch " + marker + "; sleep 60']",
                                "{policy: always, backoff: {initial: 5s}}", ""}}))
                  .ok());
  ASSERT_TRUE(RunUntil([&] {
    auto st = Get(sup, "sv-norecord");
    return st && st->last_error.find("runner.json") != std::string::npos;
  })) << (Get(sup, "sv-norecord") ? Get(sup, "sv-norecord")->last_error : "no status");
  RunUntil([] { return false; }, 1000ms);  // a runner let through would have touched the marker by now
  EXPECT_NE(::access(marker.c_str(), F_OK), 0) << "an unrecorded runner started the workload";
  EXPECT_TRUE(RunnersNamed(dir_.File("state"), "sv-norecord").empty());
  bool done = false;
  sup.StopAll(3s, [&] { done = true; });
  ASSERT_TRUE(RunUntil([&] { return done; }));
}

TEST_F(SupervisorTest, StaleRecordCleansTheCgroupAndStartsAfresh) {
  auto specs = Specs({{"sv-stale", "[/bin/sh, -c, 'sleep 60']", "{policy: always, backoff: {initial: 100ms}}", ""}});
  const std::string forwarded = dir_.File("forwarded.jsonl");
  pid_t agent = ForkAgent(Options(), specs, forwarded);
  ASSERT_GT(agent, 0);
  ChildGuard guard{agent};
  ASSERT_TRUE(RunUntil([&] {
    auto t = ReadFileToString(forwarded, 1 << 20);
    return t.ok() && t->find("\"type\":\"workload.start\"") != std::string::npos;
  }));
  ASSERT_EQ(RunnersNamed(dir_.File("state"), "sv-stale").size(), 1u);
  const pid_t runner = RunnersNamed(dir_.File("state"), "sv-stale")[0];
  ASSERT_EQ(::kill(agent, SIGKILL), 0);
  ASSERT_EQ(::waitpid(agent, nullptr, 0), agent);
  guard.pid = 0;
  // The runner dies hard too: its sandbox goes with it (PDEATHSIG), its
  // cgroup stays behind.
  const std::string group = "/sys/fs/cgroup/pids/edgeward/sv-stale-" + std::to_string(runner);
  ASSERT_EQ(::access(group.c_str(), F_OK), 0) << group;
  ASSERT_EQ(::kill(runner, SIGKILL), 0);
  ASSERT_TRUE(RunUntil([&] { return !Alive(runner); }));

  WorkloadSupervisor sup(*loop_, Options());
  ASSERT_TRUE(sup.Reattach().ok());
  EXPECT_NE(::access(group.c_str(), F_OK), 0) << "leftover cgroup not removed: " << group;
  ASSERT_TRUE(RunUntil([&] { return Get(sup, "sv-stale") && Get(sup, "sv-stale")->state == WorkloadState::kRunning; }));
  const pid_t fresh = Get(sup, "sv-stale")->pid;
  EXPECT_NE(fresh, runner);
  EXPECT_TRUE(Alive(fresh));
  ASSERT_TRUE(sup.Apply(specs).ok());
  RunUntil([] { return false; }, 300ms);
  EXPECT_EQ(RunnersNamed(dir_.File("state"), "sv-stale"), std::vector<pid_t>{fresh});
  bool done = false;
  sup.StopAll(2s, [&] { done = true; });
  ASSERT_TRUE(RunUntil([&] { return done; }));
}

}  // namespace
}  // namespace edgeward::daemon
