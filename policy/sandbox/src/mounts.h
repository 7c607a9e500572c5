// Step "mounts": the workload's filesystem view, built in a new mount
// namespace and entered with pivot_root.
//
// The new root is an empty tmpfs that ends up read-only; into it go, in path
// order, non-recursive bind mounts of filesystem.readOnly (remounted
// read-only, nosuid, nodev) and filesystem.readWrite (nosuid, nodev), fresh
// tmpfs mounts for filesystem.tmpfs (nosuid, nodev, noexec), a fresh /proc,
// and a minimal /dev (null zero full random urandom tty bound from the host,
// fd/stdin/stdout/stderr links, /dev/shm tmpfs, no /dev/pts). The host's
// root is detached (MNT_DETACH) before the workload runs.
//
// Binds are non-recursive on purpose: binding /usr must not drag in
// whatever is mounted below it on the host; list submounts explicitly.
#pragma once

#include <string>
#include <vector>

#include "edgeward/base/status.h"
#include "edgeward/policy/policy.h"
#include "edgeward/sandbox/child_failure.h"

namespace edgeward::sandbox {

struct MountEntry {
  enum class Kind { kReadOnlyBind, kReadWriteBind, kTmpfs };
  Kind kind = Kind::kReadOnlyBind;
  std::string path;      // as in the policy; the place inside the sandbox
  std::string source;    // binds: the host path, symlinks resolved (else == path)
  bool is_dir = true;    // binds: whether the source is a directory
  std::string describe;  // "/usr -> /usr, MS_BIND": the object named in errors
};

// Everything the child needs, computed by the parent (which may allocate).
struct MountPlan {
  bool enabled = false;      // a mount namespace was asked for
  std::string base;          // an existing host directory the staging tmpfs is mounted on
  std::vector<MountEntry> entries;  // sorted by path, parents first
};

// Parent side. `mount_ns` false gives a disabled plan (the workload sees the
// host's filesystem; `policy explain` warns about that). Sources are looked
// up on the host now (stat, realpath); a source that doesn't exist is kept
// as written, so the child's mount() reports it.
StatusOr<MountPlan> MakeMountPlan(const policy::FilesystemSpec& fs, bool mount_ns);

// CHILD SIDE (no allocation): runs in the new mount and pid namespaces and
// leaves the caller in the new root with cwd "/".
bool ApplyMounts(const MountPlan& plan, ChildFailure* failure);

}  // namespace edgeward::sandbox
