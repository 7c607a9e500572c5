// systemd's notify protocol, by hand: it is one sendto() of a text datagram,
// not worth a libsystemd dependency (and its threads-unaware globals).
#include "edgeward/daemon/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "edgeward/base/errno_status.h"
#include "edgeward/daemon/event_loop.h"

namespace edgeward::daemon {

StatusOr<SdNotifier> SdNotifier::ForSocket(const std::string& path, std::chrono::microseconds watchdog) {
  SdNotifier n;
  sockaddr_un addr{};
  if (path.size() < 2 || (path[0] != '/' && path[0] != '@') || path.size() >= sizeof addr.sun_path ||
      path.find('\0') != std::string::npos) {
    return InvalidArgument("NOTIFY_SOCKET '" + path + "' is not an absolute path or @abstract name");
  }
  n.address_ = path;
  if (path[0] == '@') n.address_[0] = '\0';
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return EW_ERRNO("socket(AF_UNIX, SOCK_DGRAM)", "notify socket");
  n.fd_ = UniqueFd(fd);
  n.watchdog_ = watchdog;
  return n;
}

StatusOr<SdNotifier> SdNotifier::FromEnvironment() {
  const char* socket_env = std::getenv("NOTIFY_SOCKET");
  std::string path = socket_env != nullptr ? socket_env : "";
  std::chrono::microseconds watchdog{0};
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* pid = std::getenv("WATCHDOG_PID");
  if (usec != nullptr) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(usec, &end, 10);
    // WATCHDOG_PID names the process meant to ping; a forked helper that
    // inherited the variables must not.
    const bool for_us = pid == nullptr || std::strtoll(pid, nullptr, 10) == ::getpid();
    if (end != usec && *end == '\0' && v > 0 && for_us) watchdog = std::chrono::microseconds(v);
  }
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  if (path.empty()) return SdNotifier();
  return ForSocket(path, watchdog);
}

std::string SdNotifier::Sanitize(std::string_view line) {
  std::string out(line.substr(0, 512));
  for (char& c : out) {
    if (c == '\n' || c == '\0') c = ' ';
  }
  return out;
}

Status SdNotifier::Notify(std::string_view state) {
  if (!fd_.valid()) return Status::Ok();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, address_.data(), address_.size());
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
  ssize_t n;
  do {
    n = ::sendto(fd_.get(), state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return EW_ERRNO("sendto", "NOTIFY_SOCKET");
  if (static_cast<size_t>(n) != state.size()) return Internal("sendto(NOTIFY_SOCKET): short datagram");
  return Status::Ok();
}

void SdNotifier::StartWatchdog(EventLoop& loop) {
  if (!fd_.valid() || watchdog_.count() == 0) return;
  const auto period = std::max(std::chrono::milliseconds(1),
                               std::chrono::duration_cast<std::chrono::milliseconds>(watchdog_ / 2));
  // The timer re-arms itself; it stops with the loop.
  auto tick = std::make_shared<std::function<void()>>();
  *tick = [this, &loop, period, weak = std::weak_ptr<std::function<void()>>(tick)] {
    (void)Watchdog();  // a lost ping is systemd's to judge; nothing to do here
    if (auto t = weak.lock()) loop.After(period, [t] { (*t)(); });
  };
  loop.After(period, [tick] { (*tick)(); });
}

}  // namespace edgeward::daemon
