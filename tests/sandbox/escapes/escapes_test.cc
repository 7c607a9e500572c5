// The escape suite: each program in progs/ tries one way out, run through the
// real `edgeward run` under default-policy.yaml. Every test asserts that the
// program really ran, that the escape failed, and — where it is observable —
// that the intended mechanism stopped it: the seccomp supervisor's
// sandbox.violation event naming the syscall, a SIGSYS kill for foreign
// architectures, EROFS from the read-only mount, EACCES from Landlock or file
// permissions, EAGAIN from the pids limit, the OOM kill from the memory limit.
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "edgeward/base/fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness.h"

namespace edgeward::escapes {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr uid_t kWorkloadUid = 65534;  // default-policy.yaml: user

int KernelLandlockAbi() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, 1U /*VERSION*/);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

class Escapes : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the escape suite runs as root (label root)";
    ASSERT_TRUE(std::filesystem::exists(EdgewardBinary())) << EdgewardBinary();
  }

  SandboxRun Run(const std::vector<std::string>& argv, const std::string& network = "loopback") {
    return RunSandboxed(run_dir_.path(), Policy(network), argv);
  }
  // The default policy; with the host's network it drops the net namespace
  // (the launcher refuses the combination).
  std::string Policy(const std::string& network) const {
    std::string p =
        DefaultPolicy({{"RW_DIR", rw_.path()},
                       {"RO_DIR", ro_.path()},
                       {"PROGS_DIR", ProgsDir()},
                       {"NETWORK", network}});
    if (network.find("mode: host") != std::string::npos) {
      const std::string all = "[pid, mount, ipc, uts, net, cgroup, user]";
      size_t pos = p.find(all);
      if (pos == std::string::npos) {
        ADD_FAILURE() << "default-policy.yaml namespaces changed";
      } else {
        p.replace(pos, all.size(), "[pid, mount, ipc, uts, cgroup, user]");
      }
    }
    return p;
  }

  // The program made the call, the seccomp supervisor reported it as a
  // violation in enforce mode, and the program saw the refusal (the errno
  // the event names) or was killed by it.
  static void ExpectStoppedBySeccomp(const SandboxRun& r, const std::string& syscall) {
    ASSERT_FALSE(r.timed_out) << r.Describe();
    EXPECT_THAT(r.output, Not(HasSubstr("escape SUCCEEDED"))) << r.Describe();
    auto violations = r.Violations(syscall);
    ASSERT_FALSE(violations.empty()) << "no sandbox.violation for " << syscall << "\n"
                                     << r.Describe();
    const auto& v = violations.front();
    EXPECT_EQ(v.value("mode", ""), "enforce") << v.dump();
    const std::string action = v.value("action", "");
    EXPECT_NE(action, "allow") << v.dump();
    EXPECT_NE(action, "log") << v.dump();
    static const std::regex kErrno(R"(errno\(([A-Z0-9]+)\))");
    std::smatch m;
    if (std::regex_match(action, m, kErrno)) {
      EXPECT_EQ(r.exit_code, 1) << r.Describe();
      EXPECT_THAT(r.output, HasSubstr("failed errno=" + m[1].str())) << r.Describe();
      EXPECT_THAT(r.output, HasSubstr("escape stopped")) << r.Describe();
    } else {
      EXPECT_TRUE(r.exit_code == 128 + SIGSYS || r.exit_code == 128 + SIGKILL) << r.Describe();
    }
  }

  // Killed by the filter's native kill (no event: the kernel acts alone).
  static void ExpectKilledBySigsys(const SandboxRun& r, const std::string& marker) {
    ASSERT_FALSE(r.timed_out) << r.Describe();
    EXPECT_THAT(r.output, HasSubstr(marker)) << "the program did not run\n" << r.Describe();
    EXPECT_THAT(r.output, Not(HasSubstr("escape SUCCEEDED"))) << r.Describe();
    EXPECT_EQ(r.exit_code, 128 + SIGSYS) << r.Describe();
    EXPECT_EQ(r.ExitSignal(), "SIGSYS") << r.Describe();
  }

  WorkDir rw_{kWorkloadUid};  // the policy's readWrite dir
  WorkDir ro_{kWorkloadUid};  // a readOnly dir the workload owns
  WorkDir run_dir_{0};        // policy file, events, output (root's)
};

// A process outside the sandbox (a child of the test), killed at the end.
class OutsideProcess {
 public:
  OutsideProcess() {
    pid_ = fork();
    if (pid_ == 0) {
      execl("/bin/sleep", "sleep", "600", static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~OutsideProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  // Still running, and not stopped by a tracer.
  bool AliveAndUntraced() const {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG | WUNTRACED) != 0) return false;
    std::string stat_path = "/proc/" + std::to_string(pid_) + "/status";
    FILE* f = fopen(stat_path.c_str(), "r");
    if (f == nullptr) return false;
    char line[256];
    bool untraced = false;
    while (fgets(line, sizeof line, f) != nullptr) {
      if (std::string(line).starts_with("TracerPid:\t0")) untraced = true;
    }
    fclose(f);
    return untraced;
  }

 private:
  pid_t pid_ = -1;
};

TEST_F(Escapes, MountIsStoppedBySeccomp) {
  ExpectStoppedBySeccomp(Run({ProgPath("esc_mount")}), "mount");
}

TEST_F(Escapes, UnshareUserNamespaceIsStoppedBySeccomp) {
  ExpectStoppedBySeccomp(Run({ProgPath("esc_unshare_user")}), "unshare");
}

TEST_F(Escapes, SetnsIsStoppedBySeccomp) {
  ExpectStoppedBySeccomp(Run({ProgPath("esc_setns")}), "setns");
}

TEST_F(Escapes, PtraceOfAProcessOutsideIsStoppedBySeccomp) {
  OutsideProcess outside;
  ASSERT_GT(outside.pid(), 0);
  ExpectStoppedBySeccomp(Run({ProgPath("esc_ptrace"), std::to_string(outside.pid())}), "ptrace");
  EXPECT_TRUE(outside.AliveAndUntraced());
}

TEST_F(Escapes, IoUringSetupIsStoppedBySeccomp) {
  ExpectStoppedBySeccomp(Run({ProgPath("esc_io_uring")}), "io_uring_setup");
}

TEST_F(Escapes, BpfIsStoppedBySeccomp) {
  ExpectStoppedBySeccomp(Run({ProgPath("esc_bpf")}), "bpf");
}

TEST_F(Escapes, KexecLoadIsStoppedBySeccomp) {
  ExpectStoppedBySeccomp(Run({ProgPath("esc_kexec")}), "kexec_load");
}

TEST_F(Escapes, I386SyscallIsKilledWithSigsys) {
  ExpectKilledBySigsys(Run({ProgPath("esc_i386")}), "calling int $0x80 getpid");
}

TEST_F(Escapes, X32SyscallIsKilledWithSigsys) {
  ExpectKilledBySigsys(Run({ProgPath("esc_x32")}), "calling x32 getpid");
}

TEST_F(Escapes, TiocstiIsStoppedBySeccomp) {
  SandboxRun r = Run({ProgPath("esc_tiocsti")});
  ExpectStoppedBySeccomp(r, "ioctl");
  bool named_tiocsti = false;
  for (const auto& v : r.Violations("ioctl")) {
    const auto& args = v["syscall"]["args"];
    if (args.is_array() && args.size() == 6 && args[1] == TIOCSTI) named_tiocsti = true;
  }
  EXPECT_TRUE(named_tiocsti) << "no violation with args[1] == TIOCSTI\n" << r.Describe();
}

// The readOnly dir and the file in it belong to the workload's user, so
// file permissions allow both writes: only the read-only bind refuses them.
TEST_F(Escapes, WritingIntoAReadOnlyMountFailsWithErofs) {
  const std::string owned = ro_.path() + "/owned.txt";
  { std::ofstream(owned) << "mine\n"; }
  ASSERT_EQ(chown(owned.c_str(), kWorkloadUid, kWorkloadUid), 0);
  ASSERT_EQ(chmod(owned.c_str(), 0644), 0);
  SandboxRun r = Run({ProgPath("esc_write_ro"), ro_.path(), owned});
  ASSERT_FALSE(r.timed_out) << r.Describe();
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.output, HasSubstr("create in readOnly dir: failed errno=EROFS")) << r.Describe();
  EXPECT_THAT(r.output, HasSubstr("open existing readOnly file for writing: failed errno=EROFS"))
      << r.Describe();
  EXPECT_FALSE(std::filesystem::exists(ro_.path() + "/escaped-file"));
}

// /proc/self/comm: a read-write mount, a file we own with mode 0644 — only
// Landlock (/proc is read-only to the workload) stands in the way.
TEST_F(Escapes, WritingWhereOnlyLandlockForbidsFailsWithEacces) {
  if (KernelLandlockAbi() < 1) GTEST_SKIP() << "kernel without Landlock";
  SandboxRun r = Run({ProgPath("esc_write_landlock")});
  ASSERT_FALSE(r.timed_out) << r.Describe();
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.output, HasSubstr("dac-allows=1 mount-allows=1")) << r.Describe();
  EXPECT_THAT(r.output, HasSubstr("open(/proc/self/comm, O_WRONLY): failed errno=EACCES"))
      << r.Describe();
}

TEST_F(Escapes, ReadingEtcShadowIsRefused) {
  SandboxRun r = Run({ProgPath("esc_read_shadow")});
  ASSERT_FALSE(r.timed_out) << r.Describe();
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  // /etc is readOnly in the policy, so the file is there; uid 65534 without
  // CAP_DAC_OVERRIDE can't open root:shadow 0640.
  EXPECT_THAT(r.output, HasSubstr("open(/etc/shadow): failed errno=EACCES")) << r.Describe();
}

// A listener on 127.0.0.1 with an ephemeral port.
struct Listener {
  UniqueFd fd;
  uint16_t port = 0;
};
Listener Listen() {
  Listener l;
  l.fd = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (!l.fd.valid() || bind(l.fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      listen(l.fd.get(), 8) != 0 ||
      getsockname(l.fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return {};
  }
  l.port = ntohs(a.sin_port);
  return l;
}

TEST_F(Escapes, TcpConnectToAnUnlistedPortIsRefusedByLandlock) {
  if (KernelLandlockAbi() < 4) {
    GTEST_SKIP() << "Landlock ABI " << KernelLandlockAbi() << " has no TCP rules";
  }
  Listener listed = Listen(), unlisted = Listen();
  ASSERT_NE(listed.port, 0);
  ASSERT_NE(unlisted.port, 0);
  const std::string network =
      "{mode: host, tcpConnect: [" + std::to_string(listed.port) + "]}";

  SandboxRun r = RunSandboxed(run_dir_.path(), Policy(network),
                              {ProgPath("esc_tcp_connect"), std::to_string(unlisted.port)});
  ASSERT_FALSE(r.timed_out) << r.Describe();
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.output, HasSubstr("connect(127.0.0.1:unlisted): failed errno=EACCES"))
      << r.Describe();

  // Control: the same program, the listed port: the host network is really
  // there, so the refusal above is the port rule.
  SandboxRun ok = RunSandboxed(run_dir_.path(), Policy(network),
                               {ProgPath("esc_tcp_connect"), std::to_string(listed.port)});
  EXPECT_EQ(ok.exit_code, 0) << ok.Describe();
  EXPECT_THAT(ok.output, HasSubstr("connect(127.0.0.1:unlisted): ok")) << ok.Describe();
}

TEST_F(Escapes, ForkBombStopsAtThePidsLimit) {
  SandboxRun r = Run({ProgPath("esc_fork_bomb")});
  ASSERT_FALSE(r.timed_out) << r.Describe();
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.output, HasSubstr("fork until it fails: failed errno=EAGAIN")) << r.Describe();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"(forked (\d+) children)")))
      << r.Describe();
  EXPECT_LT(std::stoi(m[1].str()), 32) << "pids: 32 in default-policy.yaml";
}

TEST_F(Escapes, MemoryHogIsKilledAtTheMemoryLimit) {
  SandboxRun r = Run({ProgPath("esc_memory_hog")});
  ASSERT_FALSE(r.timed_out) << r.Describe();
  EXPECT_THAT(r.output, Not(HasSubstr("escape SUCCEEDED"))) << r.Describe();
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << "the OOM killer's SIGKILL\n" << r.Describe();
  EXPECT_EQ(r.ExitSignal(), "SIGKILL") << r.Describe();
  // It ran, and never held more than the limit (memory: 64Mi).
  int most = 0;
  std::regex resident(R"(resident (\d+) MiB)");
  for (auto it = std::sregex_iterator(r.output.begin(), r.output.end(), resident);
       it != std::sregex_iterator(); ++it) {
    most = std::max(most, std::stoi((*it)[1].str()));
  }
  EXPECT_GT(most, 0) << r.Describe();
  EXPECT_LE(most, 64) << r.Describe();
}

TEST_F(Escapes, SetuidRootBinaryGainsNothing) {
  // A root-owned setuid copy of escape_whoami in the readWrite dir.
  const std::string copy = rw_.path() + "/whoami-suid";
  std::filesystem::copy_file(ProgPath("escape_whoami"), copy);
  ASSERT_EQ(chown(copy.c_str(), 0, 0), 0);
  ASSERT_EQ(chmod(copy.c_str(), 04755), 0);
  struct stat st;
  ASSERT_EQ(stat(copy.c_str(), &st), 0);
  ASSERT_TRUE(st.st_mode & S_ISUID);

  SandboxRun r = Run({ProgPath("esc_setuid"), copy});
  ASSERT_FALSE(r.timed_out) << r.Describe();
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.output, HasSubstr("before exec: uid=65534 euid=65534")) << r.Describe();
  EXPECT_THAT(r.output, HasSubstr("whoami: uid=65534 euid=65534")) << r.Describe();
}

TEST_F(Escapes, SignalToAProcessOutsideIsRefused) {
  OutsideProcess outside;
  ASSERT_GT(outside.pid(), 0);
  SandboxRun r = Run({ProgPath("esc_signal"), std::to_string(outside.pid())});
  ASSERT_FALSE(r.timed_out) << r.Describe();
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  // The host pid means nothing in the workload's PID namespace (ESRCH), or
  // names another process there that Landlock scoping refuses (EPERM).
  EXPECT_TRUE(std::regex_search(r.output,
                                std::regex(R"(kill\(outside, SIGTERM\): failed errno=(ESRCH|EPERM))")))
      << r.Describe();
  // Our parent is the launcher, outside the workload's Landlock domain.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"(parent pid=(-?\d+))"))) << r.Describe();
  if (std::stoi(m[1].str()) > 0 && KernelLandlockAbi() >= 6) {
    EXPECT_THAT(r.output, HasSubstr("kill(parent, SIGTERM): failed errno=EPERM")) << r.Describe();
  }
  EXPECT_TRUE(outside.AliveAndUntraced());
}

}  // namespace
}  // namespace edgeward::escapes
