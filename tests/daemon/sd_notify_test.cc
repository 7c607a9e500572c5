#include "edgeward/daemon/sd_notify.h"

#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "edgeward/daemon/event_loop.h"
#include "swtpm.h"

namespace edgeward::daemon {
namespace {

// A real datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) {
    fd_ = UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    EXPECT_TRUE(fd_.valid());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    if (path[0] == '@') addr.sun_path[0] = '\0';
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
    timeval tv{2, 0};
    EXPECT_EQ(::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  }
  std::string Receive() {
    char buf[4096];
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    return n < 0 ? "<nothing>" : std::string(buf, static_cast<size_t>(n));
  }
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
};

TEST(SdNotifyTest, SendsReadyStatusAndStoppingToAPathSocket) {
  testing::TempDir dir;
  NotifySocket systemd(dir.File("notify"));
  auto n = SdNotifier::ForSocket(dir.File("notify"), std::chrono::microseconds(0));
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_TRUE(n->enabled());
  ASSERT_TRUE(n->Ready("running 2 workloads").ok());
  EXPECT_EQ(systemd.Receive(), "READY=1\nSTATUS=running 2 workloads");
  // A status line can't smuggle in another assignment.
  ASSERT_TRUE(n->SetStatus("ok\nREADY=1").ok());
  EXPECT_EQ(systemd.Receive(), "STATUS=ok READY=1");
  ASSERT_TRUE(n->Stopping().ok());
  EXPECT_EQ(systemd.Receive(), "STOPPING=1");
}

TEST(SdNotifyTest, AbstractSocketFromEnvironmentIsUsedAndUnset) {
  const std::string name = "@edgeward-sdnotify-test-" + std::to_string(::getpid());
  NotifySocket systemd(name);
  ASSERT_EQ(::setenv("NOTIFY_SOCKET", name.c_str(), 1), 0);
  ASSERT_EQ(::setenv("WATCHDOG_USEC", "3000000", 1), 0);
  ASSERT_EQ(::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1), 0);
  auto n = SdNotifier::FromEnvironment();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->watchdog_interval(), std::chrono::seconds(3));
  EXPECT_EQ(std::getenv("NOTIFY_SOCKET"), nullptr);  // workloads must not inherit it
  EXPECT_EQ(std::getenv("WATCHDOG_USEC"), nullptr);
  ASSERT_TRUE(n->Watchdog().ok());
  EXPECT_EQ(systemd.Receive(), "WATCHDOG=1");
}

TEST(SdNotifyTest, WatchdogForAnotherPidIsIgnored) {
  testing::TempDir dir;
  NotifySocket systemd(dir.File("n"));
  ASSERT_EQ(::setenv("NOTIFY_SOCKET", dir.File("n").c_str(), 1), 0);
  ASSERT_EQ(::setenv("WATCHDOG_USEC", "1000000", 1), 0);
  ASSERT_EQ(::setenv("WATCHDOG_PID", "1", 1), 0);
  auto n = SdNotifier::FromEnvironment();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->watchdog_interval().count(), 0);
}

TEST(SdNotifyTest, WithoutNotifySocketEverythingIsANoOp) {
  ::unsetenv("NOTIFY_SOCKET");
  auto n = SdNotifier::FromEnvironment();
  ASSERT_TRUE(n.ok());
  EXPECT_FALSE(n->enabled());
  EXPECT_TRUE(n->Ready("x").ok());
}

TEST(SdNotifyTest, BadSocketPathAndVanishedManagerAreErrors) {
  auto bad = SdNotifier::ForSocket("relative/path", std::chrono::microseconds(0));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  testing::TempDir dir;
  auto gone = SdNotifier::ForSocket(dir.File("nobody-listens"), std::chrono::microseconds(0));
  ASSERT_TRUE(gone.ok());
  Status s = gone->Ready("x");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("sendto"), std::string::npos) << s.message();
}

TEST(SdNotifyTest, WatchdogPingsAtHalfTheIntervalFromTheLoop) {
  testing::TempDir dir;
  NotifySocket systemd(dir.File("n"));
  auto n = SdNotifier::ForSocket(dir.File("n"), std::chrono::milliseconds(40));
  ASSERT_TRUE(n.ok());
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  n->StartWatchdog(**loop);
  // The pings arrive through the loop too; three of them end the test.
  int pings = 0;
  ASSERT_TRUE((*loop)->Watch(systemd.fd(), EPOLLIN, [&](uint32_t) {
                       EXPECT_EQ(systemd.Receive(), "WATCHDOG=1");
                       if (++pings == 3) (*loop)->Stop();
                     }).ok());
  bool timed_out = false;
  (*loop)->After(std::chrono::seconds(10), [&] {
    timed_out = true;
    (*loop)->Stop();
  });
  const auto start = EventLoop::Clock::now();
  ASSERT_TRUE((*loop)->Run().ok());
  EXPECT_FALSE(timed_out);
  EXPECT_EQ(pings, 3);
  // Timers never fire early: three pings at 20 ms spacing take >= 60 ms.
  EXPECT_GE(EventLoop::Clock::now() - start, std::chrono::milliseconds(60));
}

}  // namespace
}  // namespace edgeward::daemon
