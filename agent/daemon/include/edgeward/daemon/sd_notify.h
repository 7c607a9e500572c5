// SdNotifier: the daemon's side of systemd's notify protocol (Type=notify),
// written out here instead of linking libsystemd: one datagram of
// "KEY=VALUE\n..." lines to the AF_UNIX socket named by $NOTIFY_SOCKET
// (a leading '@' names an abstract socket).
//
//   READY=1     start-up finished (config loaded, workloads started)
//   STATUS=...  one line of human-readable state for `systemctl status`
//   WATCHDOG=1  keep-alive, sent from a loop timer at half $WATCHDOG_USEC,
//               so a wedged main loop gets the agent restarted
//   STOPPING=1  graceful stop begun
//
// Without $NOTIFY_SOCKET (not started by systemd) every call is a no-op that
// returns OK. Not thread-safe: the loop thread owns it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "edgeward/base/fd.h"
#include "edgeward/base/status.h"

namespace edgeward::daemon {

class EventLoop;

class SdNotifier {
 public:
  // Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID, then unsets them
  // so that workloads started later don't inherit (and misuse) them.
  // kInvalidArgument for a socket path that can't be a Unix address.
  static StatusOr<SdNotifier> FromEnvironment();
  // Notifies `path` ("/run/..." or "@abstract"); `watchdog` 0 = none.
  static StatusOr<SdNotifier> ForSocket(const std::string& path, std::chrono::microseconds watchdog);
  // A notifier that does nothing.
  SdNotifier() = default;

  bool enabled() const { return fd_.valid(); }
  // The watchdog period systemd expects pings within (0 = no watchdog).
  std::chrono::microseconds watchdog_interval() const { return watchdog_; }

  // Sends `state` (newline-separated assignments) as one datagram.
  // kInternal naming sendto() on failure (e.g. the manager's socket is gone).
  Status Notify(std::string_view state);
  Status Ready(std::string_view status_line) { return Notify("READY=1\nSTATUS=" + Sanitize(status_line)); }
  Status SetStatus(std::string_view status_line) { return Notify("STATUS=" + Sanitize(status_line)); }
  Status Watchdog() { return Notify("WATCHDOG=1"); }
  Status Stopping() { return Notify("STOPPING=1"); }

  // Arms a repeating loop timer that sends WATCHDOG=1 every half watchdog
  // interval. No-op without a watchdog. The notifier must outlive the loop's
  // timers (the daemon owns both and stops the loop first).
  void StartWatchdog(EventLoop& loop);

 private:
  static std::string Sanitize(std::string_view line);  // one line, no NUL
  std::string address_;  // sun_path contents (leading NUL for abstract)
  UniqueFd fd_;
  std::chrono::microseconds watchdog_{0};
};

}  // namespace edgeward::daemon
