// The edgeward-verifier binary as an operator runs it: `init`, start, and a
// clean exit 0 on SIGTERM (systemd's stop). Regression: Stop() from the
// signal thread and Wait() on the main thread both joined the server thread,
// and the second join hung forever.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "swtpm.h"

namespace edgeward {
namespace {

const std::string kVerifier = std::string(EDGEWARD_BINARY_DIR) + "/cloud/edgeward-verifier";

TEST(VerifierBinaryTest, SigtermStopsItWithExitZero) {
  testing::TempDir tmp;
  auto init = testing::RunCommand(kVerifier + " init --dir " + tmp.File("v") + " --host 127.0.0.1");
  ASSERT_EQ(init.exit_code, 0) << init.output;
  auto ca = testing::RunCommand("cat /var/lib/swtpm-localca/swtpm-localca-rootca-cert.pem > " + tmp.File("ek-ca.pem"));
  ASSERT_EQ(ca.exit_code, 0) << ca.output;
  {
    std::ofstream config(tmp.File("v") + "/config.yaml", std::ios::app);
    config << "ek_ca_bundle: " << tmp.File("ek-ca.pem") << "\nport: 0\n";
  }
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string config = tmp.File("v") + "/config.yaml";
    ::execl(kVerifier.c_str(), kVerifier.c_str(), "--config", config.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Give it time to start listening (and block its signals) before the stop.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, WNOHANG), 0) << "the verifier exited early";
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  pid_t got = 0;
  while ((got = ::waitpid(pid, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (got == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    FAIL() << "edgeward-verifier did not exit within 20 s of SIGTERM";
  }
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace edgeward
