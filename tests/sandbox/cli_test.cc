// `edgeward run` as an operator uses it: policy file in, exit status out,
// events as JSON lines, signals forwarded, bad policies refused before
// anything is created.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edgeward/base/file.h"
#include "sandbox_test_util.h"
#include "swtpm.h"

namespace edgeward::sandbox {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kEdgeward = std::string(EDGEWARD_BINARY_DIR) + "/agent/edgeward";

std::string PolicyYaml(const std::string& name, const std::string& extra_fs = "") {
  return "apiVersion: edgeward/v1\n"
         "kind: WorkloadPolicy\n"
         "metadata: {name: " + name + "}\n"
         "spec:\n"
         "  mode: enforce\n"
         "  namespaces: [pid, mount, ipc, uts, net]\n"
         "  network: none\n"
         "  filesystem:\n"
         "    readOnly: [/usr, /lib, /lib64, /bin, /etc" + extra_fs + "]\n"
         "    tmpfs: [/tmp]\n"
         "  capabilities: []\n"
         "  limits: {memory: 128Mi, pids: 64, nofile: 256}\n"
         "  seccomp:\n"
         "    profile: baseline\n";
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

TEST(RunCliTest, ExitStatusAndEvents) {
  edgeward::testing::TempDir dir;
  WriteText(dir.File("p.yaml"), PolicyYaml("cli-exit"));
  auto r = edgeward::testing::RunCommand(kEdgeward + " run --policy " + dir.File("p.yaml") +
                                         " --events " + dir.File("events.jsonl") + " --state-dir " +
                                         dir.File("state") + " -- /bin/sh -c 'echo inside; exit 3'");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("inside"));
  auto events = ReadFileToString(dir.File("events.jsonl"), 1 << 20);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  EXPECT_THAT(*events, AllOf(HasSubstr("\"type\":\"workload.start\""), HasSubstr("\"name\":\"cli-exit\""),
                             HasSubstr("\"type\":\"workload.exit\""), HasSubstr("\"code\":3")));
  struct stat st;
  ASSERT_EQ(::stat(dir.File("events.jsonl").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(RunCliTest, BadPolicyLaunchesNothing) {
  edgeward::testing::TempDir dir;
  std::string yaml = PolicyYaml("cli-bad");
  yaml.replace(yaml.find("namespaces"), 10, "namespacs");
  WriteText(dir.File("p.yaml"), yaml);
  std::string marker = dir.File("ran");
  std::string state = dir.File("state");
  auto r = edgeward::testing::RunCommand(kEdgeward + " run --policy " + dir.File("p.yaml") +
                                         " --events " + dir.File("events.jsonl") + " --state-dir " +
                                         state + " -- /bin/touch " + marker);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr("p.yaml:"), HasSubstr("namespacs")));
  EXPECT_FALSE(Exists(marker));
  EXPECT_FALSE(Exists(state));
  EXPECT_FALSE(Exists(dir.File("events.jsonl")));
}

TEST(RunCliTest, MissingPolicyFileExits2) {
  auto r = edgeward::testing::RunCommand(kEdgeward + " run --policy /nonexistent/p.yaml -- /bin/true");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("/nonexistent/p.yaml"));
}

TEST(RunCliTest, SetupFailureNamesStepAndCall) {
  edgeward::testing::TempDir dir;
  WriteText(dir.File("p.yaml"), PolicyYaml("cli-setup", ", /nonexistent-edgeward-dir"));
  auto r = edgeward::testing::RunCommand(kEdgeward + " run --policy " + dir.File("p.yaml") +
                                         " --state-dir " + dir.File("state") + " -- /bin/true");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("sandbox step 'mounts': mount(/nonexistent-edgeward-dir -> "
                                  "/nonexistent-edgeward-dir, MS_BIND): No such file or directory"));
}

TEST(RunCliTest, SigtermToEdgewardRunReachesWorkload) {
  edgeward::testing::TempDir dir;
  WriteText(dir.File("p.yaml"), PolicyYaml("cli-signal"));
  // The workload's stdout is a file we watch for "ready" (its trap is set).
  std::string out = dir.File("out");
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) ::_exit(120);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::string policy = dir.File("p.yaml"), state = dir.File("state");
    ::execl(kEdgeward.c_str(), "edgeward", "run", "--policy", policy.c_str(), "--state-dir", state.c_str(),
            "--", "/bin/sh", "-c",
            "trap 'echo got-term; exit 9' TERM; echo ready; i=0; while [ $i -lt 200 ]; do sleep 0.05; "
            "i=$((i+1)); done; exit 1",
            static_cast<char*>(nullptr));
    ::_exit(121);
  }
  bool seen = false;
  for (int i = 0; i < 1000 && !seen; ++i) {
    auto text = ReadFileToString(out, 1 << 16);
    seen = text.ok() && text->find("ready") != std::string::npos;
    if (!seen) ::usleep(10000);
  }
  ASSERT_TRUE(seen);
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 9);
  auto text = ReadFileToString(out, 1 << 16);
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr("got-term"));
}

TEST(RunCliTest, PolicyLearnWritesMinimalPolicyAndDiff) {
  edgeward::testing::TempDir dir;
  WriteText(dir.File("p.yaml"), PolicyYaml("cli-learn"));
  auto r = edgeward::testing::RunCommand(kEdgeward + " policy learn --policy " + dir.File("p.yaml") + " -o " +
                                         dir.File("learned.yaml") + " --state-dir " + dir.File("state") +
                                         " -- /bin/sh -c 'ls /usr > /dev/null'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr("--- " + dir.File("p.yaml")), HasSubstr("+++ " + dir.File("learned.yaml")),
                              HasSubstr("+    profile: none"), HasSubstr("learned policy written to")));
  auto learned = ReadFileToString(dir.File("learned.yaml"), 1 << 20);
  ASSERT_TRUE(learned.ok()) << learned.status().ToString();
  // What sh and ls really used is in the allow list.
  EXPECT_THAT(*learned, AllOf(HasSubstr("- execve"), HasSubstr("- getdents64"), HasSubstr("- exit_group")));
}

}  // namespace
}  // namespace edgeward::sandbox
