// The other side of the escape suite: real programs run correctly through the
// real `edgeward run` under the same default policy (seccomp `baseline`,
// every namespace, Landlock, limits), and a Podman seccomp profile loads and
// runs a program.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness.h"

namespace edgeward::escapes {
namespace {

using ::testing::HasSubstr;

constexpr uid_t kWorkloadUid = 65534;  // default-policy.yaml: user

class RealPrograms : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the sandbox suite runs as root (label root)";
    ASSERT_TRUE(std::filesystem::exists(EdgewardBinary())) << EdgewardBinary();
  }

  std::string Policy(const std::string& network = "loopback") const {
    return DefaultPolicy({{"RW_DIR", rw_.path()},
                       {"RO_DIR", ro_.path()},
                       {"PROGS_DIR", ProgsDir()},
                       {"NETWORK", network}});
  }
  SandboxRun Run(const std::vector<std::string>& argv, const std::string& network = "loopback") {
    return RunSandboxed(run_dir_.path(), Policy(network), argv);
  }

  // A clean run: exit 0 and no violations.
  static void ExpectClean(const SandboxRun& r) {
    ASSERT_FALSE(r.timed_out) << r.Describe();
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    for (const auto& e : r.events) {
      EXPECT_NE(e.value("type", ""), "sandbox.violation") << e.dump();
    }
  }

  static bool HasLine(const std::string& text, const std::string& line) {
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
      if (l == line) return true;
    }
    return false;
  }

  WorkDir rw_{kWorkloadUid};
  WorkDir ro_{kWorkloadUid};
  WorkDir run_dir_{0};
};

TEST_F(RealPrograms, ShellPipeline) {
  SandboxRun r = Run({"/bin/sh", "-c", "seq 1 1000 | sort -n | tail -1"});
  ExpectClean(r);
  EXPECT_TRUE(HasLine(r.output, "1000")) << r.Describe();
}

TEST_F(RealPrograms, Python3ComputesAndPrints) {
  SandboxRun r = Run({"/usr/bin/python3", "-c",
                      "import hashlib, json\n"
                      "print(json.dumps({'sum': sum(range(1001)),"
                      " 'sha': hashlib.sha256(b'edgeward').hexdigest()[:16]}))"});
  ExpectClean(r);
  // sha256("edgeward"), computed outside the sandbox: printf edgeward | sha256sum
  EXPECT_TRUE(HasLine(r.output, R"({"sum": 500500, "sha": "70e9324fdf245511"})"))
      << r.Describe();
}

TEST_F(RealPrograms, Sqlite3WithADatabaseInTheReadWriteDir) {
  const std::string db = rw_.path() + "/test.db";
  SandboxRun r = Run({"/usr/bin/sqlite3", db,
                      "create table t(x integer); insert into t values (1),(2),(3);"
                      " select sum(x) from t;"});
  ExpectClean(r);
  EXPECT_TRUE(HasLine(r.output, "6")) << r.Describe();
  // The database is on the host, written by the workload's user.
  struct stat st;
  ASSERT_EQ(stat(db.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kWorkloadUid);
  // And a second run reads what the first wrote.
  SandboxRun again = Run({"/usr/bin/sqlite3", db, "select count(*) from t;"});
  ExpectClean(again);
  EXPECT_TRUE(HasLine(again.output, "3")) << again.Describe();
}

TEST_F(RealPrograms, TcpServerAndClientOnLoopback) {
  constexpr int kPort = 18080;  // inside the workload's own network namespace
  const std::string network = "{mode: loopback, tcpBind: [" + std::to_string(kPort) +
                              "], tcpConnect: [" + std::to_string(kPort) + "]}";
  SandboxRun r = Run({ProgPath("tcp_roundtrip"), std::to_string(kPort)}, network);
  ExpectClean(r);
  EXPECT_TRUE(HasLine(r.output, "roundtrip ok")) << r.Describe();
}

TEST_F(RealPrograms, PythonHttpServerOnLoopback) {
  constexpr int kPort = 18081;
  const std::string network = "{mode: loopback, tcpBind: [" + std::to_string(kPort) +
                              "], tcpConnect: [" + std::to_string(kPort) + "]}";
  // http.server in a thread, fetched with urllib: a real server and client.
  const std::string script =
      "import http.server, threading, urllib.request\n"
      "class H(http.server.BaseHTTPRequestHandler):\n"
      "    def do_GET(self):\n"
      "        body = b'served ' + self.path.encode()\n"
      "        self.send_response(200); self.send_header('Content-Length', str(len(body)))\n"
      "        self.end_headers(); self.wfile.write(body)\n"
      "    def log_message(self, *a): pass\n"
      "s = http.server.HTTPServer(('127.0.0.1', " + std::to_string(kPort) + "), H)\n"
      "threading.Thread(target=s.serve_forever, daemon=True).start()\n"
      "print(urllib.request.urlopen('http://127.0.0.1:" + std::to_string(kPort) +
      "/edge', timeout=10).read().decode())\n"
      "s.shutdown()\n";
  SandboxRun r = Run({"/usr/bin/python3", "-c", script}, network);
  ExpectClean(r);
  EXPECT_TRUE(HasLine(r.output, "served /edge")) << r.Describe();
}

TEST_F(RealPrograms, PodmanSeccompProfileLoadsAndRunsAProgram) {
  const std::string profile = "/usr/share/containers/seccomp.json";
  ASSERT_TRUE(std::filesystem::exists(profile)) << profile << " is installed by scripts/setup";
  std::string policy = Policy();
  const std::string from = "profile: baseline";
  size_t pos = policy.find(from);
  ASSERT_NE(pos, std::string::npos);
  policy.replace(pos, from.size(), "profile: " + profile);
  SandboxRun r = RunSandboxed(run_dir_.path(), policy,
                              {"/bin/sh", "-c", "seq 1 5 | sort -rn | head -1; echo podman-ok"});
  ExpectClean(r);
  EXPECT_TRUE(HasLine(r.output, "5")) << r.Describe();
  EXPECT_TRUE(HasLine(r.output, "podman-ok")) << r.Describe();
}

}  // namespace
}  // namespace edgeward::escapes
