// Landlock rules for a workload (landlock.h, docs/landlock.md).
//
// Make() runs in the parent and does all the deciding and allocating; Apply()
// runs in the child between clone() and execve() and only issues syscalls on
// what Make() prepared.
#include "edgeward/sandbox/landlock.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <string>
#include <utility>

// Debian 12's kernel headers stop at ABI 2 (REFER). The values below are
// from the kernel uapi (include/uapi/linux/landlock.h, Linux 6.15); the
// kernel never renumbers them.
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)  // ABI 3
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)  // ABI 5
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)  // ABI 4
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)  // ABI 4
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)  // ABI 6
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)  // ABI 6
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON
#define LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1)  // ABI 7
#endif

namespace edgeward::sandbox {
namespace {

// enum landlock_rule_type gained LANDLOCK_RULE_NET_PORT in ABI 4; an enum
// member can't be #ifndef-guarded, so it has its own name here (uapi value).
constexpr int kRuleNetPort = 2;

// struct landlock_ruleset_attr as of ABI 6. The kernel takes the size we
// pass and treats missing trailing fields as zero, so older kernels get the
// prefix they know (see RulesetAttrSize).
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;  // ABI 4
  uint64_t scoped;              // ABI 6
};

// struct landlock_net_port_attr (ABI 4), packed like the kernel's.
struct __attribute__((packed)) NetPortAttr {
  uint64_t allowed_access;
  uint64_t port;
};

struct __attribute__((packed)) PathBeneathAttr {
  uint64_t allowed_access;
  int32_t parent_fd;
};
static_assert(sizeof(PathBeneathAttr) == sizeof(landlock_path_beneath_attr));

constexpr uint64_t kFsRead = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
constexpr uint64_t kFsExecute = LANDLOCK_ACCESS_FS_EXECUTE;
constexpr uint64_t kFsWriteFile = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;

// Every filesystem right the given ABI knows.
uint64_t FsRightsForAbi(int abi) {
  uint64_t rights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
                    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
                    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
                    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                    LANDLOCK_ACCESS_FS_MAKE_SYM;
  if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return rights;
}

// The rights that apply to a non-directory; the kernel rejects a rule on a
// file that names directory rights (EINVAL), so Apply() masks with this.
constexpr uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                 LANDLOCK_ACCESS_FS_IOCTL_DEV;

// Size of struct landlock_ruleset_attr for an ABI: the kernel accepts a
// larger struct only if the extra bytes are zero, but passing what the ABI
// defines keeps the call honest about what it asks for.
size_t RulesetAttrSize(int abi) {
  if (abi >= 6) return sizeof(RulesetAttr);
  if (abi >= 4) return offsetof(RulesetAttr, scoped);
  return offsetof(RulesetAttr, handled_access_net);
}

std::vector<std::string> DegradedNotes(int abi) {
  std::vector<std::string> notes;
  if (abi == 0) {
    notes.push_back(
        "Landlock unavailable: filesystem access rules (execute from tmpfs, device nodes) "
        "not enforced beyond the mount layout");
    notes.push_back("Landlock unavailable: TCP bind/connect rules not enforced");
    notes.push_back(
        "Landlock unavailable: signals and abstract unix sockets to processes outside the "
        "sandbox not scoped");
    return notes;
  }
  std::string prefix = "Landlock ABI " + std::to_string(abi) + ": ";
  if (abi < 2) {
    notes.push_back(prefix +
                    "renaming or linking files across directories (REFER) is always refused");
  }
  if (abi < 3) notes.push_back(prefix + "truncate() not restricted");
  if (abi < 4) notes.push_back(prefix + "TCP bind/connect rules not enforced");
  if (abi < 5) notes.push_back(prefix + "ioctl on device files not restricted");
  if (abi < 6) {
    notes.push_back(prefix +
                    "signals and abstract unix sockets to processes outside the sandbox not "
                    "scoped");
  }
  return notes;
}

std::vector<uint16_t> SortedUnique(std::vector<uint16_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

Status CheckPath(const std::string& path, const char* field) {
  if (path.empty() || path[0] != '/') {
    return InvalidArgument(std::string("landlock: filesystem.") + field + " path '" + path +
                           "' is not absolute");
  }
  if (path.size() >= PATH_MAX) {
    return InvalidArgument(std::string("landlock: filesystem.") + field + " path '" +
                           path.substr(0, 64) + "...' is longer than PATH_MAX");
  }
  return Status::Ok();
}

long CreateRuleset(const RulesetAttr* attr, size_t size, uint32_t flags) {
  return syscall(SYS_landlock_create_ruleset, attr, size, flags);
}
long AddRule(int ruleset_fd, int type, const void* attr) {
  return syscall(SYS_landlock_add_rule, ruleset_fd, type, attr, 0U);
}
long RestrictSelf(int ruleset_fd, uint32_t flags) {
  return syscall(SYS_landlock_restrict_self, ruleset_fd, flags);
}

// Closes a descriptor on every path out of Apply(); no allocation.
class ChildFd {
 public:
  explicit ChildFd(int fd) : fd_(fd) {}
  ~ChildFd() {
    if (fd_ >= 0) close(fd_);
  }
  ChildFd(const ChildFd&) = delete;
  ChildFd& operator=(const ChildFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

StatusOr<LandlockPlan> LandlockPlan::Make(const policy::FilesystemSpec& fs,
                                          const policy::NetworkSpec& net, int abi) {
  if (abi < 0) {
    return InvalidArgument("landlock: ABI " + std::to_string(abi) + " is negative");
  }
  for (const auto& p : fs.read_only) EW_RETURN_IF_ERROR(CheckPath(p, "readOnly"));
  for (const auto& p : fs.read_write) EW_RETURN_IF_ERROR(CheckPath(p, "readWrite"));
  for (const auto& p : fs.tmpfs) EW_RETURN_IF_ERROR(CheckPath(p, "tmpfs"));

  LandlockPlan plan;
  plan.degraded_ = DegradedNotes(abi);
  if (abi > kNewestKnownAbi) {
    plan.degraded_.push_back("Landlock ABI " + std::to_string(abi) +
                             ": rights newer than ABI " + std::to_string(kNewestKnownAbi) +
                             " are not used");
  }
  plan.abi_ = std::min(abi, kNewestKnownAbi);
  if (plan.abi_ == 0) return plan;

  const uint64_t all = FsRightsForAbi(plan.abi_);
  plan.handled_access_fs_ = all;
  const uint64_t read_exec = (kFsRead | kFsExecute) & all;
  const uint64_t no_exec = all & ~kFsExecute;

  for (const auto& p : fs.read_only) plan.path_rules_.push_back({p, read_exec, false});
  for (const auto& p : fs.read_write) plan.path_rules_.push_back({p, all, false});
  for (const auto& p : fs.tmpfs) plan.path_rules_.push_back({p, no_exec, false});

  // The launcher's synthetic mounts. They are the launcher's to create, so a
  // missing one (e.g. no mount namespace and no /dev/shm on the host) is
  // skipped rather than failing the workload.
  plan.path_rules_.push_back({"/proc", kFsRead & all, true});
  plan.path_rules_.push_back({"/dev", LANDLOCK_ACCESS_FS_READ_DIR, true});
  for (const char* dev : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"}) {
    plan.path_rules_.push_back({dev, (LANDLOCK_ACCESS_FS_READ_FILE | kFsWriteFile) & all, true});
  }
  // A terminal needs its ioctls (TCGETS for isatty, window size); TIOCSTI
  // and TIOCLINUX are refused by seccomp, not here.
  plan.path_rules_.push_back(
      {"/dev/tty",
       (LANDLOCK_ACCESS_FS_READ_FILE | kFsWriteFile | LANDLOCK_ACCESS_FS_IOCTL_DEV) & all, true});
  plan.path_rules_.push_back({"/dev/shm", no_exec, true});

  if (plan.abi_ >= 4) {
    plan.handled_access_net_ = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
    plan.tcp_bind_ = SortedUnique(net.tcp_bind);
    plan.tcp_connect_ = SortedUnique(net.tcp_connect);
  }
  if (plan.abi_ >= 6) {
    plan.scoped_ = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
  }
  return plan;
}

StatusOr<LandlockPlan> LandlockPlan::ForPolicy(const policy::WorkloadPolicy& policy, int abi) {
  if (policy.mode == policy::Mode::kLearn) {
    EW_ASSIGN_OR_RETURN(LandlockPlan plan, Make(policy.filesystem, policy.network, 0));
    plan.degraded_.assign(
        {"Landlock not applied in learn mode: every path and port the workload touches "
         "is allowed and recorded"});
    return plan;
  }
  EW_ASSIGN_OR_RETURN(LandlockPlan plan, Make(policy.filesystem, policy.network, abi));
  if (policy.mode == policy::Mode::kAudit && plan.abi_ >= 7) {
    // Without this flag the kernel logs only denials of the process that
    // called landlock_restrict_self(), i.e. the launcher, not the workload
    // it execs.
    plan.restrict_flags_ |= LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON;
  }
  return plan;
}

bool LandlockPlan::Apply(ChildFailure* failure) const {
  if (abi_ == 0) return true;
  constexpr const char* kStep = "landlock";

  RulesetAttr attr = {handled_access_fs_, handled_access_net_, scoped_};
  ChildFd ruleset(static_cast<int>(CreateRuleset(&attr, RulesetAttrSize(abi_), 0)));
  if (ruleset.get() < 0) {
    return SetChildFailure(failure, kStep, "landlock_create_ruleset", nullptr, errno);
  }

  for (const PathRule& rule : path_rules_) {
    const char* path = rule.path.c_str();  // prepared by Make(); no allocation here
    ChildFd fd(open(path, O_PATH | O_CLOEXEC));
    if (fd.get() < 0) {
      if (rule.optional && errno == ENOENT) continue;
      return SetChildFailure(failure, kStep, "open", path, errno);
    }
    struct stat st;
    if (fstat(fd.get(), &st) != 0) return SetChildFailure(failure, kStep, "fstat", path, errno);
    PathBeneathAttr beneath = {rule.access, fd.get()};
    if (!S_ISDIR(st.st_mode)) beneath.allowed_access &= kFileRights;
    if (beneath.allowed_access == 0) continue;  // e.g. READ_DIR on a file: nothing to grant
    if (AddRule(ruleset.get(), LANDLOCK_RULE_PATH_BENEATH, &beneath) != 0) {
      return SetChildFailure(failure, kStep, "landlock_add_rule", path, errno);
    }
  }

  // Port numbers as text for the failure record, without snprintf (not
  // async-signal-safe).
  auto port_text = [](uint16_t port, char* out) {
    char digits[6];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + port % 10);
      port = static_cast<uint16_t>(port / 10);
    } while (port != 0);
    int i = 0;
    out[i++] = 't';
    out[i++] = 'c';
    out[i++] = 'p';
    out[i++] = ':';
    while (n > 0) out[i++] = digits[--n];
    out[i] = '\0';
  };
  auto add_ports = [&](const std::vector<uint16_t>& ports, uint64_t access) {
    for (uint16_t port : ports) {
      NetPortAttr net = {access, port};
      if (AddRule(ruleset.get(), kRuleNetPort, &net) != 0) {
        char what[16];
        port_text(port, what);
        return SetChildFailure(failure, kStep, "landlock_add_rule", what, errno);
      }
    }
    return true;
  };
  if (handled_access_net_ != 0) {
    if (!add_ports(tcp_bind_, LANDLOCK_ACCESS_NET_BIND_TCP)) return false;
    if (!add_ports(tcp_connect_, LANDLOCK_ACCESS_NET_CONNECT_TCP)) return false;
  }

  if (RestrictSelf(ruleset.get(), restrict_flags_) != 0) {
    return SetChildFailure(failure, kStep, "landlock_restrict_self", nullptr, errno);
  }
  return true;
}

}  // namespace edgeward::sandbox
