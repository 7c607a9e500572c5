#include "edgeward/seccomp/supervisor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <nlohmann/json.hpp>
#include <vector>

#include "arch.h"
#include "build.h"
#include "decision.h"
#include "edgeward/base/errno_status.h"

namespace edgeward::seccomp {
namespace {

using policy::SeccompActionKind;

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL  // Linux 6.9: a pidfd for one thread
#endif

std::string ModeName(policy::Mode m) {
  switch (m) {
    case policy::Mode::kEnforce: return "enforce";
    case policy::Mode::kAudit: return "audit";
    case policy::Mode::kLearn: return "learn";
  }
  return "enforce";
}

std::string Rfc3339Millis(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[80];
  snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

// Reads a NUL-terminated string of at most PATH_MAX from the workload,
// page by page so an unmapped page after the string doesn't fail the read.
std::optional<std::string> ReadRemoteString(pid_t pid, uint64_t addr) {
  if (addr == 0) return std::nullopt;
  std::string out;
  constexpr size_t kPage = 4096, kMax = 4096;
  while (out.size() < kMax) {
    size_t chunk = kPage - (addr % kPage);
    char buf[kPage];
    iovec local{buf, chunk};
    iovec remote{reinterpret_cast<void*>(addr), chunk};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) return std::nullopt;
    const char* nul = static_cast<const char*>(memchr(buf, '\0', static_cast<size_t>(n)));
    if (nul != nullptr) {
      out.append(buf, static_cast<size_t>(nul - buf));
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
    addr += static_cast<uint64_t>(n);
  }
  return std::nullopt;
}

bool ReadRemote(pid_t pid, uint64_t addr, void* dst, size_t len) {
  iovec local{dst, len};
  iovec remote{reinterpret_cast<void*>(addr), len};
  return process_vm_readv(pid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(len);
}

std::string ReadLink(const std::string& path) {
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// Lexically normal absolute path ("." and ".." resolved, no "//").
std::string Normalize(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string p = path.substr(i, j - i);
    if (p == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!p.empty() && p != ".") {
      parts.push_back(p);
    }
    i = j + 1;
  }
  std::string out;
  for (const std::string& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

// The absolute path a *at() call names, relative to the workload's cwd or dirfd.
std::string Absolute(pid_t pid, int64_t dirfd, const std::string& path) {
  if (!path.empty() && path[0] == '/') return Normalize(path);
  std::string base = dirfd == AT_FDCWD ? ReadLink("/proc/" + std::to_string(pid) + "/cwd")
                                       : ReadLink("/proc/" + std::to_string(pid) + "/fd/" + std::to_string(dirfd));
  if (base.empty() || base[0] != '/') return {};
  return Normalize(base + "/" + path);
}

// A pidfd for the thread; falls back to a process pidfd on kernels before
// 6.9 (where a thread id that isn't the leader fails).
UniqueFd PidfdFor(pid_t tid) {
  long fd = syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
  if (fd < 0 && errno == EINVAL) fd = syscall(SYS_pidfd_open, tid, 0);
  return UniqueFd(static_cast<int>(fd));
}

// The thread group (process) id of thread `tid`, from /proc/<tid>/status;
// 0 when it can't be read (the thread is gone, or no /proc).
pid_t ThreadGroupOf(pid_t tid) {
  std::string path = "/proc/" + std::to_string(tid) + "/status";
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return 0;
  char buf[2048];
  ssize_t n = read(fd.get(), buf, sizeof(buf) - 1);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* t = strstr(buf, "\nTgid:");
  if (t == nullptr) return 0;
  t += 6;
  while (*t == '\t' || *t == ' ') ++t;
  long v = 0;
  for (; *t >= '0' && *t <= '9'; ++t) {
    v = v * 10 + (*t - '0');
    if (v > 0x3fffffff) return 0;
  }
  return static_cast<pid_t>(v);
}

}  // namespace

std::string ViolationEventJson(const ViolationEvent& e) {
  nlohmann::ordered_json j;
  j["type"] = "sandbox.violation";
  j["time"] = Rfc3339Millis(e.time);
  j["workload"] = {{"name", e.workload}, {"pid", e.pid}};
  nlohmann::ordered_json args = nlohmann::ordered_json::array();
  for (uint64_t a : e.args) args.push_back(a);
  j["syscall"] = {{"name", e.syscall}, {"nr", e.nr}, {"arch", e.arch}, {"args", args}};
  j["action"] = e.action;
  j["mode"] = ModeName(e.mode);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

struct Supervisor::Buffers {
  std::vector<uint8_t> req, resp;
};

Supervisor::Supervisor(UniqueFd listener, const PreparedFilter& filter, policy::Mode mode, std::string workload_name,
                       std::function<void(const ViolationEvent&)> on_violation)
    : listener_(std::move(listener)),
      table_(filter.table()),
      arch_(filter.arch()),
      mode_(mode),
      workload_(std::move(workload_name)),
      on_violation_(std::move(on_violation)),
      buffers_(std::make_unique<Buffers>()) {
  // The kernel's structs may be larger than our headers'; size by its word.
  seccomp_notif_sizes sizes{};
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) {
    sizes.seccomp_notif = sizeof(seccomp_notif);
    sizes.seccomp_notif_resp = sizeof(seccomp_notif_resp);
  }
  buffers_->req.resize(std::max<size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)));
  buffers_->resp.resize(std::max<size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)));
  if (mode_ == policy::Mode::kLearn) {
    for (const std::string& n : internal::LearnCore()) {
      if (internal::SyscallNumber(arch_, n) >= 0) syscalls_.insert(n);
    }
  }
}

Supervisor::~Supervisor() = default;
Supervisor::Supervisor(Supervisor&&) noexcept = default;
Supervisor& Supervisor::operator=(Supervisor&&) noexcept = default;

bool Supervisor::StillValid(uint64_t id) const {
  return ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

// Why this is safe against pid reuse: while notification `id` is valid its
// thread is alive, blocked in the syscall, so neither its tid nor its
// thread group's id (held by the group leader until every thread is gone)
// can name another task. Each id below is checked valid *after* the lookup
// that used it.
Supervisor::Delivery Supervisor::SignalCaller(pid_t tid, uint64_t id, int sig) const {
  if (sig == SIGSYS) {
    // trap: SIGSYS belongs to the calling thread. Linux >= 6.9 gives a
    // thread pidfd; before, tgkill below names the thread and its process.
    UniqueFd thread(static_cast<int>(syscall(SYS_pidfd_open, tid, PIDFD_THREAD)));
    if (thread.valid()) {
      if (!StillValid(id)) return Delivery::kGone;
      if (syscall(SYS_pidfd_send_signal, thread.get(), sig, nullptr, 0) == 0) return Delivery::kDelivered;
      return errno == ESRCH ? Delivery::kGone : Delivery::kImpossible;
    }
  }
  const pid_t tgid = ThreadGroupOf(tid);
  if (!StillValid(id)) return Delivery::kGone;
  if (tgid <= 0) return Delivery::kImpossible;
  if (sig == SIGSYS) {
    if (syscall(SYS_tgkill, tgid, tid, sig) == 0) return Delivery::kDelivered;
    return errno == ESRCH && !StillValid(id) ? Delivery::kGone : Delivery::kImpossible;
  }
  // kill_process: the whole process, whichever thread asked.
  UniqueFd process(static_cast<int>(syscall(SYS_pidfd_open, tgid, 0)));
  if (!StillValid(id)) return Delivery::kGone;
  if (!process.valid()) return Delivery::kImpossible;
  if (syscall(SYS_pidfd_send_signal, process.get(), sig, nullptr, 0) == 0) return Delivery::kDelivered;
  return errno == ESRCH && !StillValid(id) ? Delivery::kGone : Delivery::kImpossible;
}

void Supervisor::Record(int nr, const std::string& name, pid_t pid, const uint64_t* args, uint64_t id) {
  if (!name.empty()) syscalls_.insert(name);
  if (mode_ != policy::Mode::kLearn) return;
  auto add_path = [&](int64_t dirfd, uint64_t addr, bool write) {
    auto p = ReadRemoteString(pid, addr);
    // The memory was read while the thread waits; if the notification is no
    // longer valid the thread is gone and what we read may be anyone's.
    if (!p || !StillValid(id)) return;
    std::string abs = Absolute(pid, dirfd, *p);
    if (abs.empty()) return;
    (write ? paths_written_ : paths_read_).insert(abs);
  };
  auto writes = [](uint64_t flags) { return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)) != 0; };
  const int32_t at = static_cast<int32_t>(args[0]);
  if (name == "openat") {
    add_path(at, args[1], writes(args[2]));
  } else if (name == "open") {
    add_path(AT_FDCWD, args[0], writes(args[1]));
  } else if (name == "creat") {
    add_path(AT_FDCWD, args[0], true);
  } else if (name == "openat2") {
    uint64_t flags = 0;
    if (ReadRemote(pid, args[2], &flags, sizeof(flags))) add_path(at, args[1], writes(flags));
  } else if (name == "execve") {
    add_path(AT_FDCWD, args[0], false);
  } else if (name == "execveat") {
    add_path(at, args[1], false);
  } else if (name == "bind" || name == "connect") {
    sockaddr_storage ss{};
    size_t len = std::min<uint64_t>(args[2], sizeof(sockaddr_in6));
    if (len < sizeof(sa_family_t) || !ReadRemote(pid, args[1], &ss, len) || !StillValid(id)) return;
    uint16_t port = 0;
    if (ss.ss_family == AF_INET && len >= sizeof(sockaddr_in)) {
      port = ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
    } else if (ss.ss_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
      port = ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
    }
    if (port == 0) return;
    // Only TCP ports belong in the policy: ask the socket its type through
    // a copy of the workload's fd (pidfd_getfd, Linux 5.6).
    UniqueFd pidfd = PidfdFor(pid);
    if (pidfd.valid()) {
      UniqueFd sock(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd.get(), static_cast<int>(args[0]), 0)));
      int type = 0;
      socklen_t tl = sizeof(type);
      if (sock.valid() && getsockopt(sock.get(), SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type != SOCK_STREAM) return;
    }
    (name == "bind" ? tcp_bind_ : tcp_connect_).insert(port);
  }
  (void)nr;
}

Status Supervisor::HandleReady() {
  // Bounded, so a workload that spins on a denied call can't starve the
  // launcher's other fds; poll() reports the rest right away.
  constexpr int kMaxPerCall = 256;
  for (int round = 0; round < kMaxPerCall; ++round) {
    pollfd p{listener_.get(), POLLIN, 0};
    int r = poll(&p, 1, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return EW_ERRNO("poll", "seccomp listener");
    if (r == 0 || (p.revents & POLLIN) == 0) return Status::Ok();

    auto* req = reinterpret_cast<seccomp_notif*>(buffers_->req.data());
    auto* resp = reinterpret_cast<seccomp_notif_resp*>(buffers_->resp.data());
    std::fill(buffers_->req.begin(), buffers_->req.end(), 0);  // the kernel insists on a zeroed request
    if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_RECV, req) != 0) {
      // ENOENT: the thread died between poll and receive.
      if (errno == EINTR || errno == ENOENT) continue;
      return EW_ERRNO("ioctl", "SECCOMP_IOCTL_NOTIF_RECV");
    }
    ++handled_;
    std::fill(buffers_->resp.begin(), buffers_->resp.end(), 0);
    resp->id = req->id;

    const int nr = req->data.nr;
    const pid_t pid = static_cast<pid_t>(req->pid);
    uint64_t args[6];
    std::copy(std::begin(req->data.args), std::end(req->data.args), args);
    policy::SeccompAction action{SeccompActionKind::kErrno, ENOSYS};
    bool dangerous = false;
    std::string name;
    if (req->data.arch == internal::AuditArch(arch_)) {
      internal::Evaluated ev = internal::EvaluateRule(*table_, nr, std::span<const uint64_t, 6>(args));
      action = ev.action;
      dangerous = ev.dangerous;
      auto it = table_->syscalls.find(nr);
      name = it != table_->syscalls.end() ? it->second.name : internal::SyscallName(arch_, nr);
    }
    const bool violation = action.kind != SeccompActionKind::kAllow;
    Record(nr, name, pid, args, req->id);

    std::string taken = internal::ActionName(action);
    std::optional<Status> undeliverable;
    // audit and learn relax the policy's decisions, never the dangerous
    // set's: those are applied as in enforce (learn records them above, so
    // the learned policy names what would need allowDangerous).
    if (!violation || (mode_ != policy::Mode::kEnforce && !dangerous)) {
      resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
      taken = "allow";
    } else {
      switch (action.kind) {
        case SeccompActionKind::kErrno: resp->error = -static_cast<int>(action.errno_value); break;
        case SeccompActionKind::kKillProcess:
        case SeccompActionKind::kTrap: {
          // Signal before the reply: a killed thread must not run another
          // instruction, and SIGSYS must be pending when the call returns.
          int sig = action.kind == SeccompActionKind::kKillProcess ? SIGKILL : SIGSYS;
          if (SignalCaller(pid, req->id, sig) == Delivery::kImpossible) {
            // Never degrade to an error return: end the whole sandbox.
            if (sandbox_init_ > 0 && kill(sandbox_init_, SIGKILL) == 0) {
              taken = "kill_process";
            } else {
              undeliverable = Internal("seccomp supervisor: can't deliver " + taken + " to thread " +
                                       std::to_string(pid) + " (no thread group, no sandbox init to kill)");
            }
          }
          resp->error = action.kind == SeccompActionKind::kTrap ? -ENOSYS : -EPERM;
          break;
        }
        case SeccompActionKind::kKillThread:  // native in enforce; here only if the table changed
          resp->error = -EPERM;
          break;
        case SeccompActionKind::kLog: resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE; break;
        case SeccompActionKind::kNotify:  // "tell the supervisor": reported, then let through
        case SeccompActionKind::kAllow:
          resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
          taken = "allow";
          break;
      }
    }
    if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_SEND, resp) != 0 && errno != ENOENT) {
      return EW_ERRNO("ioctl", "SECCOMP_IOCTL_NOTIF_SEND");
    }
    if (violation && on_violation_) {
      ViolationEvent e;
      e.workload = workload_;
      e.pid = pid;
      e.syscall = name;
      e.nr = nr;
      e.arch = std::string(ArchName(arch_));
      std::copy(std::begin(args), std::end(args), e.args);
      e.action = taken;
      e.mode = mode_;
      e.time = std::chrono::system_clock::now();
      on_violation_(e);
    }
    if (undeliverable) return *undeliverable;
  }
  return Status::Ok();
}

const policy::LearnedUsage& Supervisor::learned() const {
  learned_.syscalls.assign(syscalls_.begin(), syscalls_.end());
  learned_.paths_read.assign(paths_read_.begin(), paths_read_.end());
  learned_.paths_written.assign(paths_written_.begin(), paths_written_.end());
  learned_.tcp_bind.assign(tcp_bind_.begin(), tcp_bind_.end());
  learned_.tcp_connect.assign(tcp_connect_.begin(), tcp_connect_.end());
  return learned_;
}

}  // namespace edgeward::seccomp
