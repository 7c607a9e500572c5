// The control socket server and client. The server is a handful of
// non-blocking fds on the event loop: one request line in, one response line
// out (or a stream of event lines for a follower), with every peer checked
// against its kernel-reported credentials before a byte of it is read.
#include "edgeward/daemon/control.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <vector>

#include "edgeward/base/errno_status.h"
#include "edgeward/base/file.h"
#include "edgeward/daemon/event_loop.h"

namespace edgeward::daemon {
namespace {

using nlohmann::json;

constexpr std::pair<std::string_view, ControlRequest::Kind> kRequestNames[] = {
    {"status", ControlRequest::Kind::kStatus},
    {"workloads", ControlRequest::Kind::kWorkloads},
    {"events", ControlRequest::Kind::kEvents},
    {"attest_now", ControlRequest::Kind::kAttestNow},
    {"policy_show", ControlRequest::Kind::kPolicyShow},
    {"quarantine_release", ControlRequest::Kind::kQuarantineRelease},
};

std::string ErrorLine(const Status& s) {
  json j = {{"ok", false}, {"error", {{"code", std::string(StatusCodeName(s.code()))}, {"message", s.message()}}}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

StatusCode CodeFromName(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(StatusCode::kUnimplemented); ++i) {
    if (StatusCodeName(static_cast<StatusCode>(i)) == name) return static_cast<StatusCode>(i);
  }
  return StatusCode::kInternal;
}

sockaddr_un UnixAddress(const std::string& path, socklen_t* len) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), std::min(path.size(), sizeof addr.sun_path - 1));
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return addr;
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

std::string_view ControlRequestName(ControlRequest::Kind kind) {
  for (const auto& [name, k] : kRequestNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

StatusOr<ControlRequest> ParseControlRequest(std::string_view line) {
  if (line.size() > kMaxControlRequestBytes) {
    return InvalidArgument("request longer than " + std::to_string(kMaxControlRequestBytes) + " bytes");
  }
  // No exceptions: a parse error gives a discarded value.
  json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("request is not valid JSON");
  if (!j.is_object()) return InvalidArgument("request must be a JSON object");
  ControlRequest r;
  auto it = j.find("request");
  if (it == j.end() || !it->is_string()) return InvalidArgument("field request: missing or not a string");
  const std::string& name = it->get_ref<const std::string&>();
  bool known = false;
  for (const auto& [n, k] : kRequestNames) {
    if (n == name) r.kind = k, known = true;
  }
  if (!known) {
    return InvalidArgument("field request: unknown request '" + name.substr(0, 64) +
                           "' (known: status, workloads, events, attest_now, policy_show, quarantine_release)");
  }
  for (auto f = j.begin(); f != j.end(); ++f) {
    const std::string& key = f.key();
    if (key == "request") continue;
    if (r.kind != ControlRequest::Kind::kEvents || (key != "follow" && key != "since")) {
      return InvalidArgument("field " + key.substr(0, 64) + ": not accepted by request '" + name + "'");
    }
    if (key == "follow") {
      if (!f->is_boolean()) return InvalidArgument("field follow: expected true or false");
      r.follow = f->get<bool>();
    } else {
      if (!f->is_number_unsigned()) return InvalidArgument("field since: expected a non-negative integer");
      r.since = f->get<uint64_t>();
    }
  }
  return r;
}

StatusOr<std::unique_ptr<ControlServer>> ControlServer::Start(EventLoop& loop, ControlOptions options,
                                                              ControlHandler handler) {
  const std::string& path = options.socket_path;
  if (path.empty() || path.front() != '/' || path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return InvalidArgument("control socket path '" + path + "' is not an absolute path of at most 107 bytes");
  }
  gid_t gid = 0;
  bool have_group = false;
  if (!options.group.empty()) {
    group grp{};
    group* found = nullptr;
    std::vector<char> buf(16384);
    const int rc = ::getgrnam_r(options.group.c_str(), &grp, buf.data(), buf.size(), &found);
    if (rc == 0 && found != nullptr) {
      gid = found->gr_gid;
      have_group = true;
    } else {
      spdlog::warn("control: group '{}' not found; the control socket is for root only", options.group);
    }
  }

  const std::string dir = DirName(path);
  EW_RETURN_IF_ERROR(MakeDirs(dir, 0750));
  // Only a directory we just made (or that already is ours) gets our
  // group; we never chown a shared directory such as /tmp.
  struct stat dst {};
  if (::stat(dir.c_str(), &dst) != 0) return EW_ERRNO("stat", dir);
  if (have_group && dst.st_uid == ::geteuid() && (dst.st_mode & 0777) == 0750 && dst.st_gid != gid) {
    if (::chown(dir.c_str(), static_cast<uid_t>(-1), gid) != 0) return EW_ERRNO("chown", dir);
  }

  int raw = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (raw < 0) return EW_ERRNO("socket(AF_UNIX)", path);
  UniqueFd listener(raw);

  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return InvalidArgument(path + " exists and is not a socket");
    // A live agent answers a connect(); a stale file from a crash doesn't.
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!probe.valid()) return EW_ERRNO("socket(AF_UNIX)", path);
    socklen_t len;
    sockaddr_un addr = UnixAddress(path, &len);
    if (::connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0) {
      return AlreadyExists("another agent is listening on " + path);
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return EW_ERRNO("unlink", path);
  }
  socklen_t len;
  sockaddr_un addr = UnixAddress(path, &len);
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) return EW_ERRNO("bind", path);
  // The directory (0750) already keeps others out; these close the window
  // for group members between bind() and here.
  if (::chmod(path.c_str(), 0660) != 0) return EW_ERRNO("chmod", path);
  if (have_group && ::chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0) return EW_ERRNO("chown", path);
  if (::listen(listener.get(), 16) != 0) return EW_ERRNO("listen", path);

  std::unique_ptr<ControlServer> server(
      new ControlServer(loop, std::move(options), std::move(handler), std::move(listener), gid, have_group));
  EW_RETURN_IF_ERROR(loop.Watch(server->listener_.get(), EPOLLIN, [s = server.get()](uint32_t) { s->OnAccept(); }));
  return server;
}

ControlServer::ControlServer(EventLoop& loop, ControlOptions options, ControlHandler handler, UniqueFd listener,
                             gid_t gid, bool have_group)
    : loop_(loop),
      options_(std::move(options)),
      handler_(std::move(handler)),
      listener_(std::move(listener)),
      gid_(gid),
      have_group_(have_group) {}

ControlServer::~ControlServer() {
  for (auto& [fd, c] : connections_) loop_.Unwatch(fd);
  connections_.clear();
  loop_.Unwatch(listener_.get());
  ::unlink(options_.socket_path.c_str());  // best effort: a leftover is replaced at the next start
}

bool ControlServer::Authorized(int fd, uid_t uid, gid_t gid) const {
  if (uid == 0 || uid == ::geteuid()) return true;
  if (!have_group_) return false;
  if (gid == gid_) return true;
  // SO_PEERGROUPS: the peer's actual supplementary groups as the kernel
  // holds them (not what /etc/group says the user should have).
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 2; ++attempt) {
    socklen_t len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
      groups.resize(len / sizeof(gid_t));
      return std::find(groups.begin(), groups.end(), gid_) != groups.end();
    }
    if (errno != ERANGE) {
      spdlog::warn("control: getsockopt(SO_PEERGROUPS): {}", std::strerror(errno));
      return false;
    }
    groups.resize(len / sizeof(gid_t) + 1);
  }
  return false;
}

void ControlServer::OnAccept() {
  for (;;) {
    int raw = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (raw < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      spdlog::warn("control: accept4: {}", std::strerror(errno));  // e.g. EMFILE: retried on the next wakeup
      return;
    }
    auto c = std::make_unique<Connection>();
    c->fd = UniqueFd(raw);
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(raw, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
      spdlog::warn("control: getsockopt(SO_PEERCRED): {}", std::strerror(errno));
      continue;  // closes the connection
    }
    c->uid = cred.uid;
    c->pid = cred.pid;
    if (!Authorized(raw, cred.uid, cred.gid)) {
      ++refused_;
      spdlog::warn("control: refused peer uid={} gid={} pid={} (not root and not in group '{}')", cred.uid,
                   cred.gid, cred.pid, options_.group);
      const std::string line =
          ErrorLine(PermissionDenied("uid " + std::to_string(cred.uid) + " may not use the agent's control socket"));
      // Best effort, non-blocking; the peer learns why before the close.
      (void)!::send(raw, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      continue;
    }
    if (connections_.size() >= options_.max_connections) {
      ++refused_;
      const std::string line = ErrorLine(ResourceExhausted("too many control connections"));
      (void)!::send(raw, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      continue;
    }
    Status w = loop_.Watch(raw, EPOLLIN | EPOLLRDHUP, [this, raw](uint32_t ev) {
      if (ev & EPOLLOUT) OnWritable(raw);
      if (connections_.count(raw) && (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) OnReadable(raw);
    });
    if (!w.ok()) {
      spdlog::warn("control: {}", w.message());
      continue;
    }
    spdlog::debug("control: peer uid={} pid={} connected", cred.uid, cred.pid);
    connections_.emplace(raw, std::move(c));
  }
}

void ControlServer::OnReadable(int fd) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  Connection& c = *it->second;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      if (c.follower || c.close_after_write) continue;  // a request was answered; ignore the rest
      c.in.append(buf, static_cast<size_t>(n));
      const size_t nl = c.in.find('\n');
      if (nl != std::string::npos) {
        std::string line = c.in.substr(0, nl);
        c.in.clear();
        HandleLine(c, line);
        if (!connections_.count(fd)) return;
      } else if (c.in.size() > kMaxControlRequestBytes) {
        c.in.clear();
        c.close_after_write = true;
        Queue(c, ErrorLine(InvalidArgument("request longer than " + std::to_string(kMaxControlRequestBytes) +
                                           " bytes")),
              /*bounded=*/false);
        return;
      }
      continue;
    }
    if (n == 0) {  // peer closed (or shut down its write side)
      if (c.close_after_write && !c.out.empty()) {
        // Level-triggered EOF would wake us forever: wait for writability only.
        (void)loop_.Modify(fd, EPOLLOUT);
        return;
      }
      Close(fd);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    Close(fd);
    return;
  }
}

void ControlServer::HandleLine(Connection& c, std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto req = ParseControlRequest(line);
  // Queue() may close `c` (done writing, or peer gone): set its flags first
  // and never touch it afterwards.
  if (!req.ok()) {
    c.close_after_write = true;
    Queue(c, ErrorLine(req.status()), /*bounded=*/false);
    return;
  }
  spdlog::debug("control: uid={} pid={} request {}", c.uid, c.pid, ControlRequestName(req->kind));
  if (req->kind == ControlRequest::Kind::kEvents) {
    c.follower = req->follow;
    c.close_after_write = !req->follow;
    Queue(c, "{\"ok\":true,\"result\":" + EventsResult(req->since) + "}\n", /*bounded=*/false);
    return;
  }
  if (req->kind == ControlRequest::Kind::kQuarantineRelease && c.uid != 0 && c.uid != ::geteuid()) {
    // Group members may look; reopening a quarantined node's network is a
    // response decision for root (or the agent's own user) only.
    spdlog::warn("control: refused quarantine_release from uid={} pid={} (root only)", c.uid, c.pid);
    c.close_after_write = true;
    Queue(c, ErrorLine(PermissionDenied("quarantine release is for root only")), /*bounded=*/false);
    return;
  }
  StatusOr<std::string> result = handler_ ? handler_(*req) : StatusOr<std::string>(Unimplemented("no handler"));
  c.close_after_write = true;
  Queue(c, result.ok() ? "{\"ok\":true,\"result\":" + *result + "}\n" : ErrorLine(result.status()),
        /*bounded=*/false);
}

std::string ControlServer::EventsResult(uint64_t since) const {
  std::string out = "{\"events\":[";
  bool first = true;
  for (const auto& [seq, event] : history_) {
    if (seq <= since) continue;
    if (!first) out += ',';
    first = false;
    out += "{\"seq\":" + std::to_string(seq) + ",\"event\":" + event + "}";
  }
  out += "],\"last_seq\":" + std::to_string(next_seq_ - 1) + "}";
  return out;
}

void ControlServer::PublishEvent(std::string_view json_object) {
  // The history is spliced into responses verbatim: only a well-formed,
  // single-line object may enter it.
  if (json_object.find('\n') != std::string_view::npos || !json::accept(json_object) ||
      json_object.find_first_not_of(" \t") == std::string_view::npos ||
      json_object[json_object.find_first_not_of(" \t")] != '{') {
    spdlog::warn("control: dropped a malformed event line ({} bytes)", json_object.size());
    return;
  }
  const uint64_t seq = next_seq_++;
  history_.emplace_back(seq, std::string(json_object));
  while (history_.size() > options_.event_history) history_.pop_front();
  const std::string line = "{\"seq\":" + std::to_string(seq) + ",\"event\":" + std::string(json_object) + "}\n";
  std::vector<int> followers;
  for (auto& [fd, c] : connections_) {
    if (c->follower) followers.push_back(fd);
  }
  for (int fd : followers) {
    auto it = connections_.find(fd);
    if (it != connections_.end()) Queue(*it->second, line, /*bounded=*/true);
  }
}

void ControlServer::Queue(Connection& c, std::string_view text, bool bounded) {
  if (bounded && c.out.size() + text.size() > options_.max_pending_bytes) {
    spdlog::warn("control: dropping slow reader uid={} pid={} ({} bytes unsent)", c.uid, c.pid, c.out.size());
    Close(c.fd.get());
    return;
  }
  c.out.append(text);
  Flush(c);
}

void ControlServer::Flush(Connection& c) {
  const int fd = c.fd.get();
  while (!c.out.empty()) {
    ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      c.out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Only writability matters until the backlog is out (hang-ups are
      // always reported).
      (void)loop_.Modify(fd, EPOLLOUT);
      return;
    }
    Close(fd);  // EPIPE, ECONNRESET: the peer is gone
    return;
  }
  (void)loop_.Modify(fd, EPOLLIN | EPOLLRDHUP);
  if (c.close_after_write) Close(fd);
}

void ControlServer::OnWritable(int fd) {
  auto it = connections_.find(fd);
  if (it != connections_.end()) Flush(*it->second);
}

void ControlServer::Close(int fd) {
  loop_.Unwatch(fd);
  connections_.erase(fd);  // closes via UniqueFd
}

// ---- client -------------------------------------------------------------

StatusOr<ControlClient> ControlClient::Connect(const std::string& socket_path, std::chrono::milliseconds timeout) {
  if (socket_path.size() >= sizeof(sockaddr_un{}.sun_path)) return InvalidArgument("socket path too long");
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return EW_ERRNO("socket(AF_UNIX)", socket_path);
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) {
    return EW_ERRNO("setsockopt(SO_SNDTIMEO)", socket_path);
  }
  socklen_t len;
  sockaddr_un addr = UnixAddress(socket_path, &len);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    const int err = errno;
    if (err == ECONNREFUSED) return Unavailable("connect(" + socket_path + "): no agent is listening");
    // The agent not running is an operation that failed, not bad input.
    if (err == ENOENT) return Unavailable("connect(" + socket_path + "): no such socket (is the agent running?)");
    return ErrnoStatus("connect", socket_path, err);
  }
  return ControlClient(std::move(fd));
}

Status ControlClient::Send(std::string_view request_json) {
  std::string line(request_json);
  line += '\n';
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::send(fd_.get(), line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return EW_ERRNO("send", "control socket");
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

StatusOr<std::string> ControlClient::ReadLine(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    int wait_ms = -1;
    if (timeout.count() > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return Unavailable("timed out waiting for the agent's answer");
      wait_ms = static_cast<int>(left.count());
    }
    pollfd p{fd_.get(), POLLIN, 0};
    const int rc = ::poll(&p, 1, wait_ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return EW_ERRNO("poll", "control socket");
    if (rc == 0) continue;  // deadline check above
    char buf[8192];
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return EW_ERRNO("recv", "control socket");
    if (n == 0) return Unavailable("the agent closed the control connection");
    buffer_.append(buf, static_cast<size_t>(n));
    if (buffer_.size() > (64u << 20)) return DataLoss("control response line longer than 64 MiB");
  }
}

StatusOr<std::string> DecodeControlResponse(std::string_view line) {
  json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ok") || !j["ok"].is_boolean()) {
    return DataLoss("malformed response from the agent");
  }
  if (j["ok"].get<bool>()) {
    if (!j.contains("result")) return DataLoss("response from the agent without a result");
    return j["result"].dump();
  }
  const json& e = j.value("error", json::object());
  const std::string code = e.is_object() ? e.value("code", "INTERNAL") : "INTERNAL";
  const std::string message = e.is_object() ? e.value("message", "unknown error") : "unknown error";
  return Status(CodeFromName(code), "agent: " + message);
}

StatusOr<std::string> ControlClient::Call(std::string_view request_json, std::chrono::milliseconds timeout) {
  // A refused peer may find the connection closed before its request is
  // sent; the agent's reason is still waiting to be read, so read anyway.
  Status sent = Send(request_json);
  StatusOr<std::string> line = ReadLine(timeout);
  if (!line.ok()) return sent.ok() ? line.status() : sent;
  return DecodeControlResponse(*line);
}

}  // namespace edgeward::daemon
