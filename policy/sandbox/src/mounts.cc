#include "mounts.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
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

// /proc entries masked as runc and bubblewrap do. Read-only: kernel tunables
// and triggers a root workload could otherwise write without any capability
// (/proc/sys/kernel/*, /proc/sysrq-trigger reboots or crashes the host).
constexpr const char* kProcReadOnly[] = {"bus", "fs", "irq", "sys", "sysrq-trigger"};
// /dev/null bound over them: kernel memory, keys, addresses and timing data.
constexpr const char* kProcNull[] = {"kcore",         "keys",          "timer_list", "sched_debug",
                                     "kallsyms",      "latency_stats", "timer_stats"};
// An empty read-only tmpfs over them (hardware details, rescan triggers).
constexpr const char* kProcEmptyDirs[] = {"acpi", "scsi"};

bool Fail(ChildFailure* f, const char* call, const char* what) {
  return SetChildFailure(f, "mounts", call, what, errno);
}

// A descriptor closed on scope exit (no allocation; child-safe).
class ChildFd {
 public:
  explicit ChildFd(int fd = -1) : fd_(fd) {}
  ChildFd(const ChildFd&) = delete;
  ChildFd& operator=(const ChildFd&) = delete;
  ~ChildFd() { Reset(-1); }
  void Reset(int fd) {
    if (fd_ >= 0) (void)::close(fd_);
    fd_ = fd;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

// openat2 for one path beneath `dirfd`, never following a symlink (nor a
// /proc magic link) nor leaving `dirfd`'s tree.
int OpenNoSymlinks(int dirfd, const char* path, uint64_t flags) {
  struct open_how how = {};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH;
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof(how)));
}

bool FailTarget(ChildFailure* f, const char* describe) {
  int err = errno;
  WhatBuf what(describe);
  // ELOOP from RESOLVE_NO_SYMLINKS: something (perhaps the workload, in a
  // readWrite directory on an earlier run) planted a symlink where a mount
  // target belongs. Following it would put the mount somewhere else.
  if (err == ELOOP) what.Append(": symlink in the target path refused");
  if (err == ENOTDIR) what.Append(": non-directory in the target path");
  return SetChildFailure(f, "mounts", "openat2", what.c_str(), err);
}

// Opens (creating as needed, mkdir -p style) the mount target `rel` beneath
// the sandbox root, one component at a time relative to the previous one's
// descriptor, so no symlink anywhere in the path is followed. The last
// component is a directory, or an empty regular file when `file`. Returns
// an O_PATH descriptor, or -1 with `f` filled.
int OpenTarget(const char* rel, bool file, const char* describe, ChildFailure* f) {
  ChildFd cur(::open(kNewRoot, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!cur.valid()) return Fail(f, "open", kNewRoot), -1;
  PathBuf path(rel);
  char* p = path.data();
  while (*p == '/') ++p;
  if (*p == '\0') return cur.Release();  // the root itself
  for (;;) {
    char* end = p;
    while (*end != '\0' && *end != '/') ++end;
    const bool last = *end == '\0' || (end[0] == '/' && end[1] == '\0');
    *end = '\0';
    const bool want_file = last && file;
    const uint64_t flags = O_PATH | (want_file ? 0 : O_DIRECTORY);
    int next = OpenNoSymlinks(cur.get(), p, flags);
    if (next < 0 && errno == ENOENT) {
      if (want_file) {
        int created = ::openat(cur.get(), p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (created < 0 && errno != EEXIST) return Fail(f, "openat", describe), -1;
        if (created >= 0) (void)::close(created);
      } else if (::mkdirat(cur.get(), p, 0755) != 0 && errno != EEXIST) {
        return Fail(f, "mkdirat", describe), -1;
      }
      next = OpenNoSymlinks(cur.get(), p, flags);
    }
    if (next < 0) return FailTarget(f, describe), -1;
    cur.Reset(next);
    if (last) break;
    p = end + 1;
    while (*p == '/') ++p;
  }
  struct stat st;
  if (::fstat(cur.get(), &st) != 0) return Fail(f, "fstat", describe), -1;
  if (file && !S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
    errno = EISDIR;
    return Fail(f, "openat2", describe), -1;
  }
  return cur.Release();
}

// Attaches the detached mount `tree` (open_tree/fsmount) on `target_fd`
// after setting `attrs` (MOUNT_ATTR_*) on it. mount_setattr only sets: the
// flags the source mount carries (nosuid, noexec, ... locked or not) stay.
bool Attach(int tree, int target_fd, uint64_t attrs, const char* describe, ChildFailure* f) {
  if (attrs != 0) {
    struct mount_attr attr = {};
    attr.attr_set = attrs;
    if (::mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) != 0) {
      return Fail(f, "mount_setattr", describe);
    }
  }
  if (::move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
    return Fail(f, "move_mount", describe);
  }
  return true;
}

// Binds the object `source_fd` (an O_PATH descriptor opened in this mount
// namespace) onto `target_fd`, non-recursively.
bool BindFd(int source_fd, int target_fd, uint64_t attrs, const char* describe, ChildFailure* f) {
  ChildFd tree(::open_tree(source_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
  if (!tree.valid()) return Fail(f, "open_tree", describe);
  return Attach(tree.get(), target_fd, attrs, describe, f);
}

// A fresh instance of `fstype` ("tmpfs", "proc") with `options` (key=value,
// comma-separated; may be nullptr) on `target_fd`. Returns the new mount's
// root descriptor in `*root` when asked.
bool MountFresh(const char* fstype, const char* options, uint64_t attrs, int target_fd, const char* describe,
                ChildFailure* f, int* root = nullptr) {
  ChildFd fs(::fsopen(fstype, FSOPEN_CLOEXEC));
  if (!fs.valid()) return Fail(f, "fsopen", describe);
  if (options != nullptr) {
    PathBuf opts(options);
    char* p = opts.data();
    while (*p != '\0') {
      char* end = p;
      while (*end != '\0' && *end != ',') ++end;
      const bool more = *end == ',';
      *end = '\0';
      char* eq = p;
      while (*eq != '\0' && *eq != '=') ++eq;
      if (*eq == '=') {
        *eq = '\0';
        if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, p, eq + 1, 0) != 0) return Fail(f, "fsconfig", describe);
      } else if (::fsconfig(fs.get(), FSCONFIG_SET_FLAG, p, nullptr, 0) != 0) {
        return Fail(f, "fsconfig", describe);
      }
      if (!more) break;
      p = end + 1;
    }
  }
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    return Fail(f, "fsconfig", describe);
  }
  ChildFd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, static_cast<unsigned>(attrs)));
  if (!mnt.valid()) return Fail(f, "fsmount", describe);
  if (::move_mount(mnt.get(), "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
    return Fail(f, "move_mount", describe);
  }
  if (root != nullptr) *root = mnt.Release();
  return true;
}

bool MountTmpfsAt(const char* rel, uint64_t attrs, const char* options, ChildFailure* f) {
  WhatBuf what("tmpfs -> ");
  what.Append(rel);
  ChildFd target(OpenTarget(rel, /*file=*/false, what.c_str(), f));
  if (!target.valid()) return false;
  return MountFresh("tmpfs", options, attrs, target.get(), what.c_str(), f);
}

bool MountDev(int host_dev, ChildFailure* f) {
  // Not nodev: the device binds below live on it. Nothing can mknod here
  // anyway (CAP_MKNOD is dropped, and the tmpfs is nosuid/noexec).
  if (!MountTmpfsAt("/dev", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, "mode=0755,size=64k", f)) return false;
  ChildFd dev(OpenTarget("/dev", /*file=*/false, "/dev", f));
  if (!dev.valid()) return false;
  for (const char* node : kDevNodes) {
    WhatBuf what("/dev/");
    what.Append(node).Append(" -> /dev/").Append(node).Append(", MS_BIND");
    ChildFd source(OpenNoSymlinks(host_dev, node, O_PATH));
    if (!source.valid()) return Fail(f, "mount", what.c_str());
    PathBuf rel("/dev/");
    rel.Append(node);
    ChildFd target(OpenTarget(rel.c_str(), /*file=*/true, what.c_str(), f));
    if (!target.valid()) return false;
    if (!BindFd(source.get(), target.get(), MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, what.c_str(), f)) return false;
  }
  static constexpr const char* kLinks[][2] = {{"/proc/self/fd", "fd"},
                                             {"/proc/self/fd/0", "stdin"},
                                             {"/proc/self/fd/1", "stdout"},
                                             {"/proc/self/fd/2", "stderr"}};
  for (const auto& link : kLinks) {
    if (::symlinkat(link[0], dev.get(), link[1]) != 0) return Fail(f, "symlinkat", link[1]);
  }
  return MountTmpfsAt("/dev/shm", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, "mode=1777", f);
}

// A fresh procfs with the host-reaching entries masked.
bool MountProc(int host_dev, ChildFailure* f) {
  ChildFd target(OpenTarget("/proc", /*file=*/false, "proc -> /proc", f));
  if (!target.valid()) return false;
  int root_fd = -1;
  if (!MountFresh("proc", nullptr, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, target.get(),
                  "proc -> /proc", f, &root_fd)) {
    return false;
  }
  ChildFd proc(root_fd);
  for (const char* name : kProcReadOnly) {
    WhatBuf what("/proc/");
    what.Append(name).Append(" (read-only)");
    ChildFd entry(OpenNoSymlinks(proc.get(), name, O_PATH));
    if (!entry.valid()) {
      if (errno == ENOENT) continue;  // not in this kernel's configuration
      return Fail(f, "openat2", what.c_str());
    }
    if (!BindFd(entry.get(), entry.get(),
                MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, what.c_str(), f)) {
      return false;
    }
  }
  ChildFd null(OpenNoSymlinks(host_dev, "null", O_PATH));
  if (!null.valid()) return Fail(f, "openat2", "/dev/null (for /proc masks)");
  for (const char* name : kProcNull) {
    WhatBuf what("/dev/null -> /proc/");
    what.Append(name);
    ChildFd entry(OpenNoSymlinks(proc.get(), name, O_PATH));
    if (!entry.valid()) {
      if (errno == ENOENT) continue;
      return Fail(f, "openat2", what.c_str());
    }
    if (!BindFd(null.get(), entry.get(), MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, what.c_str(),
                f)) {
      return false;
    }
  }
  for (const char* name : kProcEmptyDirs) {
    WhatBuf what("tmpfs -> /proc/");
    what.Append(name);
    ChildFd entry(OpenNoSymlinks(proc.get(), name, O_PATH | O_DIRECTORY));
    if (!entry.valid()) {
      if (errno == ENOENT) continue;
      return Fail(f, "openat2", what.c_str());
    }
    if (!MountFresh("tmpfs", "mode=0555,size=4k",
                    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, entry.get(),
                    what.c_str(), f)) {
      return false;
    }
  }
  return true;
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

  auto under = [](const std::string& path, const std::string& dir) {
    return path == dir || dir == "/" || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                                         path[dir.size()] == '/');
  };
  auto under_read_write = [&](const std::string& path) {
    return std::any_of(fs.read_write.begin(), fs.read_write.end(),
                       [&](const std::string& rw) { return under(path, rw); });
  };
  auto real_path = [](const std::string& path) -> std::string {
    std::unique_ptr<char, decltype(&::free)> real(::realpath(path.c_str(), nullptr), &::free);
    return real ? std::string(real.get()) : path;
  };

  for (const auto& p : fs.read_write) {
    // The workload writes here, so it could plant a symlink that a later
    // launch would follow (say data -> /etc, bound read-write). A readWrite
    // path is bound only as written; the child refuses any symlink in it.
    std::string real = real_path(p);
    if (real != p) {
      return FailedPrecondition("filesystem.readWrite " + p + ": resolves through a symlink (to " + real +
                                "); list the real path (symlinks in readWrite paths are refused)");
    }
  }

  auto add_bind = [&](const std::string& path, MountEntry::Kind kind) {
    MountEntry e;
    e.kind = kind;
    e.path = path;
    // Resolve symlinks on the host (e.g. /lib64 -> usr/lib64 on merged-/usr
    // systems): inside the staging root an absolute link would point at the
    // wrong tree. The sandbox still sees the content at the policy's path.
    // Never below a readWrite path: the workload controls what's there.
    // The child then opens the result without following any symlink, so a
    // link swapped in after this lookup is refused, not followed.
    e.source = kind == MountEntry::Kind::kReadOnlyBind && !under_read_write(path) ? real_path(path) : path;
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

  // Every source is opened here, in this mount namespace, beneath the old
  // root and without following symlinks: the object bound is the one the
  // parent planned, or the launch fails.
  ChildFd old_root(::open(kOldRoot, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!old_root.valid()) return Fail(f, "open", kOldRoot);
  for (const MountEntry& e : plan.entries) {
    switch (e.kind) {
      case MountEntry::Kind::kReadOnlyBind:
      case MountEntry::Kind::kReadWriteBind: {
        const char* rel = e.source.c_str();
        while (*rel == '/') ++rel;
        ChildFd source(*rel == '\0' ? ::open(kOldRoot, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                                    : OpenNoSymlinks(old_root.get(), rel, O_PATH));
        if (!source.valid()) {
          if (errno == ELOOP) {
            WhatBuf what(e.describe.c_str());
            what.Append(": symlink in the source path refused");
            return SetChildFailure(f, "mounts", "openat2", what.c_str(), errno);
          }
          return Fail(f, "mount", e.describe.c_str());
        }
        struct stat st;
        if (::fstat(source.get(), &st) != 0) return Fail(f, "fstat", e.describe.c_str());
        ChildFd target(OpenTarget(e.path.c_str(), !S_ISDIR(st.st_mode), e.describe.c_str(), f));
        if (!target.valid()) return false;
        uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
        if (e.kind == MountEntry::Kind::kReadOnlyBind) attrs |= MOUNT_ATTR_RDONLY;
        if (!BindFd(source.get(), target.get(), attrs, e.describe.c_str(), f)) return false;
        break;
      }
      case MountEntry::Kind::kTmpfs:
        if (!MountTmpfsAt(e.path.c_str(), MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, "mode=1777", f)) {
          return false;
        }
        break;
    }
  }

  ChildFd host_dev(OpenNoSymlinks(old_root.get(), "dev", O_PATH | O_DIRECTORY));
  if (!host_dev.valid()) return Fail(f, "openat2", "/dev (host)");
  // A fresh procfs: it shows only the new pid namespace's processes.
  if (!MountProc(host_dev.get(), f)) return false;
  if (!MountDev(host_dev.get(), f)) return false;
  host_dev.Reset(-1);
  old_root.Reset(-1);

  // The root itself is read-only: the workload writes only where the policy
  // says. mount_setattr changes this mount only (for a bound host root not
  // the host's superblock) and keeps every flag the mount already has.
  {
    ChildFd root(::open(kNewRoot, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root.valid()) return Fail(f, "open", kNewRoot);
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (::mount_setattr(root.get(), "", AT_EMPTY_PATH, &attr, sizeof(attr)) != 0) {
      return Fail(f, "mount_setattr", "/ (read-only)");
    }
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
