// EventLoop: the daemon's single-threaded reactor. Everything the agent
// does on its main thread is a callback from here — a readable fd (control
// socket, a workload's pidfd or event pipe), a timer, a signal, or work
// posted from another thread (the cloud worker). No busy polling: the loop
// sleeps in epoll_wait() until one of those is due, so an idle agent wakes
// only for its own timers.
//
//   epoll fd ── one timerfd (CLOCK_MONOTONIC, armed for the earliest timer)
//            ── one signalfd (the signals registered with OnSignal)
//            ── one eventfd (Post() from other threads)
//            ── the fds registered with Watch()
//
// Threading: every method except Post() and Stop() must be called on the
// loop's thread (the one that calls Run()). Callbacks run on that thread,
// one at a time; a callback may add or remove watches and timers, including
// its own. OnSignal() blocks the signal with pthread_sigmask() in the
// calling thread: register signals before any other thread is started so
// that every thread inherits the blocked mask and the signal reaches the
// signalfd.
//
// Time is CLOCK_MONOTONIC (std::chrono::steady_clock): wall-clock jumps
// never fire or delay a timer.
#pragma once

#include <sys/signalfd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "edgeward/base/fd.h"
#include "edgeward/base/status.h"

namespace edgeward::daemon {

class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;
  using TimerId = uint64_t;  // never 0
  using Callback = std::function<void()>;
  using FdCallback = std::function<void(uint32_t epoll_events)>;
  using SignalCallback = std::function<void(const signalfd_siginfo& info)>;

  // Creates the epoll, timer and wakeup fds (each O_CLOEXEC).
  static StatusOr<std::unique_ptr<EventLoop>> Create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Calls `callback` with the ready events (EPOLLIN, EPOLLOUT, EPOLLHUP,
  // EPOLLERR) whenever `fd` is ready for `events`. The fd is borrowed: the
  // caller keeps it open until Unwatch(). Watching an fd twice →
  // kAlreadyExists.
  Status Watch(int fd, uint32_t events, FdCallback callback);
  Status Modify(int fd, uint32_t events);
  // No-op for an fd that is not watched. Safe from inside any callback.
  void Unwatch(int fd);

  // Runs `callback` once, `delay` from now. Cancel() before it fires to
  // drop it; cancelling a fired or unknown id is a no-op.
  TimerId After(std::chrono::milliseconds delay, Callback callback);
  TimerId At(Clock::time_point deadline, Callback callback);
  void Cancel(TimerId id);

  // Delivers `signo` through the loop (see the threading note above).
  Status OnSignal(int signo, SignalCallback callback);

  // Thread-safe: queues `callback` to run on the loop thread and wakes it.
  void Post(Callback callback);

  // Runs until Stop(). Returns an error only when epoll_wait or reading one
  // of the loop's own fds fails (EINTR is retried).
  Status Run();
  // Thread-safe: Run() returns after the callback in progress.
  void Stop();

  Clock::time_point Now() const { return Clock::now(); }
  // Wake-ups so far (epoll_wait returns): the footprint bench and the idle
  // test read this to show that an idle agent sleeps.
  uint64_t wakeups() const { return wakeups_; }

 private:
  EventLoop(UniqueFd epoll, UniqueFd timer, UniqueFd wakeup);
  Status RearmTimer();
  void RunDueTimers();
  void RunPosted();
  void DrainSignals();

  UniqueFd epoll_;
  UniqueFd timer_;
  UniqueFd wakeup_;
  UniqueFd signal_;  // created by the first OnSignal()
  sigset_t signals_{};
  std::unordered_map<int, std::shared_ptr<FdCallback>> watches_;
  std::unordered_map<int, SignalCallback> signal_callbacks_;
  // deadline → (id, callback); ids_ maps id → deadline for Cancel().
  std::multimap<Clock::time_point, std::pair<TimerId, Callback>> timers_;
  std::unordered_map<TimerId, Clock::time_point> timer_ids_;
  TimerId next_timer_id_ = 1;
  std::mutex posted_mutex_;
  std::vector<Callback> posted_;
  bool stop_ = false;  // guarded by posted_mutex_ when set from Stop()
  uint64_t wakeups_ = 0;
};

}  // namespace edgeward::daemon
