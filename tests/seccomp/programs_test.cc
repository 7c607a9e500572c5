// Real programs under the shipped profiles and Podman's, exec'd in a child
// under the filter with the supervisor running: they must work and cause no
// violation.
#include <unistd.h>

#include <gtest/gtest.h>

#include "child_runner.h"
#include "swtpm.h"

namespace edgeward::seccomp {
namespace {

testing::ChildResult Exec(const policy::WorkloadPolicy& p, std::vector<std::string> argv) {
  auto f = PrepareFilter(p, {});
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  if (!f.ok()) return {};
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  auto r = testing::RunUnderFilter(*f, [&] {
    execv(args[0], args.data());
    return 127;
  });
  EXPECT_EQ(r.install_error, "");
  for (const ViolationEvent& e : r.events) ADD_FAILURE() << argv[0] << ": " << ViolationEventJson(e);
  return r;
}

policy::WorkloadPolicy Baseline() { return testing::MakePolicy(policy::SeccompProfileKind::kBaseline); }

TEST(ProgramsTest, PodmanProfileRunsTrue) {
  auto p = testing::MakePolicy(policy::SeccompProfileKind::kOciFile);
  p.seccomp.profile_path = "/usr/share/containers/seccomp.json";
  EXPECT_EQ(Exec(p, {"/bin/true"}).exit_code, 0);
}

TEST(ProgramsTest, StrictRunsTrue) {
  EXPECT_EQ(Exec(testing::MakePolicy(policy::SeccompProfileKind::kStrict), {"/bin/true"}).exit_code, 0);
}

TEST(ProgramsTest, BaselineRunsAShellPipeline) {
  auto r = Exec(Baseline(), {"/bin/sh", "-c", "echo hello | tr a-z A-Z | grep -q HELLO && ls / | wc -l >/dev/null"});
  EXPECT_EQ(r.exit_code, 0);
}

TEST(ProgramsTest, BaselineRunsPython) {
  auto r = Exec(Baseline(), {"/usr/bin/python3", "-c",
                             "import json, hashlib, threading, subprocess;"
                             "t = threading.Thread(target=lambda: None); t.start(); t.join();"
                             "assert subprocess.run(['/bin/true']).returncode == 0"});
  EXPECT_EQ(r.exit_code, 0);
}

TEST(ProgramsTest, BaselineRunsSqliteOnAFile) {
  edgeward::testing::TempDir tmp;
  auto r = Exec(Baseline(), {"/usr/bin/sqlite3", tmp.File("db.sqlite"),
                             "create table t(x); insert into t values (1),(2); select sum(x) from t;"});
  EXPECT_EQ(r.exit_code, 0);
}

TEST(ProgramsTest, BaselineRunsATcpServerOnLoopback) {
  auto p = Baseline();
  p.network.mode = policy::NetworkMode::kLoopback;  // network none allows AF_UNIX sockets only
  auto r = Exec(p, {"/usr/bin/python3", "-c",
                             "import socket, threading\n"
                             "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
                             "def serve():\n"
                             "    c, _ = s.accept(); c.sendall(c.recv(5).upper()); c.close()\n"
                             "t = threading.Thread(target=serve); t.start()\n"
                             "k = socket.create_connection(s.getsockname()); k.sendall(b'hello')\n"
                             "assert k.recv(5) == b'HELLO'\n"
                             "t.join()\n"});
  EXPECT_EQ(r.exit_code, 0);
}

}  // namespace
}  // namespace edgeward::seccomp
