#include "mounts.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "child_util.h"

namespace edgeward::sandbox {
namespace {

using internal::PathBuf;
using internal::WhatBuf;

// Staging layout inside the staging tmpfs (mounted on plan.base): the host
// root is pivoted to /oldroot, the sandbox root is built at /newroot. Bind
// sources are then reached as /oldroot/<path>, which is why the staging
// directory itself (e.g. /tmp) can still be bound: pivot_root moved the
// staging tmpfs off it.
constexpr char kNewRoot[] = "/newroot";
constexpr char kOldRoot[] = "/oldroot";

constexpr const char* kDevNodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

bool Fail(ChildFailure* f, const char* call, const char* what) {
  return SetChildFailure(f, "mounts", call, what, errno);
}

// mkdir -p, in place on `path` (restored before returning).
bool MakeDirs(char* path, mode_t mode, ChildFailure* f) {
  for (char* p = path + 1;; ++p) {
    if (*p == '/' || *p == '\0') {
      char saved = *p;
      *p = '\0';
      if (::mkdir(path, mode) != 0 && errno != EEXIST) {
        bool r = Fail(f, "mkdir", path);
        *p = saved;
        return r;
      }
      *p = saved;
      if (saved == '\0') return true;
    }
  }
}

// Creates an empty regular file (and its parents) to bind a file onto.
bool MakeFile(char* path, ChildFailure* f) {
  char* slash = path;
  for (char* p = path; *p != '\0'; ++p) {
    if (*p == '/') slash = p;
  }
  if (slash != path) {
    *slash = '\0';
    bool ok = MakeDirs(path, 0755, f);
    *slash = '/';
    if (!ok) return false;
  }
  int fd = ::open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return Fail(f, "open", path);
  ::close(fd);
  return true;
}

// The flags a remount must keep: inside a user namespace the kernel refuses
// to clear flags locked by the source mount, and outside one we still don't
// want a remount to silently drop noexec/nosuid from the host.
unsigned long LockedFlags(const char* target) {
  struct statvfs sv;
  if (::statvfs(target, &sv) != 0) return 0;
  unsigned long flags = 0;
  if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  if (sv.f_flag & ST_RDONLY) flags |= MS_RDONLY;
  return flags;
}

bool Bind(const char* source, char* target, bool is_dir, unsigned long remount_flags,
          const char* describe, ChildFailure* f) {
  if (is_dir ? !MakeDirs(target, 0755, f) : !MakeFile(target, f)) return false;
  if (::mount(source, target, nullptr, MS_BIND, nullptr) != 0) return Fail(f, "mount", describe);
  unsigned long flags = MS_REMOUNT | MS_BIND | LockedFlags(target) | remount_flags;
  if (::mount(nullptr, target, nullptr, flags, nullptr) != 0) {
    WhatBuf what(describe);
    what.Append(" (remount)");
    return Fail(f, "mount", what.c_str());
  }
  return true;
}

bool MountTmpfs(char* target, unsigned long flags, const char* data, ChildFailure* f) {
  if (!MakeDirs(target, 0755, f)) return false;
  if (::mount("tmpfs", target, "tmpfs", flags, data) != 0) {
    WhatBuf what("tmpfs -> ");
    what.Append(target + sizeof(kNewRoot) - 1);
    return Fail(f, "mount", what.c_str());
  }
  return true;
}

bool MountDev(ChildFailure* f) {
  PathBuf dev(kNewRoot);
  dev.Append("/dev");
  // Not nodev: the device binds below live on it. Nothing can mknod here
  // anyway (CAP_MKNOD is dropped, and the tmpfs is nosuid/noexec).
  if (!MountTmpfs(dev.data(), MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k", f)) return false;
  for (const char* node : kDevNodes) {
    PathBuf source(kOldRoot);
    source.Append("/dev/").Append(node);
    PathBuf target(dev.c_str());
    target.Append("/").Append(node);
    WhatBuf what("/dev/");
    what.Append(node).Append(" -> /dev/").Append(node).Append(", MS_BIND");
    if (!Bind(source.c_str(), target.data(), /*is_dir=*/false, MS_NOSUID | MS_NOEXEC, what.c_str(), f)) {
      return false;
    }
  }
  static constexpr const char* kLinks[][2] = {{"/proc/self/fd", "fd"},
                                             {"/proc/self/fd/0", "stdin"},
                                             {"/proc/self/fd/1", "stdout"},
                                             {"/proc/self/fd/2", "stderr"}};
  for (const auto& link : kLinks) {
    PathBuf path(dev.c_str());
    path.Append("/").Append(link[1]);
    if (::symlink(link[0], path.c_str()) != 0) return Fail(f, "symlink", path.c_str());
  }
  PathBuf shm(dev.c_str());
  shm.Append("/shm");
  return MountTmpfs(shm.data(), MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777", f);
}

}  // namespace

StatusOr<MountPlan> MakeMountPlan(const policy::FilesystemSpec& fs, bool mount_ns) {
  MountPlan plan;
  plan.enabled = mount_ns;
  if (!mount_ns) return plan;
  // The staging tmpfs goes on an existing directory of the host; /tmp nearly
  // always exists, / always does (the staging mount hides nothing that the
  // binds need: they are reached through /oldroot after the first pivot).
  struct stat st;
  plan.base = ::stat("/tmp", &st) == 0 && S_ISDIR(st.st_mode) ? "/tmp" : "/mnt";

  auto add_bind = [&](const std::string& path, MountEntry::Kind kind) {
    MountEntry e;
    e.kind = kind;
    e.path = path;
    // Resolve symlinks on the host (e.g. /lib64 -> usr/lib64 on merged-/usr
    // systems): inside the staging root an absolute link would point at the
    // wrong tree. The sandbox still sees the content at the policy's path.
    std::unique_ptr<char, decltype(&::free)> real(::realpath(path.c_str(), nullptr), &::free);
    e.source = real ? real.get() : path;
    struct stat sst;
    e.is_dir = ::stat(e.source.c_str(), &sst) != 0 || S_ISDIR(sst.st_mode);
    e.describe = path + " -> " + path + ", MS_BIND";
    plan.entries.push_back(std::move(e));
  };
  for (const auto& p : fs.read_only) add_bind(p, MountEntry::Kind::kReadOnlyBind);
  for (const auto& p : fs.read_write) add_bind(p, MountEntry::Kind::kReadWriteBind);
  for (const auto& p : fs.tmpfs) {
    MountEntry e;
    e.kind = MountEntry::Kind::kTmpfs;
    e.path = p;
    e.source = "tmpfs";
    e.describe = "tmpfs -> " + p;
    plan.entries.push_back(std::move(e));
  }
  // Parents before children, so a nested mount lands on top of its parent.
  std::stable_sort(plan.entries.begin(), plan.entries.end(),
                   [](const MountEntry& a, const MountEntry& b) { return a.path < b.path; });
  return plan;
}

bool ApplyMounts(const MountPlan& plan, ChildFailure* f) {
  if (!plan.enabled) return true;
  // Nothing we mount may propagate back to the host.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return Fail(f, "mount", "/, MS_REC|MS_PRIVATE");
  }
  const char* base = plan.base.c_str();
  if (::mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=64k") != 0) {
    WhatBuf what("tmpfs -> ");
    what.Append(base);
    return Fail(f, "mount", what.c_str());
  }
  if (::chdir(base) != 0) return Fail(f, "chdir", base);
  if (::mkdir("newroot", 0755) != 0) return Fail(f, "mkdir", "newroot");
  if (::mkdir("oldroot", 0755) != 0) return Fail(f, "mkdir", "oldroot");
  if (::mount("tmpfs", "newroot", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0) {
    return Fail(f, "mount", "tmpfs -> newroot");
  }
  if (::syscall(SYS_pivot_root, ".", "oldroot") != 0) return Fail(f, "pivot_root", base);
  if (::chdir("/") != 0) return Fail(f, "chdir", "/");

  for (const MountEntry& e : plan.entries) {
    PathBuf target(kNewRoot);
    if (e.path != "/") target.Append(e.path.c_str());
    if (target.overflowed()) {
      errno = ENAMETOOLONG;
      return Fail(f, "mount", e.describe.c_str());
    }
    switch (e.kind) {
      case MountEntry::Kind::kReadOnlyBind:
      case MountEntry::Kind::kReadWriteBind: {
        PathBuf source(kOldRoot);
        source.Append(e.source.c_str());
        if (source.overflowed()) {
          errno = ENAMETOOLONG;
          return Fail(f, "mount", e.describe.c_str());
        }
        unsigned long flags = MS_NOSUID | MS_NODEV;
        if (e.kind == MountEntry::Kind::kReadOnlyBind) flags |= MS_RDONLY;
        if (!Bind(source.c_str(), target.data(), e.is_dir, flags, e.describe.c_str(), f)) return false;
        break;
      }
      case MountEntry::Kind::kTmpfs:
        if (!MountTmpfs(target.data(), MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777", f)) return false;
        break;
    }
  }

  // A fresh procfs: it shows only the new pid namespace's processes.
  PathBuf proc(kNewRoot);
  proc.Append("/proc");
  if (!MakeDirs(proc.data(), 0555, f)) return false;
  if (::mount("proc", proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    return Fail(f, "mount", "proc -> /proc");
  }
  if (!MountDev(f)) return false;

  // The root itself is read-only: the workload writes only where the policy
  // says. MS_BIND makes this a per-mount change — without it a remount would
  // change the superblock, which for a bound host root is the host's own.
  if (::mount(nullptr, kNewRoot, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV |
                                               LockedFlags(kNewRoot),
              nullptr) != 0) {
    return Fail(f, "mount", "/ (remount read-only)");
  }

  // pivot_root(".", ".") stacks the old root on top of the new one; the
  // detach then removes the old root (staging tmpfs and host root) from the
  // namespace, leaving the new root at "/".
  if (::chdir(kNewRoot) != 0) return Fail(f, "chdir", kNewRoot);
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return Fail(f, "pivot_root", "/newroot");
  if (::umount2(".", MNT_DETACH) != 0) return Fail(f, "umount2", "old root, MNT_DETACH");
  if (::chdir("/") != 0) return Fail(f, "chdir", "/");
  return true;
}

}  // namespace edgeward::sandbox
