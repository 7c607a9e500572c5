// `edgeward agent` with bundles.localFile as a signed bundle file and with
// the shipped default rules: the real binary (local-only, no TPM), real
// signed bundles and root documents, real runners, real SIGHUP, answers
// read over the real control socket with the real CLI.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "bundle_content_util.h"
#include "edgeward/base/file.h"
#include "edgeward/daemon/bundle_content.h"
#include "edgeward/rules/engine.h"
#include "swtpm.h"

extern char** environ;

namespace edgeward::daemon {
namespace {

using nlohmann::json;
using testing::bundles::Signer;
using namespace std::chrono_literals;

const std::string kEdgeward = EDGEWARD_BINARY_DIR "/agent/edgeward";
const std::string kShippedRules = EDGEWARD_SOURCE_DIR "/rules/default";

std::string PolicyYaml(const std::string& name) {
  return "apiVersion: edgeward/v1\nkind: WorkloadPolicy\nmetadata: {name: " + name +
         "}\nspec:\n  mode: enforce\n  namespaces: [pid, mount, ipc, uts, net]\n  network: none\n"
         "  filesystem:\n    readOnly: [/usr, /lib, /lib64, /bin, /etc]\n    tmpfs: [/tmp]\n"
         "  capabilities: []\n  limits: {memory: 128Mi, pids: 64, nofile: 256}\n  seccomp:\n    profile: baseline\n";
}

std::string WorkloadYaml(const std::string& name, const std::string& policy) {
  return "apiVersion: edgeward/v1\nkind: Workload\nmetadata: {name: " + name +
         "}\nspec:\n  command: [/bin/sh, -c, 'while true; do sleep 1; done']\n  policy: " + policy +
         "\n  restart: {policy: always}\n";
}

constexpr char kLocalRule[] =
    "- rule: local start\n  condition: event.type = \"workload.start\"\n  actions: [log]\n"
    "  priority: low\n  output: \"started %workload.name\"\n";

// The number of rules the shipped files define, by the engine itself.
size_t ShippedRuleCount() {
  auto files = ListRuleFiles(kShippedRules);
  if (!files.ok()) return 0;
  std::vector<rules::RuleSource> sources;
  for (const auto& f : *files) sources.push_back({f, ReadFileToString(f, rules::kMaxRuleFileBytes).value()});
  rules::Engine engine;
  if (!engine.LoadSources(sources).ok()) return 0;
  return engine.rule_count();
}

class BundleContentAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "sandboxed workloads need root";
    ASSERT_TRUE(signer_.WriteRoot(dir_.File("root.json")).ok());
    bundle_ = dir_.File("bundle.ewb");
    socket_ = dir_.File("run/control.sock");
    WriteConfig("bundles: {rootFile: " + dir_.File("root.json") + ", localFile: " + bundle_ + "}\n");
  }

  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  void WriteConfig(const std::string& bundles_line) {
    ASSERT_TRUE(WriteFileAtomic(dir_.File("agent.yaml"),
                                AsBytes("node: {id: edge-1}\n"
                                        "stateDir: " + dir_.File("state") + "\n"
                                        "tpm: {tcti: none}\n" + bundles_line +
                                        "workloads: {stopTimeout: 3s}\n"
                                        "control: {socket: " + socket_ + ", group: \"\"}\n"
                                        "metrics: {listen: \"\"}\n"
                                        "log: {level: info}\n"),
                                0600)
                    .ok());
  }

  void WriteBundle(uint64_t version, const std::map<std::string, std::string>& files, bool sign = true) {
    ASSERT_TRUE(
        WriteFileAtomic(bundle_, AsBytes(sign ? signer_.Signed(version, files) : signer_.Unsigned(version, files)), 0644)
            .ok());
  }

  std::map<std::string, std::string> Files(bool with_rules) const {
    std::map<std::string, std::string> f = {{"policies/ticker.yaml", PolicyYaml("ticker")},
                                            {"workloads/ticker.yaml", WorkloadYaml("ticker", "ticker")}};
    if (with_rules) f["rules/10-local.yaml"] = kLocalRule;
    return f;
  }

  // Starts `binary` with the environment minus EDGEWARD_RULES_DIR, plus
  // `rules_dir` as EDGEWARD_RULES_DIR when given.
  void StartAgent(const std::optional<std::string>& rules_dir, const std::string& binary = kEdgeward) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string_view(*e).starts_with("EDGEWARD_RULES_DIR=")) continue;
      env.emplace_back(*e);
    }
    if (rules_dir) env.push_back("EDGEWARD_RULES_DIR=" + *rules_dir);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, dir_.File("agent.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    const std::string config = dir_.File("agent.yaml");
    const char* argv[] = {binary.c_str(), "agent", "--config", config.c_str(), nullptr};
    ASSERT_EQ(::posix_spawn(&pid_, binary.c_str(), &fa, nullptr, const_cast<char**>(argv), envp.data()), 0);
    posix_spawn_file_actions_destroy(&fa);
  }

  std::string Log() {
    auto text = ReadFileToString(dir_.File("agent.log"), 1 << 20);
    return text.ok() ? *text : std::string();
  }

  // Waits until the agent's log has `text` after `from` bytes.
  bool WaitForLog(const std::string& text, size_t from = 0) {
    for (int i = 0; i < 200; ++i) {
      const std::string log = Log();
      if (log.size() > from && log.find(text, from) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "no '" << text << "' in the log:\n" << Log();
    return false;
  }

  json Status() {
    for (int i = 0; i < 200; ++i) {
      auto r = testing::RunCommand(kEdgeward + " status --json --socket " + socket_ + " 2>&1");
      if (r.exit_code == 0) return json::parse(r.output);
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "the agent never answered status:\n" << Log();
    return json::object();
  }

  // Polls status until the bundle version is `version` and `running` workloads run.
  json WaitForBundle(uint64_t version, int running) {
    json s;
    for (int i = 0; i < 200; ++i) {
      s = Status();
      if (s["bundle"]["version"] == version && s["workloads"].value("running", 0) == running) return s;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "bundle " << version << " with " << running << " running never showed; last " << s.dump()
                  << "\n" << Log();
    return s;
  }

  void Hup(const std::string& expect_in_log) {
    const size_t from = Log().size();
    ASSERT_EQ(::kill(pid_, SIGHUP), 0);
    WaitForLog(expect_in_log, from);
  }

  testing::TempDir dir_;
  Signer signer_;
  std::string bundle_;
  std::string socket_;
  pid_t pid_ = 0;
};

TEST_F(BundleContentAgentTest, ASignedLocalFileRunsAndABadOneOnReloadLeavesItRunning) {
  WriteBundle(2, Files(/*with_rules=*/true));
  StartAgent(kShippedRules);
  json s = WaitForBundle(2, 1);
  EXPECT_EQ(s["bundle"]["source"], "local:" + bundle_);
  EXPECT_EQ(s["bundle"]["digest"].get<std::string>().size(), 64u) << s.dump();
  // The bundle's own rules replace the shipped ones.
  EXPECT_EQ(s["rules"]["loaded"], 1);
  EXPECT_EQ(s["rules"]["files"], json::array({"rules/10-local.yaml"}));
  auto workloads = json::parse(testing::RunCommand(kEdgeward + " workloads --json --socket " + socket_).output);
  ASSERT_EQ(workloads["workloads"].size(), 1u);
  const int runner = workloads["workloads"][0]["pid"];

  // Unsigned, rolled back, bad content: each refused naming the file; the
  // running bundle and its workload stay untouched.
  WriteBundle(3, Files(true), /*sign=*/false);
  Hup("reload: local bundle: " + bundle_ + ": rejected (below_threshold)");
  WriteBundle(1, Files(true));
  Hup(bundle_ + ": rejected (version_not_greater)");
  auto bad = Files(true);
  bad["workloads/ticker.yaml"] = WorkloadYaml("ticker", "tikcer");
  WriteBundle(3, bad);
  Hup(bundle_ + ": rejected (invalid_content): workloads/ticker.yaml: "
               "workloads/ticker.yaml:6:11: field spec.policy: no policy named 'tikcer'");
  bad = Files(true);
  bad["rules/20-broken.yaml"] = "- rule: broken\n  condition: workload.nmae = \"x\"\n  actions: [log]\n"
                                "  priority: low\n  output: x\n";
  WriteBundle(3, bad);
  Hup(bundle_ + ": rejected (invalid_content): rules/20-broken.yaml: rules/20-broken.yaml:2:");
  s = WaitForBundle(2, 1);
  EXPECT_EQ(s["rules"]["loaded"], 1);
  workloads = json::parse(testing::RunCommand(kEdgeward + " workloads --json --socket " + socket_).output);
  EXPECT_EQ(workloads["workloads"][0]["pid"], runner);

  // A good version 4 without rules: applied, and the shipped rules load.
  WriteBundle(4, Files(/*with_rules=*/false));
  Hup("bundle from local:" + bundle_ + " version 4");
  s = WaitForBundle(4, 1);
  EXPECT_EQ(s["rules"]["loaded"], ShippedRuleCount());
  ASSERT_FALSE(s["rules"]["files"].empty());
  EXPECT_EQ(s["rules"]["files"][0], kShippedRules + "/10-attestation.yaml");
  EXPECT_NE(Log().find("(shipped defaults from " + kShippedRules + ": 3 file(s))"), std::string::npos) << Log();
}

TEST_F(BundleContentAgentTest, ARefusedFileAtStartLeavesTheAgentRunningOnTheShippedRules) {
  WriteBundle(1, Files(true), /*sign=*/false);
  StartAgent(kShippedRules);
  json s = Status();
  EXPECT_EQ(s["bundle"]["source"], "none");
  EXPECT_EQ(s["bundle"]["version"], 0);
  EXPECT_EQ(s["workloads"]["total"], 0);
  ASSERT_GT(ShippedRuleCount(), 0u);
  EXPECT_EQ(s["rules"]["loaded"], ShippedRuleCount());
  EXPECT_NE(Log().find("local bundle: " + bundle_ + ": rejected (below_threshold)"), std::string::npos) << Log();

  // Fixed and SIGHUPed in.
  WriteBundle(1, Files(true));
  Hup("bundle from local:" + bundle_ + " version 1");
  s = WaitForBundle(1, 1);
  EXPECT_EQ(s["rules"]["files"], json::array({"rules/10-local.yaml"}));
}

TEST_F(BundleContentAgentTest, TheInstalledBinaryLoadsTheShippedRulesNextToIt) {
  // The installed layout: <prefix>/bin/edgeward, <prefix>/share/edgeward/rules.
  namespace fs = std::filesystem;
  fs::create_directories(dir_.File("prefix/bin"));
  fs::create_directories(dir_.File("prefix/share/edgeward/rules"));
  fs::copy_file(kEdgeward, dir_.File("prefix/bin/edgeward"));
  auto files = ListRuleFiles(kShippedRules);
  ASSERT_TRUE(files.ok());
  for (const auto& f : *files) {
    fs::copy_file(f, dir_.File("prefix/share/edgeward/rules/") + fs::path(f).filename().string());
  }
  WriteConfig("");  // no bundle at all
  StartAgent(std::nullopt, dir_.File("prefix/bin/edgeward"));
  json s = Status();
  EXPECT_EQ(s["rules"]["loaded"], ShippedRuleCount());
  ASSERT_EQ(s["rules"]["files"].size(), files->size());
  EXPECT_EQ(s["rules"]["files"][0], dir_.File("prefix/bin/../share/edgeward/rules/10-attestation.yaml"));
}

TEST_F(BundleContentAgentTest, WithoutShippedRulesTheAgentSaysSoAndRunsWithout) {
  WriteConfig("");
  // The build tree's binary has no share/edgeward/rules next to it.
  StartAgent(std::nullopt);
  json s = Status();
  EXPECT_EQ(s["rules"]["loaded"], 0);
  EXPECT_NE(Log().find("rules: none loaded (no shipped default rules found"), std::string::npos) << Log();
}

}  // namespace
}  // namespace edgeward::daemon
