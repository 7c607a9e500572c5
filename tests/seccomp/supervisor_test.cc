// The supervisor in audit and learn modes, and the fail-closed rule.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include <gtest/gtest.h>

#include "child_runner.h"
#include "edgeward/sandbox/child_failure.h"
#include "swtpm.h"

namespace edgeward::seccomp {
namespace {

using policy::SeccompActionKind;
using testing::Act;
using testing::Errno;
using testing::MakePolicy;
using testing::Rule;

template <typename C, typename T>
bool Contains(const C& c, const T& v) {
  return std::find(c.begin(), c.end(), v) != c.end();
}

// A TCP port (and the next one, for UDP) free on loopback right now, below
// the ephemeral range so no outgoing connection of another test takes it
// meanwhile.
uint16_t FreeLoopbackPorts() {
  for (int i = 0; i < 2000; ++i) {
    uint16_t port = static_cast<uint16_t>(20000 + (getpid() * 7 + i * 2) % 12000);
    bool free = true;
    for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
      int s = socket(AF_INET, type | SOCK_CLOEXEC, 0);
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      sa.sin_port = htons(type == SOCK_STREAM ? port : static_cast<uint16_t>(port + 1));
      sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (s < 0 || bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) free = false;
      if (s >= 0) close(s);
    }
    if (free) return port;
  }
  return 0;
}

TEST(SupervisorTest, AuditLetsTheViolationProceedAndReportsIt) {
  auto p = MakePolicy(policy::SeccompProfileKind::kBaseline, policy::Mode::kAudit);
  p.seccomp.deny.push_back(Rule({"getppid"}, Errno(EACCES)));
  auto f = PrepareFilter(p, {});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const pid_t parent = getpid();
  auto r = testing::RunUnderFilter(*f, [parent] { return syscall(SYS_getppid) == parent ? 0 : 1; });
  EXPECT_EQ(r.install_error, "");
  EXPECT_EQ(r.exit_code, 0);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].syscall, "getppid");
  EXPECT_EQ(r.events[0].action, "allow");
  EXPECT_EQ(r.events[0].mode, policy::Mode::kAudit);
}

TEST(SupervisorTest, LearnRecordsSyscallsPathsAndTcpPorts) {
  edgeward::testing::TempDir tmp;
  const std::string written = tmp.File("out.txt");
  const uint16_t port = FreeLoopbackPorts();
  ASSERT_NE(port, 0) << "no free loopback port pair";
  auto p = MakePolicy(policy::SeccompProfileKind::kStrict, policy::Mode::kLearn);
  auto f = PrepareFilter(p, {});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto r = testing::RunUnderFilter(*f, [&] {
    int a = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
    int b = open(written.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (a < 0 || b < 0) return 1;
    if (chdir("/etc") != 0) return 2;
    int c = openat(AT_FDCWD, "./os-release", O_RDONLY | O_CLOEXEC);
    if (c < 0) return 3;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 || listen(s, 1) != 0) return 4;
    int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(t, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) return 5;
    // A UDP bind is not a TCP port.
    int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in ua = sa;
    ua.sin_port = htons(static_cast<uint16_t>(port + 1));
    if (bind(u, reinterpret_cast<sockaddr*>(&ua), sizeof(ua)) != 0) return 6;
    // Dangerous and outside strict: learn mode denies it (EPERM; running it
    // would fail with ESRCH, as no such tracee exists) and reports it.
    if (syscall(SYS_ptrace, 0x4206 /*PTRACE_SEIZE*/, 0x7fffffff, 0, 0) == 0 || errno != EPERM) return 7;
    return 0;
  });
  EXPECT_EQ(r.install_error, "");
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 0) << "the workload's own step failed (1 open, 2 chdir, 3 openat, 4 bind/listen, 5 connect, 6 udp bind, 7 ptrace not denied)";
  const auto& l = r.learned;
  for (const char* s : {"openat", "socket", "bind", "listen", "connect", "read", "write", "exit_group"}) {
    EXPECT_TRUE(Contains(l.syscalls, std::string(s))) << s;
  }
  EXPECT_TRUE(Contains(l.paths_read, std::string("/etc/hostname")));
  EXPECT_TRUE(Contains(l.paths_read, std::string("/etc/os-release")));
  EXPECT_TRUE(Contains(l.paths_written, written));
  EXPECT_FALSE(Contains(l.paths_read, written));
  EXPECT_TRUE(Contains(l.tcp_bind, port));
  EXPECT_TRUE(Contains(l.tcp_connect, port));
  EXPECT_FALSE(Contains(l.tcp_bind, static_cast<uint16_t>(port + 1)));
  EXPECT_TRUE(std::is_sorted(l.syscalls.begin(), l.syscalls.end()));
  // ptrace is outside strict and in the dangerous set: a learn-mode violation, denied.
  EXPECT_TRUE(Contains(l.syscalls, std::string("ptrace")));
  bool reported = std::any_of(r.events.begin(), r.events.end(), [](const ViolationEvent& e) {
    return e.syscall == "ptrace" && e.mode == policy::Mode::kLearn && e.action == "errno(EPERM)";
  });
  EXPECT_TRUE(reported);
}

TEST(SupervisorTest, WithoutASupervisorNotifiedCallsFailWithEnosys) {
  auto p = MakePolicy(policy::SeccompProfileKind::kNone);
  p.seccomp.default_action = Act(SeccompActionKind::kAllow);
  p.seccomp.deny.push_back(Rule({"getppid"}, Errno(EACCES)));
  auto f = PrepareFilter(p, {});
  ASSERT_TRUE(f.ok());
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(sv[0]);
    sandbox::ChildFailure failure;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || !InstallInChild(*f, sv[1], &failure)) _exit(100);
    char c;
    if (read(sv[1], &c, 1) != 0) _exit(101);  // wait until the parent dropped the listener
    _exit(syscall(SYS_getppid) < 0 ? errno : 0);
  }
  close(sv[1]);
  auto listener = ReceiveListener(sv[0], 5000);
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  listener->Reset();  // the supervisor "dies"
  close(sv[0]);
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), ENOSYS);
}

TEST(SupervisorTest, ReceiveListenerTimesOutAndReportsAClosedPeer) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  auto t = ReceiveListener(sv[0], 50);
  EXPECT_EQ(t.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(t.status().message().find("within 50 ms"), std::string::npos);
  close(sv[1]);
  auto c = ReceiveListener(sv[0], 50);
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("closed"), std::string::npos);
  close(sv[0]);
}

}  // namespace
}  // namespace edgeward::seccomp
