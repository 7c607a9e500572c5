// Event tailing: the runner appends JSON lines to events.jsonl; the
// supervisor reads from the saved offset whenever inotify says the file
// grew (and once more when the runner exits), hands each complete line to
// on_event and saves the new offset. The offset is saved after the lines
// are handed over, with one pwrite (no fsync: it must survive the agent
// being killed, which the page cache does; a power loss may repeat the last
// batch).
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <set>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "edgeward/base/errno_status.h"
#include "runner_state.h"
#include "supervisor_internal.h"

namespace edgeward::daemon {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxLine = 1 << 20;

Status SaveOffset(int fd, uint64_t offset) {
  char buf[24];
  const int n = std::snprintf(buf, sizeof buf, "%020llu\n", static_cast<unsigned long long>(offset));
  if (::pwrite(fd, buf, static_cast<size_t>(n), 0) != n) return EW_ERRNO("pwrite", "events.offset");
  return Status::Ok();
}

uint64_t LoadOffset(int fd) {
  char buf[24] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  uint64_t v = 0;
  std::from_chars(buf, buf + n, v);
  return v;
}

}  // namespace

Status WorkloadSupervisor::OpenEvents(Workload& w) {
  const std::string dir = Dir(w.name);
  if (!w.offset_fd.valid()) {
    const std::string path = dir + "/events.offset";
    w.offset_fd = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!w.offset_fd.valid()) return EW_ERRNO("open", path);
    w.offset = LoadOffset(w.offset_fd.get());
  }
  if (w.events_fd.valid()) return Status::Ok();
  const std::string path = dir + "/events.jsonl";
  // Created here, before the runner, so the watch exists before any line.
  w.events_fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600));
  if (!w.events_fd.valid()) return EW_ERRNO("open", path);
  struct stat st {};
  if (::fstat(w.events_fd.get(), &st) != 0) return EW_ERRNO("fstat", path);
  // A crash between rotating and saving offset 0 leaves an offset past the
  // end of the new file: everything in it is new.
  if (w.offset > static_cast<uint64_t>(st.st_size)) {
    w.offset = 0;
    EW_RETURN_IF_ERROR(SaveOffset(w.offset_fd.get(), 0));
  }
  EW_RETURN_IF_ERROR(EnsureInotify());
  const int wd = ::inotify_add_watch(inotify_.get(), path.c_str(), IN_MODIFY);
  if (wd < 0) return EW_ERRNO("inotify_add_watch", path);
  w.inotify_wd = wd;
  inotify_watches_[wd] = w.name;
  return Status::Ok();
}

void WorkloadSupervisor::DrainEvents(Workload& w) {
  if (!w.events_fd.valid()) return;
  std::string buf;
  uint64_t consumed = w.offset;
  bool more = true;
  while (more) {
    const size_t old = buf.size();
    buf.resize(old + kReadChunk);
    const ssize_t n = ::pread(w.events_fd.get(), buf.data() + old, kReadChunk,
                              static_cast<off_t>(w.offset + old));
    if (n < 0 && errno == EINTR) {
      buf.resize(old);
      continue;
    }
    if (n < 0) {
      spdlog::warn("workload {}: reading events: {}", w.name, std::strerror(errno));
      buf.resize(old);
      break;
    }
    buf.resize(old + static_cast<size_t>(n));
    more = n > 0;
    // Hand over every complete line; keep a partial last line for later
    // (the runner writes each line with one write, but we may read between).
    size_t start = 0;
    while (true) {
      const size_t nl = buf.find('\n', start);
      if (nl == std::string::npos) break;
      const std::string line = buf.substr(start, nl - start);
      start = nl + 1;
      if (line.empty()) continue;
      nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.is_object()) {
        spdlog::warn("workload {}: skipping a malformed event line ({} bytes)", w.name, line.size());
        continue;
      }
      const std::string type = j.value("type", "");
      if (type == "workload.start") {
        w.event_exit_code.reset();
        w.event_exit_signal.clear();
      } else if (type == "workload.exit" && j.contains("exit") && j["exit"].is_object()) {
        const auto& e = j["exit"];
        if (e.contains("code") && e["code"].is_number_integer()) w.event_exit_code = e["code"].get<int>();
        if (e.contains("signal") && e["signal"].is_string()) w.event_exit_signal = e["signal"].get<std::string>();
      }
      Emit(line);
    }
    if (start > 0) {
      w.offset += start;
      buf.erase(0, start);
    } else if (buf.size() > kMaxLine) {
      spdlog::warn("workload {}: skipping {} bytes without a line end in events", w.name, buf.size());
      w.offset += buf.size();
      buf.clear();
    }
  }
  if (w.offset != consumed && w.offset_fd.valid()) {
    Status s = SaveOffset(w.offset_fd.get(), w.offset);
    if (!s.ok()) spdlog::warn("workload {}: {}", w.name, s.message());
  }
}

void WorkloadSupervisor::OnInotify() {
  alignas(inotify_event) char buf[4096];
  std::set<std::string> touched;
  while (true) {
    const ssize_t n = ::read(inotify_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: drained
    for (ssize_t i = 0; i < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + i);
      auto it = inotify_watches_.find(ev->wd);
      if (it != inotify_watches_.end()) touched.insert(it->second);
      i += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
  for (const std::string& name : touched) {
    if (Workload* w = Find(name)) DrainEvents(*w);
  }
}

Status WorkloadSupervisor::RotateEventsIfLarge(Workload& w) {
  if (!w.events_fd.valid()) return Status::Ok();
  DrainEvents(w);
  struct stat st {};
  if (::fstat(w.events_fd.get(), &st) != 0) return EW_ERRNO("fstat", Dir(w.name) + "/events.jsonl");
  if (static_cast<uint64_t>(st.st_size) < options_.events_rotate_bytes || w.offset < static_cast<uint64_t>(st.st_size)) {
    return Status::Ok();
  }
  // Only between runs (no writer): rename, then offset 0, then a new file.
  const std::string path = Dir(w.name) + "/events.jsonl";
  if (::rename(path.c_str(), (path + ".1").c_str()) != 0) return EW_ERRNO("rename", path);
  if (w.inotify_wd >= 0) {
    ::inotify_rm_watch(inotify_.get(), w.inotify_wd);
    inotify_watches_.erase(w.inotify_wd);
    w.inotify_wd = -1;
  }
  w.events_fd.Reset();
  w.offset = 0;
  EW_RETURN_IF_ERROR(SaveOffset(w.offset_fd.get(), 0));
  return OpenEvents(w);
}

void WorkloadSupervisor::Emit(const std::string& line) {
  if (options_.on_event) options_.on_event(line);
}

void WorkloadSupervisor::EmitCrashLoop(const Workload& w) {
  nlohmann::json j;
  j["type"] = "workload.crash_loop";
  j["time"] = workload_internal::EventTimeNow();
  if (!options_.node_id.empty()) j["node"] = {{"id", options_.node_id}};
  j["workload"] = {{"name", w.name}};
  j["crash_loop"] = {{"restarts", w.exits.size()},
                     {"within_s", std::chrono::duration_cast<std::chrono::seconds>(w.spec.restart.crash_loop_within).count()}};
  if (w.last_exit_code) {
    j["exit"]["code"] = *w.last_exit_code;
    if (!w.last_exit_signal.empty()) j["exit"]["signal"] = w.last_exit_signal;
  }
  Emit(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace edgeward::daemon
