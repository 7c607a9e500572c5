// Step "mounts": the workload's filesystem view, built in a new mount
// namespace and entered with pivot_root.
//
// The new root is an empty tmpfs that ends up read-only; into it go, in path
// order, non-recursive bind mounts of filesystem.readOnly (remounted
// read-only, nosuid, nodev) and filesystem.readWrite (nosuid, nodev), fresh
// tmpfs mounts for filesystem.tmpfs (nosuid, nodev, noexec), a fresh /proc
// masked as runc and bubblewrap mask it (/proc/{sys,irq,bus,fs,sysrq-trigger}
// read-only; /dev/null over kcore, keys, kallsyms, timer_list, sched_debug,
// latency_stats, timer_stats; an empty read-only tmpfs over acpi and scsi),
// and a minimal /dev (null zero full random urandom tty bound from the host,
// fd/stdin/stdout/stderr links, /dev/shm tmpfs, no /dev/pts). The host's
// root is detached (MNT_DETACH) before the workload runs.
//
// Binds are non-recursive on purpose: binding /usr must not drag in
// whatever is mounted below it on the host; list submounts explicitly.
//
// No symlink is followed between plan and mount: the child opens every
// source beneath the old root with openat2(RESOLVE_NO_SYMLINKS) and binds
// that descriptor (open_tree + mount_setattr + move_mount), and it walks
// every target component by component from the new root's descriptor,
// creating with mkdirat/openat and opening with RESOLVE_NO_SYMLINKS. A
// planted symlink fails the launch ("symlink in the target path refused").
// Needs Linux >= 5.12 (mount_setattr) and 5.6 (openat2).
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
  // binds: the host path; readOnly paths outside every readWrite path have
  // the host's symlinks resolved (/lib64 -> /usr/lib64), others are as written.
  std::string source;
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
// up on the host now (realpath); a source that doesn't exist is kept as
// written, so the child reports it. kFailedPrecondition: a readWrite path
// that resolves through a symlink (the workload could have planted it).
StatusOr<MountPlan> MakeMountPlan(const policy::FilesystemSpec& fs, bool mount_ns);

// CHILD SIDE (no allocation): runs in the new mount and pid namespaces and
// leaves the caller in the new root with cwd "/".
bool ApplyMounts(const MountPlan& plan, ChildFailure* failure);

}  // namespace edgeward::sandbox
