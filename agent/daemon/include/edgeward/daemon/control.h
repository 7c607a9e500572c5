// The agent's local control socket: how `edgeward status|workloads|events|
// attest now|policy show|quarantine release` talk to a running agent.
//
// Transport: AF_UNIX SOCK_STREAM at the configured path (socket 0660, its
// directory 0750, both group-owned by control.group). Each accepted peer is
// checked with SO_PEERCRED / SO_PEERGROUPS: uid 0, the agent's own uid, or a
// process whose primary or supplementary groups include control.group —
// anyone else gets one PERMISSION_DENIED line, is logged and disconnected.
//
// Protocol (docs/agent.md): the client writes one JSON request line,
//   {"request":"status"} | {"request":"workloads"} | {"request":"attest_now"}
//   {"request":"policy_show"} | {"request":"events","follow":true,"since":0}
//   {"request":"quarantine_release"}
// and reads one JSON response line,
//   {"ok":true,"result":{...}}  or  {"ok":false,"error":{"code":"INVALID_ARGUMENT","message":"..."}}
// after which the server closes the connection — except for a following
// `events` request, which stays open and receives one line per new event:
//   {"seq":42,"event":{...the event object...}}
// Requests are bounded (kMaxControlRequestBytes); a bad request gets an error
// line, never takes the agent down.
//
// Threading: the server lives on the EventLoop's thread; all its methods and
// the handler run there.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "edgeward/base/fd.h"
#include "edgeward/base/status.h"

namespace edgeward::daemon {

class EventLoop;

inline constexpr size_t kMaxControlRequestBytes = 4096;

struct ControlRequest {
  enum class Kind { kStatus, kWorkloads, kEvents, kAttestNow, kPolicyShow, kQuarantineRelease };
  Kind kind = Kind::kStatus;
  bool follow = false;  // events: keep streaming after the backlog
  uint64_t since = 0;   // events: only those with seq > since
};

// Parses one request line (without its newline). kInvalidArgument naming
// the problem (bad JSON, unknown request, a field of the wrong type, an
// unknown field). Outside input: fuzzed by fuzz/control_request_fuzzer.cc.
StatusOr<ControlRequest> ParseControlRequest(std::string_view line);
std::string_view ControlRequestName(ControlRequest::Kind kind);

// The daemon's answer to a request: the JSON text of "result" (an object),
// or an error that goes back to the client with its code.
using ControlHandler = std::function<StatusOr<std::string>(const ControlRequest&)>;

struct ControlOptions {
  std::string socket_path;
  std::string group;            // "" or a group that doesn't exist → root/own uid only
  size_t event_history = 1000;  // events kept for `edgeward events`
  size_t max_connections = 64;  // further peers are refused (RESOURCE_EXHAUSTED)
  // A follower whose unsent backlog exceeds this is disconnected (slow reader).
  size_t max_pending_bytes = 1 << 20;
};

class ControlServer {
 public:
  // Creates the directory (0750) and socket (0660), owned by root:group,
  // replacing a stale socket file; kAlreadyExists when another process is
  // listening on it; kInvalidArgument when the path exists and is not a
  // socket. Watches the socket on `loop`.
  static StatusOr<std::unique_ptr<ControlServer>> Start(EventLoop& loop, ControlOptions options,
                                                        ControlHandler handler);
  // Closes every connection and removes the socket file.
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Records one event (a JSON object, one line) in the history and streams
  // it to every follower.
  void PublishEvent(std::string_view json_object);

  size_t connections() const { return connections_.size(); }
  uint64_t refused() const { return refused_; }
  uint64_t last_event_seq() const { return next_seq_ - 1; }

 private:
  struct Connection {
    UniqueFd fd;
    uid_t uid = 0;
    pid_t pid = 0;
    std::string in;
    std::string out;
    bool follower = false;
    bool close_after_write = false;
  };

  ControlServer(EventLoop& loop, ControlOptions options, ControlHandler handler, UniqueFd listener, gid_t gid,
                bool have_group);
  void OnAccept();
  void OnReadable(int fd);
  void OnWritable(int fd);
  void HandleLine(Connection& c, std::string_view line);
  // Appends and flushes; may close `c`. `bounded` applies max_pending_bytes.
  void Queue(Connection& c, std::string_view text, bool bounded);
  void Flush(Connection& c);
  void Close(int fd);
  bool Authorized(int fd, uid_t uid, gid_t gid) const;
  std::string EventsResult(uint64_t since) const;

  EventLoop& loop_;
  ControlOptions options_;
  ControlHandler handler_;
  UniqueFd listener_;
  gid_t gid_;
  bool have_group_;
  std::map<int, std::unique_ptr<Connection>> connections_;
  std::deque<std::pair<uint64_t, std::string>> history_;  // seq → event object
  uint64_t next_seq_ = 1;
  uint64_t refused_ = 0;
};

// The client side, used by the CLI commands. Blocking, with a timeout on
// every read and write.
class ControlClient {
 public:
  // kUnavailable when the socket doesn't exist or nothing listens (agent
  // not running), kPermissionDenied when not allowed to connect.
  static StatusOr<ControlClient> Connect(const std::string& socket_path, std::chrono::milliseconds timeout);
  // Sends one request line.
  Status Send(std::string_view request_json);
  // The next response line (without the newline). kUnavailable when the
  // agent closed the connection. `timeout` 0 = wait forever (events --follow).
  StatusOr<std::string> ReadLine(std::chrono::milliseconds timeout);
  // Send + ReadLine + decode: the "result" JSON text, or the error the agent
  // returned as a Status with its code.
  StatusOr<std::string> Call(std::string_view request_json, std::chrono::milliseconds timeout);

 private:
  explicit ControlClient(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  std::string buffer_;
};

// Decodes a response line into the result JSON text or the agent's error.
StatusOr<std::string> DecodeControlResponse(std::string_view line);

}  // namespace edgeward::daemon
