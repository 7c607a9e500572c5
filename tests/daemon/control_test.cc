// The control socket against real Unix sockets and real peer credentials:
// forked children drop to uid 65534 before they connect.
#include "edgeward/daemon/control.h"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "edgeward/daemon/event_loop.h"
#include "swtpm.h"

namespace edgeward::daemon {
namespace {

using std::chrono::milliseconds;
using nlohmann::json;

class ControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_ = std::move(loop).value();
    path_ = dir_.File("run/control.sock");
  }

  void StartServer(const std::string& group = "") {
    ControlOptions o;
    o.socket_path = path_;
    o.group = group;
    o.event_history = 3;
    auto s = ControlServer::Start(*loop_, o, [this](const ControlRequest& r) -> StatusOr<std::string> {
      ++handled_;
      if (r.kind == ControlRequest::Kind::kAttestNow) return Unavailable("no verifier configured");
      return std::string(R"({"answer":")") + std::string(ControlRequestName(r.kind)) + "\"}";
    });
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
  }

  // Runs `client` on its own thread while the loop serves on this one.
  void WithClient(const std::function<void()>& client) {
    std::thread t([&] {
      client();
      loop_->Post([this] { loop_->Stop(); });
    });
    ASSERT_TRUE(loop_->Run().ok());
    t.join();
  }

  StatusOr<std::string> Call(const std::string& request) {
    auto c = ControlClient::Connect(path_, milliseconds(5000));
    if (!c.ok()) return c.status();
    return c->Call(request, milliseconds(5000));
  }

  testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<ControlServer> server_;
  int handled_ = 0;
};

TEST_F(ControlTest, RequestsGetTheHandlersAnswerAndErrorsKeepTheirCode) {
  StartServer();
  StatusOr<std::string> status = Internal("unset"), workloads = Internal("unset"), attest = Internal("unset");
  WithClient([&] {
    status = Call(R"({"request":"status"})");
    workloads = Call(R"({"request":"workloads"})");
    attest = Call(R"({"request":"attest_now"})");
  });
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(*status, R"({"answer":"status"})");
  ASSERT_TRUE(workloads.ok());
  EXPECT_EQ(*workloads, R"({"answer":"workloads"})");
  ASSERT_FALSE(attest.ok());
  EXPECT_EQ(attest.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(attest.status().message(), "agent: no verifier configured");
  EXPECT_EQ(handled_, 3);
  EXPECT_EQ(server_->connections(), 0u);  // each closed after its answer
}

TEST_F(ControlTest, SocketAndDirectoryModesAreTight) {
  StartServer();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  ASSERT_EQ(::stat(dir_.File("run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0750u);
  server_.reset();
  EXPECT_NE(::access(path_.c_str(), F_OK), 0);  // removed on shutdown
}

TEST_F(ControlTest, BadRequestsGetErrorsAndTheServerKeepsServing) {
  StartServer();
  StatusOr<std::string> garbage = Internal("unset"), unknown = Internal("unset"), wrong_field = Internal("unset"),
                        huge = Internal("unset"), after = Internal("unset");
  WithClient([&] {
    garbage = Call("{\"request\":");
    unknown = Call(R"({"request":"reboot"})");
    wrong_field = Call(R"({"request":"status","follow":true})");
    huge = Call(std::string(kMaxControlRequestBytes + 100, 'x'));
    after = Call(R"({"request":"status"})");
  });
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(garbage.status().message().find("not valid JSON"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("unknown request 'reboot'"), std::string::npos)
      << unknown.status().ToString();
  EXPECT_NE(wrong_field.status().message().find("field follow: not accepted by request 'status'"),
            std::string::npos)
      << wrong_field.status().ToString();
  EXPECT_EQ(huge.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(huge.status().message().find("longer than 4096 bytes"), std::string::npos) << huge.status().ToString();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(handled_, 1);
}

TEST_F(ControlTest, EventsComeFromTheBoundedHistoryAndFollowersGetNewOnes) {
  StartServer();
  for (int i = 1; i <= 4; ++i) server_->PublishEvent(R"({"type":"workload.start","n":)" + std::to_string(i) + "}");
  server_->PublishEvent("not json");           // dropped
  server_->PublishEvent("{\"a\":1}\n{\"b\":2}");  // two lines: dropped
  EXPECT_EQ(server_->last_event_seq(), 4u);

  StatusOr<std::string> since2 = Internal("unset"), backlog = Internal("unset"), streamed = Internal("unset");
  WithClient([&] {
    since2 = Call(R"({"request":"events","since":2})");
    auto f = ControlClient::Connect(path_, milliseconds(5000));
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->Send(R"({"request":"events","follow":true,"since":4})").ok());
    auto first = f->ReadLine(milliseconds(5000));
    ASSERT_TRUE(first.ok());
    backlog = DecodeControlResponse(*first);
    loop_->Post([this] { server_->PublishEvent(R"({"type":"workload.exit","n":5})"); });
    streamed = f->ReadLine(milliseconds(5000));
  });
  ASSERT_TRUE(since2.ok()) << since2.status().ToString();
  json j = json::parse(*since2);
  ASSERT_EQ(j["events"].size(), 2u);  // history holds 3 (2,3,4); since 2 → 3,4
  EXPECT_EQ(j["events"][0]["seq"], 3);
  EXPECT_EQ(j["events"][1]["event"]["n"], 4);
  EXPECT_EQ(j["last_seq"], 4);
  ASSERT_TRUE(backlog.ok());
  EXPECT_EQ(json::parse(*backlog)["events"].size(), 0u);
  ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
  EXPECT_EQ(*streamed, R"({"seq":5,"event":{"type":"workload.exit","n":5}})");
}

TEST_F(ControlTest, StaleSocketIsReplacedLiveOneIsNotAndAFileIsRefused) {
  StartServer();
  ControlOptions o;
  o.socket_path = path_;
  auto second = ControlServer::Start(*loop_, o, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists);

  // Simulate a crash: a socket file nobody listens on.
  server_.reset();
  {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path_.c_str());
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  auto dead = ControlClient::Connect(path_, milliseconds(1000));
  ASSERT_FALSE(dead.ok());
  EXPECT_EQ(dead.status().code(), StatusCode::kUnavailable);
  StartServer();

  server_.reset();
  { std::ofstream(path_) << "not a socket"; }
  auto file = ControlServer::Start(*loop_, o, nullptr);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kInvalidArgument);

  auto missing = ControlClient::Connect(dir_.File("nope.sock"), milliseconds(1000));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(missing.status().message().find("is the agent running?"), std::string::npos);
}

// Forks a child that becomes uid 65534 (with `gid` and `groups`), waits for
// the go-ahead, sends a status request with raw syscalls and exits 0 if the
// answer contains `expect`, 1 if not, 2+ on a setup failure. Only
// async-signal-safe calls after fork().
pid_t SpawnUnprivilegedClient(const std::string& path, gid_t gid, std::vector<gid_t> groups, const char* expect,
                              int go_fd, const char* request_line = "{\"request\":\"status\"}\n") {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  const size_t request_len = std::strlen(request_line);
  const size_t expect_len = std::strlen(expect);
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(gid) != 0 || ::setuid(65534) != 0) ::_exit(2);
  char go;
  if (::read(go_fd, &go, 1) != 1) ::_exit(3);
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) ::_exit(4);
  (void)!::send(fd, request_line, request_len, MSG_NOSIGNAL);
  char buf[1024];
  size_t got = 0;
  for (;;) {
    ssize_t n = ::recv(fd, buf + got, sizeof buf - 1 - got, 0);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
    if (got == sizeof buf - 1) break;
  }
  for (size_t i = 0; i + expect_len <= got; ++i) {
    if (std::memcmp(buf + i, expect, expect_len) == 0) ::_exit(0);
  }
  ::_exit(1);
}

// Runs the loop until the child exits; returns its exit code.
int ServeUntilExit(EventLoop& loop, pid_t pid, int go_write_fd) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  EXPECT_GE(pidfd, 0);
  UniqueFd pf(pidfd);
  EXPECT_TRUE(loop.Watch(pidfd, EPOLLIN, [&](uint32_t) { loop.Stop(); }).ok());
  EXPECT_EQ(::write(go_write_fd, "g", 1), 1);
  EXPECT_TRUE(loop.Run().ok());
  loop.Unwatch(pidfd);
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

class ControlPeerTest : public ControlTest {
 protected:
  // Lets uid 65534 reach the socket file, so that the refusal (if any) is
  // the server's SO_PEERCRED check and not the file mode.
  void OpenUpFileModes() {
    ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
    ASSERT_EQ(::chmod(dir_.File("run").c_str(), 0755), 0);
    ASSERT_EQ(::chmod(path_.c_str(), 0666), 0);
  }
  int RunChild(gid_t gid, std::vector<gid_t> groups, const char* expect,
               const char* request_line = "{\"request\":\"status\"}\n") {
    int go[2];
    EXPECT_EQ(::pipe2(go, O_CLOEXEC), 0);
    pid_t pid = SpawnUnprivilegedClient(path_, gid, groups, expect, go[0], request_line);
    ::close(go[0]);
    int rc = ServeUntilExit(*loop_, pid, go[1]);
    ::close(go[1]);
    return rc;
  }
};

TEST_F(ControlPeerTest, NonRootPeerOutsideTheGroupIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to setuid the child";
  StartServer("users");
  OpenUpFileModes();
  EXPECT_EQ(RunChild(65534, {65534}, "PERMISSION_DENIED"), 0);
  EXPECT_EQ(server_->refused(), 1u);
  EXPECT_EQ(handled_, 0);
}

TEST_F(ControlPeerTest, PeerWithTheGroupAsSupplementaryGroupIsServed) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to setuid the child";
  group* users = ::getgrnam("users");
  if (users == nullptr) GTEST_SKIP() << "no 'users' group on this machine";
  StartServer("users");
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, users->gr_gid);  // the socket belongs to the group
  OpenUpFileModes();
  EXPECT_EQ(RunChild(65534, {users->gr_gid}, "\"answer\":\"status\""), 0);
  EXPECT_EQ(server_->refused(), 0u);
  EXPECT_EQ(handled_, 1);
}

TEST_F(ControlPeerTest, GroupMembersMayNotReleaseTheQuarantine) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to setuid the child";
  group* users = ::getgrnam("users");
  if (users == nullptr) GTEST_SKIP() << "no 'users' group on this machine";
  StartServer("users");
  OpenUpFileModes();
  EXPECT_EQ(RunChild(65534, {users->gr_gid}, "quarantine release is for root only",
                     "{\"request\":\"quarantine_release\"}\n"),
            0);
  EXPECT_EQ(handled_, 0) << "the handler ran for a group member's release";
  EXPECT_EQ(RunChild(65534, {users->gr_gid}, "\"answer\":\"status\""), 0);  // looking is still fine
  EXPECT_EQ(handled_, 1);
}

TEST_F(ControlPeerTest, WithoutAGroupOnlyRootMayConnect) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to setuid the child";
  StartServer("");
  OpenUpFileModes();
  EXPECT_EQ(RunChild(65534, {65534, 100}, "PERMISSION_DENIED"), 0);
  EXPECT_EQ(server_->refused(), 1u);
}

}  // namespace
}  // namespace edgeward::daemon
