#include "edgeward/daemon/event_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace edgeward::daemon {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<EventLoop> MakeLoop() {
  auto loop = EventLoop::Create();
  EXPECT_TRUE(loop.ok()) << loop.status().ToString();
  return std::move(loop).value();
}

TEST(EventLoopTest, TimersFireInDeadlineOrderAndCancelledOnesNever) {
  auto loop = MakeLoop();
  std::vector<std::string> fired;
  loop->After(milliseconds(30), [&] { fired.push_back("30"); });
  EventLoop::TimerId cancelled = loop->After(milliseconds(10), [&] { fired.push_back("cancelled"); });
  loop->After(milliseconds(5), [&] { fired.push_back("5"); });
  loop->After(milliseconds(40), [&] {
    fired.push_back("40");
    loop->Stop();
  });
  loop->Cancel(cancelled);
  loop->Cancel(9999);  // unknown id: no-op
  auto start = EventLoop::Clock::now();
  ASSERT_TRUE(loop->Run().ok());
  EXPECT_EQ(fired, (std::vector<std::string>{"5", "30", "40"}));
  EXPECT_GE(EventLoop::Clock::now() - start, milliseconds(40));
}

TEST(EventLoopTest, ATimerCallbackCanScheduleAndCancelTimers) {
  auto loop = MakeLoop();
  int ticks = 0;
  EventLoop::TimerId doomed = loop->After(milliseconds(50), [&] { ticks += 100; });
  std::function<void()> tick = [&] {
    if (++ticks == 3) {
      loop->Cancel(doomed);
      loop->After(milliseconds(60), [&] { loop->Stop(); });
      return;
    }
    loop->After(milliseconds(1), tick);
  };
  loop->After(milliseconds(1), tick);
  ASSERT_TRUE(loop->Run().ok());
  EXPECT_EQ(ticks, 3);
}

TEST(EventLoopTest, WatchedFdDeliversReadinessUntilUnwatched) {
  auto loop = MakeLoop();
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  std::string got;
  ASSERT_TRUE(loop->Watch(r.get(), EPOLLIN, [&](uint32_t events) {
                    EXPECT_TRUE(events & EPOLLIN);
                    char buf[16];
                    ssize_t n = ::read(r.get(), buf, sizeof buf);
                    ASSERT_GT(n, 0);
                    got.append(buf, static_cast<size_t>(n));
                    if (got == "abc") {
                      loop->Unwatch(r.get());
                      ASSERT_EQ(::write(w.get(), "zzz", 3), 3);  // not delivered: unwatched
                      loop->After(milliseconds(20), [&] { loop->Stop(); });
                    }
                  })
                  .ok());
  Status again = loop->Watch(r.get(), EPOLLIN, [](uint32_t) {});
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  loop->After(milliseconds(1), [&] { ASSERT_EQ(::write(w.get(), "a", 1), 1); });
  loop->After(milliseconds(5), [&] { ASSERT_EQ(::write(w.get(), "bc", 2), 2); });
  ASSERT_TRUE(loop->Run().ok());
  EXPECT_EQ(got, "abc");
}

TEST(EventLoopTest, PostFromAnotherThreadRunsOnTheLoopThread) {
  auto loop = MakeLoop();
  std::thread::id loop_thread = std::this_thread::get_id();
  std::thread::id ran_on;
  int sum = 0;
  std::thread poster([&] {
    for (int i = 1; i <= 100; ++i) loop->Post([&, i] { sum += i; });
    loop->Post([&] {
      ran_on = std::this_thread::get_id();
      loop->Stop();
    });
  });
  ASSERT_TRUE(loop->Run().ok());
  poster.join();
  EXPECT_EQ(sum, 5050);
  EXPECT_EQ(ran_on, loop_thread);
}

TEST(EventLoopTest, SignalsArriveThroughTheLoop) {
  auto loop = MakeLoop();
  int got_usr1 = 0, got_usr2 = 0;
  ASSERT_TRUE(loop->OnSignal(SIGUSR1, [&](const signalfd_siginfo& info) {
                    EXPECT_EQ(info.ssi_signo, static_cast<uint32_t>(SIGUSR1));
                    ++got_usr1;
                  })
                  .ok());
  ASSERT_TRUE(loop->OnSignal(SIGUSR2, [&](const signalfd_siginfo&) {
                    ++got_usr2;
                    loop->Stop();
                  })
                  .ok());
  loop->After(milliseconds(1), [] { ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0); });
  loop->After(milliseconds(10), [] { ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0); });
  ASSERT_TRUE(loop->Run().ok());
  EXPECT_EQ(got_usr1, 1);
  EXPECT_EQ(got_usr2, 1);
  // Unblock again so later tests in this binary see default dispositions.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  ASSERT_EQ(::pthread_sigmask(SIG_UNBLOCK, &set, nullptr), 0);
}

TEST(EventLoopTest, AnIdleLoopSleepsUntilItsTimer) {
  auto loop = MakeLoop();
  // One 300 ms timer: the loop must wake once for it (plus at most one
  // early wakeup from a rearm race), not spin.
  loop->After(milliseconds(300), [&] { loop->Stop(); });
  ASSERT_TRUE(loop->Run().ok());
  EXPECT_LE(loop->wakeups(), 2u);
  EXPECT_GE(loop->wakeups(), 1u);
}

}  // namespace
}  // namespace edgeward::daemon
