#include "edgeward/daemon/event_loop.h"

#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

#include <cerrno>
#include <climits>
#include <utility>

#include "edgeward/base/errno_status.h"

namespace edgeward::daemon {
namespace {

// The loop's own fds are told apart from watched fds by these tags in
// epoll_data.u64 (watched fds carry their fd number, always < 2^31).
constexpr uint64_t kTimerTag = 1ull << 40;
constexpr uint64_t kWakeupTag = 2ull << 40;
constexpr uint64_t kSignalTag = 3ull << 40;

Status AddToEpoll(int epoll_fd, int fd, uint32_t events, uint64_t tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) return EW_ERRNO("epoll_ctl(ADD)", "event loop");
  return Status::Ok();
}

}  // namespace

StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create() {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return EW_ERRNO("epoll_create1", "event loop");
  UniqueFd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!timer.valid()) return EW_ERRNO("timerfd_create", "event loop");
  UniqueFd wakeup(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wakeup.valid()) return EW_ERRNO("eventfd", "event loop");
  EW_RETURN_IF_ERROR(AddToEpoll(epoll.get(), timer.get(), EPOLLIN, kTimerTag));
  EW_RETURN_IF_ERROR(AddToEpoll(epoll.get(), wakeup.get(), EPOLLIN, kWakeupTag));
  return std::unique_ptr<EventLoop>(new EventLoop(std::move(epoll), std::move(timer), std::move(wakeup)));
}

EventLoop::EventLoop(UniqueFd epoll, UniqueFd timer, UniqueFd wakeup)
    : epoll_(std::move(epoll)), timer_(std::move(timer)), wakeup_(std::move(wakeup)) {
  sigemptyset(&signals_);
}

EventLoop::~EventLoop() = default;

Status EventLoop::Watch(int fd, uint32_t events, FdCallback callback) {
  if (fd < 0) return InvalidArgument("event loop: watch of a negative fd");
  if (watches_.count(fd) != 0) return AlreadyExists("event loop: fd " + std::to_string(fd) + " is already watched");
  EW_RETURN_IF_ERROR(AddToEpoll(epoll_.get(), fd, events, static_cast<uint64_t>(fd)));
  watches_.emplace(fd, std::make_shared<FdCallback>(std::move(callback)));
  return Status::Ok();
}

Status EventLoop::Modify(int fd, uint32_t events) {
  if (watches_.count(fd) == 0) return NotFound("event loop: fd " + std::to_string(fd) + " is not watched");
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = static_cast<uint64_t>(fd);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) return EW_ERRNO("epoll_ctl(MOD)", "event loop");
  return Status::Ok();
}

void EventLoop::Unwatch(int fd) {
  if (watches_.erase(fd) == 0) return;
  // ENOENT/EBADF: the fd was closed (which removes it from the epoll set)
  // before Unwatch; nothing is left to undo either way.
  (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

EventLoop::TimerId EventLoop::After(std::chrono::milliseconds delay, Callback callback) {
  return At(Clock::now() + delay, std::move(callback));
}

EventLoop::TimerId EventLoop::At(Clock::time_point deadline, Callback callback) {
  TimerId id = next_timer_id_++;
  timers_.emplace(deadline, std::make_pair(id, std::move(callback)));
  timer_ids_.emplace(id, deadline);
  // A timerfd_settime failure leaves the timer queued; the next rearm (any
  // wakeup) retries. Not fatal to the caller, so not returned.
  (void)RearmTimer();
  return id;
}

void EventLoop::Cancel(TimerId id) {
  auto it = timer_ids_.find(id);
  if (it == timer_ids_.end()) return;
  auto [first, last] = timers_.equal_range(it->second);
  for (auto t = first; t != last; ++t) {
    if (t->second.first == id) {
      timers_.erase(t);
      break;
    }
  }
  timer_ids_.erase(it);
  (void)RearmTimer();
}

Status EventLoop::RearmTimer() {
  itimerspec spec{};
  if (!timers_.empty()) {
    auto delta = timers_.begin()->first - Clock::now();
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(delta).count();
    if (ns < 1) ns = 1;  // an all-zero it_value would disarm the timer
    spec.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    spec.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  }
  if (::timerfd_settime(timer_.get(), 0, &spec, nullptr) != 0) return EW_ERRNO("timerfd_settime", "event loop");
  return Status::Ok();
}

Status EventLoop::OnSignal(int signo, SignalCallback callback) {
  sigset_t one;
  if (sigemptyset(&one) != 0 || sigaddset(&one, signo) != 0) return InvalidArgument("event loop: bad signal " + std::to_string(signo));
  int rc = ::pthread_sigmask(SIG_BLOCK, &one, nullptr);
  if (rc != 0) return ErrnoStatus("pthread_sigmask(SIG_BLOCK)", "event loop", rc);
  if (sigaddset(&signals_, signo) != 0) return InvalidArgument("event loop: bad signal " + std::to_string(signo));
  bool first = !signal_.valid();
  int fd = ::signalfd(first ? -1 : signal_.get(), &signals_, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return EW_ERRNO("signalfd", "event loop");
  if (first) {
    signal_ = UniqueFd(fd);
    EW_RETURN_IF_ERROR(AddToEpoll(epoll_.get(), signal_.get(), EPOLLIN, kSignalTag));
  }
  signal_callbacks_[signo] = std::move(callback);
  return Status::Ok();
}

void EventLoop::Post(Callback callback) {
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    posted_.push_back(std::move(callback));
  }
  uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: the loop will wake anyway.
  (void)!::write(wakeup_.get(), &one, sizeof one);
}

void EventLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    stop_ = true;
  }
  uint64_t one = 1;
  (void)!::write(wakeup_.get(), &one, sizeof one);
}

void EventLoop::RunDueTimers() {
  uint64_t expirations = 0;
  // EAGAIN: woken by a rearm race; the due check below is what matters.
  (void)!::read(timer_.get(), &expirations, sizeof expirations);
  auto now = Clock::now();
  // Take the due timers out first: a callback may add (or cancel) timers.
  std::vector<std::pair<TimerId, Callback>> due;
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto node = timers_.extract(timers_.begin());
    timer_ids_.erase(node.mapped().first);
    due.push_back(std::move(node.mapped()));
  }
  for (auto& [id, cb] : due) cb();
}

void EventLoop::RunPosted() {
  uint64_t count = 0;
  (void)!::read(wakeup_.get(), &count, sizeof count);
  std::vector<Callback> work;
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    work.swap(posted_);
  }
  for (auto& cb : work) cb();
}

void EventLoop::DrainSignals() {
  for (;;) {
    signalfd_siginfo info{};
    ssize_t n = ::read(signal_.get(), &info, sizeof info);
    if (n != static_cast<ssize_t>(sizeof info)) return;  // EAGAIN: drained
    auto it = signal_callbacks_.find(static_cast<int>(info.ssi_signo));
    if (it != signal_callbacks_.end()) it->second(info);
  }
}

Status EventLoop::Run() {
  constexpr int kMaxEvents = 32;
  epoll_event events[kMaxEvents];
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(posted_mutex_);
      if (stop_) {
        stop_ = false;
        return Status::Ok();
      }
    }
    EW_RETURN_IF_ERROR(RearmTimer());
    int n = ::epoll_wait(epoll_.get(), events, kMaxEvents, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return EW_ERRNO("epoll_wait", "event loop");
    }
    ++wakeups_;
    for (int i = 0; i < n; ++i) {
      uint64_t tag = events[i].data.u64;
      if (tag == kTimerTag) {
        RunDueTimers();
      } else if (tag == kWakeupTag) {
        RunPosted();
      } else if (tag == kSignalTag) {
        DrainSignals();
      } else {
        // Hold the callback alive: it may Unwatch() itself while running.
        auto it = watches_.find(static_cast<int>(tag));
        if (it == watches_.end()) continue;  // unwatched by an earlier callback in this batch
        std::shared_ptr<FdCallback> cb = it->second;
        (*cb)(events[i].events);
      }
    }
  }
}

}  // namespace edgeward::daemon
