// Event tailing: the runner appends JSON lines to events.jsonl; the
// supervisor reads from the saved offset whenever inotify says the file
// grew (and once more when the runner exits), hands each complete line to
// on_event and saves the new offset. The offset is saved after the lines
// are handed over, with one pwrite (no fsync: it must survive the agent
// being killed, which the page cache does; a power loss may repeat the last
// batch).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <set>
#include <tuple>
#include <utility>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "edgeward/base/errno_status.h"
#include "runner_state.h"
#include "supervisor_internal.h"

namespace edgeward::daemon {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxLine = 1 << 20;

// "<offset> <inode>\n", fixed width, one pwrite over the previous record.
// The inode says which events file the offset is for: after a rotation the
// new file has a new inode, so a crash between rotating and saving offset 0
// can't make the agent skip the new file's first lines.
Status SaveOffset(int fd, uint64_t offset, uint64_t ino) {
  char buf[48];
  const int n = std::snprintf(buf, sizeof buf, "%020llu %020llu\n", static_cast<unsigned long long>(offset),
                              static_cast<unsigned long long>(ino));
  if (::pwrite(fd, buf, static_cast<size_t>(n), 0) != n) return EW_ERRNO("pwrite", "events.offset");
  return Status::Ok();
}

// {offset, inode}; inode 0 when unknown (an offset file from before inodes
// were saved, or none).
std::pair<uint64_t, uint64_t> LoadOffset(int fd) {
  char buf[64] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return {0, 0};
  uint64_t offset = 0;
  uint64_t ino = 0;
  auto r = std::from_chars(buf, buf + n, offset);
  if (r.ptr < buf + n && *r.ptr == ' ') std::from_chars(r.ptr + 1, buf + n, ino);
  return {offset, ino};
}

}  // namespace

Status WorkloadSupervisor::OpenEvents(Workload& w) {
  const std::string dir = Dir(w.name);
  if (!w.offset_fd.valid()) {
    const std::string path = dir + "/events.offset";
    w.offset_fd = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!w.offset_fd.valid()) return EW_ERRNO("open", path);
    std::tie(w.offset, w.events_ino) = LoadOffset(w.offset_fd.get());
  }
  if (w.events_fd.valid()) return Status::Ok();
  const std::string path = dir + "/events.jsonl";
  // Created here, before the runner, so the watch exists before any line.
  w.events_fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600));
  if (!w.events_fd.valid()) return EW_ERRNO("open", path);
  struct stat st {};
  if (::fstat(w.events_fd.get(), &st) != 0) return EW_ERRNO("fstat", path);
  // The offset was for another file (rotated away before a crash), or runs
  // past the end of this one: everything in this file is new.
  if ((w.events_ino != 0 && w.events_ino != st.st_ino) || w.offset > static_cast<uint64_t>(st.st_size)) w.offset = 0;
  w.events_ino = st.st_ino;
  EW_RETURN_IF_ERROR(SaveOffset(w.offset_fd.get(), w.offset, w.events_ino));
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
    Status s = SaveOffset(w.offset_fd.get(), w.offset, w.events_ino);
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
    Workload* w = Find(name);
    if (w == nullptr) continue;
    DrainEvents(*w);
    if (w->offset >= options_.events_rotate_bytes) {
      if (Status s = RotateEventsIfLarge(*w); !s.ok()) spdlog::warn("workload {}: rotating events: {}", name, s.message());
    }
  }
}

// Live or between runs. Under an exclusive flock of the events file (the
// runner's EventFileWriter takes a shared one around each line, so no line
// is half-written and none can land between our drain and the rename):
// drain to the end, rename to events.jsonl.1 (replacing the previous one),
// create the new file, save offset 0 with its inode. The runner notices the
// rename at its next line and follows. Non-blocking: a runner stopped while
// holding its lock must not stall the loop; we try again at the next event.
Status WorkloadSupervisor::RotateEventsIfLarge(Workload& w) {
  if (!w.events_fd.valid()) return Status::Ok();
  const std::string path = Dir(w.name) + "/events.jsonl";
  DrainEvents(w);
  if (w.offset < options_.events_rotate_bytes) return Status::Ok();
  if (::flock(w.events_fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Status::Ok();
    return EW_ERRNO("flock", path);
  }
  DrainEvents(w);
  struct stat st {};
  if (::fstat(w.events_fd.get(), &st) != 0) return EW_ERRNO("fstat", path);
  if (w.offset < static_cast<uint64_t>(st.st_size)) {
    spdlog::warn("workload {}: {} bytes without a line end at the end of {}; dropped with the rotation", w.name,
                 static_cast<uint64_t>(st.st_size) - w.offset, path);
  }
  if (::rename(path.c_str(), (path + ".1").c_str()) != 0) {
    const Status failed = EW_ERRNO("rename", path);
    (void)::flock(w.events_fd.get(), LOCK_UN);
    return failed;
  }
  if (w.inotify_wd >= 0) {
    ::inotify_rm_watch(inotify_.get(), w.inotify_wd);
    inotify_watches_.erase(w.inotify_wd);
    w.inotify_wd = -1;
  }
  // Hold the old file's lock until the new file and its watch exist, so
  // the runner's first line there raises an inotify event.
  UniqueFd old = std::move(w.events_fd);
  w.offset = 0;
  w.events_ino = 0;
  spdlog::info("workload {}: events file rotated to {}.1 ({} bytes)", w.name, path, static_cast<uint64_t>(st.st_size));
  return OpenEvents(w);  // `old` closes after, dropping the lock
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
