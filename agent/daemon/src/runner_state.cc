#include "runner_state.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "edgeward/base/bytes.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/file.h"

namespace edgeward::daemon::workload_internal {
namespace {

constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
  if (!d) return names;
  while (dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  return names;
}

bool IsDir(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

Status WriteRunnerRecord(const std::string& path, const RunnerRecord& r) {
  nlohmann::json j = {{"pid", r.pid},
                      {"start_time", r.start_time},
                      {"spec_digest", r.spec_digest},
                      {"policy_digest", r.policy_digest}};
  return WriteFileAtomic(path, AsBytes(j.dump() + "\n"), 0600);
}

StatusOr<RunnerRecord> ReadRunnerRecord(const std::string& path) {
  EW_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, 64 * 1024));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  RunnerRecord r;
  if (j.is_discarded() || !j.is_object() || !j.contains("pid") || !j["pid"].is_number_integer() ||
      !j.contains("start_time") || !j["start_time"].is_number_unsigned()) {
    return DataLoss(path + ": not a runner record (want pid and start_time)");
  }
  r.pid = j["pid"].get<pid_t>();
  r.start_time = j["start_time"].get<uint64_t>();
  if (j.contains("spec_digest") && j["spec_digest"].is_string()) r.spec_digest = j["spec_digest"];
  if (j.contains("policy_digest") && j["policy_digest"].is_string()) r.policy_digest = j["policy_digest"];
  if (r.pid <= 1) return DataLoss(path + ": pid " + std::to_string(r.pid) + " is not a runner");
  return r;
}

std::string SpecToJson(const WorkloadSpec& s) {
  nlohmann::json j = {
      {"name", s.name},
      {"command", s.command},
      {"env", s.env},
      {"policy", s.policy},
      {"restart",
       {{"policy", std::string(RestartPolicyName(s.restart.policy))},
        {"backoff_initial_ms", s.restart.backoff_initial.count()},
        {"backoff_max_ms", s.restart.backoff_max.count()},
        {"crash_loop_count", s.restart.crash_loop_count},
        {"crash_loop_within_ms", s.restart.crash_loop_within.count()}}},
      {"start_order", s.start_order},
      {"measure", s.measure},
      {"source", s.source},
      {"policy_path", s.policy_path},
      {"policy_digest", s.policy_digest},
      {"spec_digest", s.spec_digest},
  };
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

StatusOr<WorkloadSpec> SpecFromJson(const std::string& text, const std::string& file_name) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    WorkloadSpec s;
    s.name = j.at("name").get<std::string>();
    s.command = j.at("command").get<std::vector<std::string>>();
    s.env = j.at("env").get<std::vector<std::string>>();
    s.policy = j.at("policy").get<std::string>();
    const auto& r = j.at("restart");
    const std::string p = r.at("policy").get<std::string>();
    if (p == "always") {
      s.restart.policy = RestartPolicy::kAlways;
    } else if (p == "on-failure") {
      s.restart.policy = RestartPolicy::kOnFailure;
    } else if (p == "never") {
      s.restart.policy = RestartPolicy::kNever;
    } else {
      return DataLoss(file_name + ": unknown restart policy '" + p + "'");
    }
    s.restart.backoff_initial = std::chrono::milliseconds(r.at("backoff_initial_ms").get<int64_t>());
    s.restart.backoff_max = std::chrono::milliseconds(r.at("backoff_max_ms").get<int64_t>());
    s.restart.crash_loop_count = r.at("crash_loop_count").get<uint32_t>();
    s.restart.crash_loop_within = std::chrono::milliseconds(r.at("crash_loop_within_ms").get<int64_t>());
    s.start_order = j.at("start_order").get<int64_t>();
    s.measure = j.at("measure").get<std::vector<std::string>>();
    s.source = j.at("source").get<std::string>();
    s.policy_path = j.at("policy_path").get<std::string>();
    s.policy_digest = j.at("policy_digest").get<std::string>();
    s.spec_digest = j.at("spec_digest").get<std::string>();
    if (s.command.empty() || s.restart.backoff_initial.count() <= 0 || s.restart.crash_loop_count == 0 ||
        s.restart.crash_loop_within.count() <= 0 || s.restart.backoff_max < s.restart.backoff_initial) {
      return DataLoss(file_name + ": inconsistent spec");
    }
    return s;
  } catch (const std::exception& e) {
    return DataLoss(file_name + ": " + e.what());
  }
}

StatusOr<uint64_t> ProcessStartTime(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  auto text = ReadFileToString(path, 4096);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return NotFound(path + ": no such process");
    return text.status();
  }
  // comm (field 2) may hold spaces and ')': fields resume after the last ')'.
  const size_t close = text->rfind(')');
  if (close == std::string::npos) return DataLoss(path + ": unexpected format");
  std::string_view rest = std::string_view(*text).substr(close + 1);
  // A zombie is gone for our purposes (its parent just hasn't reaped it).
  if (rest.size() >= 2 && (rest[1] == 'Z' || rest[1] == 'X')) return NotFound(path + ": process has exited");
  // After ')': field 3 (state) is the first; field 22 is the 20th.
  int field = 2;
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    const size_t start = i;
    while (i < rest.size() && rest[i] != ' ') ++i;
    if (start == i) break;
    ++field;
    if (field == 22) {
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(rest.data() + start, rest.data() + i, v);
      if (ec != std::errc() || p != rest.data() + i) return DataLoss(path + ": bad start time");
      return v;
    }
  }
  return DataLoss(path + ": too few fields");
}

StatusOr<UniqueFd> OpenPidfd(pid_t pid) {
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    if (errno == ESRCH) return NotFound("pidfd_open(" + std::to_string(pid) + "): no such process");
    return EW_ERRNO("pidfd_open", std::to_string(pid));
  }
  // pidfds are created close-on-exec.
  return UniqueFd(static_cast<int>(fd));
}

Status SignalPidfd(int pidfd, int signo) {
  if (::syscall(SYS_pidfd_send_signal, pidfd, signo, nullptr, 0) != 0) {
    if (errno == ESRCH) return Status::Ok();  // already gone: what we wanted
    return EW_ERRNO("pidfd_send_signal", SignalName(signo));
  }
  return Status::Ok();
}

std::string ResolveBinary(const WorkloadSpec& spec) {
  if (spec.command.empty()) return "";
  const std::string& cmd = spec.command[0];
  if (cmd.find('/') != std::string::npos) return cmd;
  std::string path = kDefaultPath;
  for (const std::string& e : spec.env) {
    if (e.starts_with("PATH=")) path = e.substr(5);
  }
  size_t start = 0;
  while (start <= path.size()) {
    const size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!dir.empty()) {
      const std::string candidate = dir + "/" + cmd;
      struct stat st {};
      if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
        return candidate;
      }
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return "";
}

StatusOr<pid_t> SpawnRunner(const SpawnRequest& req) {
  if (req.argv.empty()) return InvalidArgument("SpawnRunner: empty argv");
  posix_spawn_file_actions_t actions;
  if (int e = ::posix_spawn_file_actions_init(&actions); e != 0) return ErrnoStatus("posix_spawn_file_actions_init", "", e);
  std::unique_ptr<posix_spawn_file_actions_t, int (*)(posix_spawn_file_actions_t*)> actions_guard(
      &actions, &::posix_spawn_file_actions_destroy);
  posix_spawnattr_t attr;
  if (int e = ::posix_spawnattr_init(&attr); e != 0) return ErrnoStatus("posix_spawnattr_init", "", e);
  std::unique_ptr<posix_spawnattr_t, int (*)(posix_spawnattr_t*)> attr_guard(&attr, &::posix_spawnattr_destroy);

  int e = ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (e == 0) {
    e = ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, req.log_path.c_str(),
                                           O_WRONLY | O_CREAT | O_APPEND, 0600);
  }
  if (e == 0) e = ::posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  // dup2 onto 3 clears close-on-exec (glibc does so even when the fd
  // already is 3, as POSIX.1-2017 asks).
  constexpr int kGateFd = STDERR_FILENO + 1;
  if (e == 0 && req.start_gate_fd >= 0) e = ::posix_spawn_file_actions_adddup2(&actions, req.start_gate_fd, kGateFd);
  // The daemon's sockets, pidfds, epoll and inotify fds must not leak into
  // a runner that outlives it (glibc >= 2.34).
  if (e == 0) {
    e = ::posix_spawn_file_actions_addclosefrom_np(&actions, req.start_gate_fd >= 0 ? kGateFd + 1 : kGateFd);
  }
  if (e != 0) return ErrnoStatus("posix_spawn_file_actions", req.log_path, e);

  // Own session: no controlling terminal, so no SIGHUP when the agent's
  // session ends, and kill(0, ...) in the agent's group can't reach it.
  // Empty mask (the daemon blocks the signals its signalfd takes) and
  // default dispositions.
  sigset_t empty;
  sigset_t all;
  sigemptyset(&empty);
  sigfillset(&all);
  e = ::posix_spawnattr_setsigmask(&attr, &empty);
  if (e == 0) e = ::posix_spawnattr_setsigdefault(&attr, &all);
  if (e == 0) e = ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (e != 0) return ErrnoStatus("posix_spawnattr", req.argv[0], e);

  std::vector<char*> argv;
  for (const std::string& a : req.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& v : req.env) envp.push_back(const_cast<char*>(v.c_str()));
  envp.push_back(nullptr);
  pid_t pid = 0;
  e = ::posix_spawn(&pid, req.argv[0].c_str(), &actions, &attr, argv.data(), envp.data());
  if (e != 0) return ErrnoStatus("posix_spawn", req.argv[0], e);
  return pid;
}

std::vector<std::string> WorkloadCgroupDirs(const std::string& root, const std::string& name,
                                            std::optional<pid_t> runner_pid) {
  std::vector<std::string> bases;
  if (IsDir(root + "/edgeward")) bases.push_back(root + "/edgeward");
  for (const std::string& c : ListDir(root)) {
    if (IsDir(root + "/" + c + "/edgeward")) bases.push_back(root + "/" + c + "/edgeward");
  }
  std::vector<std::string> out;
  const std::string prefix = name + "-";
  for (const std::string& base : bases) {
    for (const std::string& leaf : ListDir(base)) {
      if (!leaf.starts_with(prefix) || leaf.size() == prefix.size()) continue;
      const std::string_view digits = std::string_view(leaf).substr(prefix.size());
      pid_t pid = 0;
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
      if (ec != std::errc() || p != digits.data() + digits.size()) continue;
      if (runner_pid && pid != *runner_pid) continue;
      if (IsDir(base + "/" + leaf)) out.push_back(base + "/" + leaf);
    }
  }
  return out;
}

size_t KillCgroupProcs(const std::string& dir) {
  auto text = ReadFileToString(dir + "/cgroup.procs", 1 << 20);
  if (!text.ok()) return 0;
  size_t n = 0;
  std::string_view rest = *text;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    pid_t pid = 0;
    auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
    if (ec != std::errc() || pid <= 1) continue;
    if (::kill(pid, SIGKILL) == 0) ++n;
  }
  return n;
}

Status CleanCgroups(const std::vector<std::string>& dirs) {
  for (const std::string& dir : dirs) {
    // Killed processes leave the group asynchronously; rmdir is EBUSY until
    // they have. Bounded: 100 tries 10 ms apart.
    bool removed = false;
    for (int attempt = 0; attempt < 100 && !removed; ++attempt) {
      KillCgroupProcs(dir);
      if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) {
        removed = true;
        break;
      }
      if (errno != EBUSY) return EW_ERRNO("rmdir", dir);
      struct timespec ts {0, 10 * 1000 * 1000};
      ::nanosleep(&ts, nullptr);
    }
    if (!removed) return ResourceExhausted("rmdir(" + dir + "): processes in the group did not die");
  }
  return Status::Ok();
}

std::string EventTimeNow() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm {};
  ::gmtime_r(&ts.tv_sec, &tm);
  char buf[40];
  const size_t n = ::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  char ms[32];
  std::snprintf(ms, sizeof ms, ".%03ldZ", ts.tv_nsec / 1000000);
  return out + ms;
}

std::string SignalName(int signo) {
  if (const char* abbrev = ::sigabbrev_np(signo)) return std::string("SIG") + abbrev;
  return "SIG" + std::to_string(signo);
}

}  // namespace edgeward::daemon::workload_internal
