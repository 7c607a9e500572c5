// Step "cgroup" (parent side): a per-run control group with the policy's
// memory / pids / cpu limits, on cgroup v2 when the unified hierarchy has
// controllers, else on the v1 per-controller hierarchies (cgroup_v1.cc,
// cgroup_v2.cc).
//
// The launcher creates the group before clone(), and puts the child in it
// (Attach) while the child waits on a sync pipe, so nothing the workload runs
// escapes the limits. The destructor kills whatever is left in the group and
// removes it. Move-only; not thread-safe.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "edgeward/base/status.h"
#include "edgeward/policy/policy.h"

namespace edgeward::sandbox {

enum class CgroupVersion { kV1, kV2 };

// pids.max when the policy sets no `limits.pids`: a fork bomb stops here
// instead of at the node's limit (docs/policy.md).
inline constexpr uint64_t kDefaultPidsMax = 4096;

class Cgroup {
 public:
  // Creates `edgeward/<leaf>` under each controller the limits need (the
  // pids controller always, so leftovers can be found and killed, with
  // pids.max = limits.pids or kDefaultPidsMax; on v1 also the freezer, when
  // mounted, so teardown can stop a forking group before killing it) and
  // writes the limits. `root` is normally "/sys/fs/cgroup".
  // Errors name the file: "mkdir(/sys/fs/cgroup/memory/edgeward/x-12): ...".
  static StatusOr<Cgroup> Create(const std::string& root, const std::string& leaf,
                                 const policy::Limits& limits);

  Cgroup(Cgroup&& other) noexcept;
  Cgroup& operator=(Cgroup&& other) noexcept;
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;
  ~Cgroup();

  // Moves `pid` (a child that has not exec'd yet) into every group.
  Status Attach(pid_t pid) const;
  // Kills every process left in the group and removes the directories: v2
  // writes cgroup.kill (Linux >= 5.14), v1 freezes the group (freezer),
  // SIGKILLs every listed task and thaws it; then, on both, SIGKILL and
  // rmdir until empty (or ~2 s). Called by the destructor; callable earlier
  // to see its error.
  Status Destroy();

  CgroupVersion version() const { return version_; }
  // The group directories, one per v1 controller or one for v2.
  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  Cgroup() = default;

  CgroupVersion version_ = CgroupVersion::kV1;
  std::vector<std::string> dirs_;
};

// Which version to use under `root` (v2 when root/cgroup.controllers names
// any controller).
CgroupVersion DetectCgroupVersion(const std::string& root);

namespace internal {
// Version-specific parts. Each appends the directories it created to `dirs`
// (even on error, so the caller can clean up).
Status CreateV1(const std::string& root, const std::string& leaf, const policy::Limits& limits,
                std::vector<std::string>* dirs);
Status CreateV2(const std::string& root, const std::string& leaf, const policy::Limits& limits,
                std::vector<std::string>* dirs);
// Writes `value` to an existing control file (no O_CREAT, no truncation
// semantics beyond what cgroupfs does).
Status WriteControl(const std::string& path, const std::string& value);
}  // namespace internal

}  // namespace edgeward::sandbox
