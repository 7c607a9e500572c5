// cgroup v2 nodes: one group in the unified hierarchy
// (/sys/fs/cgroup/edgeward/<leaf>), controllers enabled on the way down.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "cgroup.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/file.h"

namespace edgeward::sandbox::internal {
namespace {

// Enables the controllers a limit needs in `dir`'s children. Controllers
// that the parent doesn't offer are an error naming the file.
Status EnableControllers(const std::string& dir, const policy::Limits& limits) {
  std::string want = "+pids";
  if (limits.memory_bytes) want += " +memory";
  if (limits.cpu_millis) want += " +cpu";
  return WriteControl(dir + "/cgroup.subtree_control", want);
}

}  // namespace

Status CreateV2(const std::string& root, const std::string& leaf, const policy::Limits& limits,
                std::vector<std::string>* dirs) {
  EW_RETURN_IF_ERROR(EnableControllers(root, limits));
  std::string parent = root + "/edgeward";
  if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) return EW_ERRNO("mkdir", parent);
  EW_RETURN_IF_ERROR(EnableControllers(parent, limits));
  std::string dir = parent + "/" + leaf;
  if (::mkdir(dir.c_str(), 0755) != 0) return EW_ERRNO("mkdir", dir);
  dirs->push_back(dir);

  EW_RETURN_IF_ERROR(WriteControl(dir + "/pids.max", std::to_string(limits.pids.value_or(kDefaultPidsMax))));
  if (limits.memory_bytes) {
    EW_RETURN_IF_ERROR(WriteControl(dir + "/memory.max", std::to_string(*limits.memory_bytes)));
    // No swap for a limited workload: the limit means RAM + swap, as on v1
    // with memsw. The file is absent without CONFIG_SWAP.
    std::string swap = dir + "/memory.swap.max";
    if (::access(swap.c_str(), F_OK) == 0) EW_RETURN_IF_ERROR(WriteControl(swap, "0"));
  }
  if (limits.cpu_millis) {
    constexpr uint64_t kPeriodUs = 100000;
    uint64_t quota = uint64_t{*limits.cpu_millis} * kPeriodUs / 1000;
    if (quota < 1000) quota = 1000;
    EW_RETURN_IF_ERROR(
        WriteControl(dir + "/cpu.max", std::to_string(quota) + " " + std::to_string(kPeriodUs)));
  }
  return Status::Ok();
}

}  // namespace edgeward::sandbox::internal
