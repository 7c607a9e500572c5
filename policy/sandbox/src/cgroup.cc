// The version-independent half of the cgroup step: choosing v1 or v2,
// attaching the child, and tearing the group down.
#include "cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <thread>
#include <utility>

#include "edgeward/base/errno_status.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/file.h"

namespace edgeward::sandbox {
namespace internal {

Status WriteControl(const std::string& path, const std::string& value) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return EW_ERRNO("open", path);
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n < 0) return EW_ERRNO("write", path + " <- " + value);
  if (static_cast<size_t>(n) != value.size()) return Internal("write(" + path + "): short write");
  return Status::Ok();
}

}  // namespace internal

CgroupVersion DetectCgroupVersion(const std::string& root) {
  auto controllers = ReadFileToString(root + "/cgroup.controllers", 4096);
  if (controllers.ok() && controllers->find_first_not_of(" \n") != std::string::npos) {
    return CgroupVersion::kV2;
  }
  return CgroupVersion::kV1;
}

StatusOr<Cgroup> Cgroup::Create(const std::string& root, const std::string& leaf,
                                const policy::Limits& limits) {
  Cgroup cg;
  cg.version_ = DetectCgroupVersion(root);
  Status s = cg.version_ == CgroupVersion::kV2 ? internal::CreateV2(root, leaf, limits, &cg.dirs_)
                                               : internal::CreateV1(root, leaf, limits, &cg.dirs_);
  if (!s.ok()) return s;  // cg's destructor removes what was created
  return cg;
}

Cgroup::Cgroup(Cgroup&& other) noexcept
    : version_(other.version_), dirs_(std::exchange(other.dirs_, {})) {}

Cgroup& Cgroup::operator=(Cgroup&& other) noexcept {
  if (this != &other) {
    (void)Destroy();
    version_ = other.version_;
    dirs_ = std::exchange(other.dirs_, {});
  }
  return *this;
}

Cgroup::~Cgroup() { (void)Destroy(); }

Status Cgroup::Attach(pid_t pid) const {
  // v1 pids/memory/cpu hierarchies each need the pid; cgroup.procs moves the
  // whole thread group (the child is single-threaded anyway).
  for (const std::string& dir : dirs_) {
    EW_RETURN_IF_ERROR(internal::WriteControl(dir + "/cgroup.procs", std::to_string(pid)));
  }
  return Status::Ok();
}

namespace {

// Sends SIGKILL to every pid listed in dir/cgroup.procs; returns how many
// were listed.
StatusOr<int> KillListed(const std::string& dir) {
  auto procs = ReadFileToString(dir + "/cgroup.procs", 1 << 20);
  if (!procs.ok()) return procs.status();
  int listed = 0;
  size_t pos = 0;
  while (pos < procs->size()) {
    size_t end = procs->find('\n', pos);
    if (end == std::string::npos) end = procs->size();
    std::string line = procs->substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    ++listed;
    pid_t pid = 0;
    auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
    if (ec != std::errc() || ptr != line.data() + line.size() || pid <= 0) {
      return Internal("cgroup.procs in " + dir + ": not a pid: '" + line + "'");
    }
    // ESRCH: it died between the read and the kill, which is what we want.
    if (::kill(pid, SIGKILL) != 0 && errno != ESRCH) return EW_ERRNO("kill", line);
  }
  return listed;
}

// v1 freezer: freeze, SIGKILL every task, thaw (frozen tasks die once
// thawed). A frozen group can't fork between the read and the kills.
Status FreezeAndKill(const std::string& dir) {
  EW_RETURN_IF_ERROR(internal::WriteControl(dir + "/freezer.state", "FROZEN"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (;;) {
    auto state = ReadFileToString(dir + "/freezer.state", 64);
    if (!state.ok()) return state.status();
    if (state->rfind("FROZEN", 0) == 0) break;
    if (std::chrono::steady_clock::now() > deadline) break;  // the kill loop copes
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  Status killed = KillListed(dir).status();
  EW_RETURN_IF_ERROR(internal::WriteControl(dir + "/freezer.state", "THAWED"));
  return killed;
}

// True if dir/cgroup.procs lists no process. An empty group stays empty:
// only a member can fork into it, and nobody but us attaches to it.
bool IsEmpty(const std::string& dir) {
  auto procs = ReadFileToString(dir + "/cgroup.procs", 64);
  return procs.ok() && procs->find_first_not_of(" \n") == std::string::npos;
}

bool IsFreezer(const std::string& dir) {
  return dir.find("/freezer/") != std::string::npos;
}

}  // namespace

Status Cgroup::Destroy() {
  Status first;
  // The freezer first (v1): once it has killed the group, the other
  // controllers' groups empty by themselves.
  for (const std::string& dir : dirs_) {
    if (version_ != CgroupVersion::kV1 || !IsFreezer(dir)) continue;
    // The usual case after the workload exited: nothing to freeze (saves
    // the freeze, the state poll and the thaw on every launch).
    if (IsEmpty(dir)) continue;
    Status s = FreezeAndKill(dir);
    if (!s.ok() && s.code() != StatusCode::kNotFound && first.ok()) first = s;
  }
  // Deepest last-created first; every dir is independent (one per controller).
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    const std::string& dir = *it;
    // A v2 group can be killed in one write (Linux >= 5.14); otherwise, and
    // on v1, kill listed pids until the group is empty. Processes can fork
    // between a read and a kill, hence the loop; pids.max bounds the work.
    if (version_ == CgroupVersion::kV2) (void)internal::WriteControl(dir + "/cgroup.kill", "1");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    Status rm_status;
    for (;;) {
      auto listed = KillListed(dir);
      if (!listed.ok()) {
        if (listed.status().code() == StatusCode::kNotFound) break;  // already gone
        rm_status = listed.status();
        break;
      }
      if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) break;
      if (errno != EBUSY) {
        rm_status = EW_ERRNO("rmdir", dir);
        break;
      }
      // EBUSY: killed tasks are still exiting (or were just forked).
      if (std::chrono::steady_clock::now() > deadline) {
        rm_status = EW_ERRNO("rmdir", dir);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(*listed > 0 ? 1 : 5));
    }
    if (first.ok() && !rm_status.ok()) first = rm_status;
  }
  dirs_.clear();
  return first;
}

}  // namespace edgeward::sandbox
