// cgroup v1 (and hybrid) nodes: one group per controller hierarchy
// (/sys/fs/cgroup/{pids,memory,cpu}/edgeward/<leaf>).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "cgroup.h"
#include "edgeward/base/errno_status.h"

namespace edgeward::sandbox::internal {
namespace {

Status MkdirIfMissing(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return EW_ERRNO("mkdir", dir);
  return Status::Ok();
}

// Creates root/<controller>/edgeward/<leaf> and records it.
StatusOr<std::string> MakeGroup(const std::string& root, const char* controller,
                                const std::string& leaf, std::vector<std::string>* dirs) {
  std::string hierarchy = root + "/" + controller;
  struct stat st;
  if (::stat(hierarchy.c_str(), &st) != 0) {
    return EW_ERRNO("stat", hierarchy).WithContext(std::string("cgroup v1 controller '") +
                                                   controller + "' is not mounted");
  }
  EW_RETURN_IF_ERROR(MkdirIfMissing(hierarchy + "/edgeward"));
  std::string dir = hierarchy + "/edgeward/" + leaf;
  if (::mkdir(dir.c_str(), 0755) != 0) return EW_ERRNO("mkdir", dir);
  dirs->push_back(dir);
  return dir;
}

}  // namespace

Status CreateV1(const std::string& root, const std::string& leaf, const policy::Limits& limits,
                std::vector<std::string>* dirs) {
  // pids first: it is always created, and the destructor finds leftovers
  // through it.
  EW_ASSIGN_OR_RETURN(std::string pids, MakeGroup(root, "pids", leaf, dirs));
  EW_RETURN_IF_ERROR(WriteControl(pids + "/pids.max", std::to_string(limits.pids.value_or(kDefaultPidsMax))));
  // The freezer lets teardown stop a forking group before killing it.
  // Optional: without it teardown falls back to the kill loop.
  struct stat st;
  if (::stat((root + "/freezer").c_str(), &st) == 0) {
    EW_RETURN_IF_ERROR(MakeGroup(root, "freezer", leaf, dirs).status());
  }

  if (limits.memory_bytes) {
    EW_ASSIGN_OR_RETURN(std::string mem, MakeGroup(root, "memory", leaf, dirs));
    std::string value = std::to_string(*limits.memory_bytes);
    EW_RETURN_IF_ERROR(WriteControl(mem + "/memory.limit_in_bytes", value));
    // With swap accounting, memory+swap gets the same limit, so the workload
    // can't swap its way past the limit. Without it (no memsw file), swap
    // stays usable; keep the kernel from preferring it for this group.
    std::string memsw = mem + "/memory.memsw.limit_in_bytes";
    if (::access(memsw.c_str(), F_OK) == 0) {
      EW_RETURN_IF_ERROR(WriteControl(memsw, value));
    } else {
      EW_RETURN_IF_ERROR(WriteControl(mem + "/memory.swappiness", "0"));
    }
  }

  if (limits.cpu_millis) {
    EW_ASSIGN_OR_RETURN(std::string cpu, MakeGroup(root, "cpu", leaf, dirs));
    constexpr uint64_t kPeriodUs = 100000;
    uint64_t quota = uint64_t{*limits.cpu_millis} * kPeriodUs / 1000;
    if (quota < 1000) quota = 1000;  // the kernel's minimum quota is 1 ms
    EW_RETURN_IF_ERROR(WriteControl(cpu + "/cpu.cfs_period_us", std::to_string(kPeriodUs)));
    EW_RETURN_IF_ERROR(WriteControl(cpu + "/cpu.cfs_quota_us", std::to_string(quota)));
  }
  return Status::Ok();
}

}  // namespace edgeward::sandbox::internal
