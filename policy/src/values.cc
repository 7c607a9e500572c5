// Value syntaxes of the policy language (parse.h): sizes, CPU quotas, paths,
// seccomp actions, enum names.
#include <linux/limits.h>

#include <array>
#include <charconv>
#include <cerrno>
#include <string>
#include <utility>

#include "edgeward/policy/parse.h"
#include "edgeward/policy/syscalls.h"

namespace edgeward::policy {
namespace {

struct Unit {
  std::string_view suffix;
  uint64_t factor;
};
// Longest suffixes first so "Mi" wins over "M".
constexpr std::array kUnits = {
    Unit{"Ki", 1ULL << 10}, Unit{"Mi", 1ULL << 20}, Unit{"Gi", 1ULL << 30}, Unit{"Ti", 1ULL << 40},
    Unit{"Pi", 1ULL << 50}, Unit{"K", 1000ULL},     Unit{"k", 1000ULL},     Unit{"M", 1000000ULL},
    Unit{"G", 1000000000ULL}, Unit{"T", 1000000000000ULL}, Unit{"P", 1000000000000000ULL},
};

struct ErrnoName {
  std::string_view name;
  uint16_t value;
};
// The errno values a policy plausibly returns; any other is given by number.
constexpr std::array kErrnos = {
    ErrnoName{"EPERM", EPERM},         ErrnoName{"ENOENT", ENOENT},   ErrnoName{"ESRCH", ESRCH},
    ErrnoName{"EINTR", EINTR},         ErrnoName{"EIO", EIO},         ErrnoName{"EBADF", EBADF},
    ErrnoName{"EAGAIN", EAGAIN},       ErrnoName{"ENOMEM", ENOMEM},   ErrnoName{"EACCES", EACCES},
    ErrnoName{"EFAULT", EFAULT},       ErrnoName{"EBUSY", EBUSY},     ErrnoName{"EEXIST", EEXIST},
    ErrnoName{"ENOTDIR", ENOTDIR},     ErrnoName{"EISDIR", EISDIR},   ErrnoName{"EINVAL", EINVAL},
    ErrnoName{"ENOTTY", ENOTTY},       ErrnoName{"EROFS", EROFS},     ErrnoName{"ENOSYS", ENOSYS},
    ErrnoName{"EOPNOTSUPP", EOPNOTSUPP}, ErrnoName{"EAFNOSUPPORT", EAFNOSUPPORT},
    ErrnoName{"EPROTONOSUPPORT", EPROTONOSUPPORT}, ErrnoName{"ECONNREFUSED", ECONNREFUSED},
    ErrnoName{"ENETUNREACH", ENETUNREACH},
};

}  // namespace

StatusOr<uint64_t> ParseMemorySize(std::string_view text) {
  const std::string shown(text.substr(0, 40));
  uint64_t factor = 1;
  for (const Unit& u : kUnits) {
    if (text.size() > u.suffix.size() && text.substr(text.size() - u.suffix.size()) == u.suffix) {
      factor = u.factor;
      text.remove_suffix(u.suffix.size());
      break;
    }
  }
  if (text.empty() || text.front() < '0' || text.front() > '9') {
    return InvalidArgument("'" + shown + "' is not a size (e.g. 256Mi, 1G, 1048576)");
  }
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && n > UINT64_MAX / factor)) {
    return InvalidArgument("'" + shown + "' is too large");
  }
  if (ec != std::errc() || end != text.data() + text.size()) {
    return InvalidArgument("'" + shown + "' is not a size (e.g. 256Mi, 1G, 1048576)");
  }
  return n * factor;
}

StatusOr<uint32_t> ParseCpuMillis(std::string_view text) {
  const std::string shown(text.substr(0, 40));
  auto bad = [&] { return InvalidArgument("'" + shown + "' is not a CPU amount (e.g. \"0.5\", \"2\", \"500m\")"); };
  if (text.empty()) return bad();
  if (text.back() == 'm') {
    text.remove_suffix(1);
    uint32_t m = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), m);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return bad();
    return m;
  }
  const size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() && frac.empty()) return bad();
  uint32_t w = 0;
  if (!whole.empty()) {
    auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), w);
    if (ec != std::errc() || end != whole.data() + whole.size() || w > 4000000) return bad();
  }
  if (dot != std::string_view::npos && frac.empty()) return bad();
  if (frac.size() > 3) return InvalidArgument("'" + shown + "': at most three decimals (1m is the smallest quota)");
  uint32_t f = 0;
  for (char c : frac) {
    if (c < '0' || c > '9') return bad();
    f = f * 10 + static_cast<uint32_t>(c - '0');
  }
  for (size_t i = frac.size(); i < 3; ++i) f *= 10;
  return w * 1000 + f;
}

StatusOr<std::string> NormalizePolicyPath(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return InvalidArgument("'" + std::string(path.substr(0, 80)) + "' is not an absolute path");
  }
  if (path.size() > PATH_MAX - 1) return InvalidArgument("path longer than PATH_MAX");
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    const size_t start = i;
    while (i < path.size() && path[i] != '/') {
      const auto c = static_cast<unsigned char>(path[i]);
      if (c < 0x20 || c == 0x7f) return InvalidArgument("path contains a control character");
      ++i;
    }
    std::string_view comp = path.substr(start, i - start);
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") {
      return InvalidArgument("'" + std::string(path.substr(0, 80)) + "' contains '..'");
    }
    out += '/';
    out += comp;
  }
  if (out.empty()) out = "/";
  return out;
}

StatusOr<SeccompAction> ParseSeccompAction(std::string_view text) {
  if (text == "allow") return SeccompAction{SeccompActionKind::kAllow, 0};
  if (text == "kill" || text == "kill_process") return SeccompAction{SeccompActionKind::kKillProcess, 0};
  if (text == "kill_thread") return SeccompAction{SeccompActionKind::kKillThread, 0};
  if (text == "trap") return SeccompAction{SeccompActionKind::kTrap, 0};
  if (text == "log") return SeccompAction{SeccompActionKind::kLog, 0};
  if (text == "notify") return SeccompAction{SeccompActionKind::kNotify, 0};
  if (text == "errno") return SeccompAction{SeccompActionKind::kErrno, EPERM};
  const std::string shown(text.substr(0, 40));
  if (text.size() > 7 && text.substr(0, 6) == "errno(" && text.back() == ')') {
    std::string_view arg = text.substr(6, text.size() - 7);
    for (const ErrnoName& e : kErrnos) {
      if (e.name == arg) return SeccompAction{SeccompActionKind::kErrno, e.value};
    }
    unsigned n = 0;
    auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), n);
    if (!arg.empty() && ec == std::errc() && end == arg.data() + arg.size()) {
      // errno 0 would make a denied call look successful; 4095 is MAX_ERRNO.
      if (n < 1 || n > 4095) return InvalidArgument("errno value " + std::string(arg) + " is out of range [1, 4095]");
      return SeccompAction{SeccompActionKind::kErrno, static_cast<uint16_t>(n)};
    }
    return InvalidArgument("unknown errno '" + std::string(arg.substr(0, 40)) +
                           "' (use a number or one of EPERM, EACCES, ENOSYS, EINVAL, ...)");
  }
  return InvalidArgument("unknown action '" + shown +
                         "' (expected errno(EPERM), errno(N), kill, kill_process, kill_thread, trap, log, notify)");
}

std::string FormatSeccompAction(const SeccompAction& action) {
  switch (action.kind) {
    case SeccompActionKind::kAllow: return "allow";
    case SeccompActionKind::kKillProcess: return "kill_process";
    case SeccompActionKind::kKillThread: return "kill_thread";
    case SeccompActionKind::kTrap: return "trap";
    case SeccompActionKind::kLog: return "log";
    case SeccompActionKind::kNotify: return "notify";
    case SeccompActionKind::kErrno:
      for (const ErrnoName& e : kErrnos) {
        if (e.value == action.errno_value) return "errno(" + std::string(e.name) + ")";
      }
      return "errno(" + std::to_string(action.errno_value) + ")";
  }
  return "?";
}

std::string_view ModeName(Mode mode) {
  switch (mode) {
    case Mode::kEnforce: return "enforce";
    case Mode::kAudit: return "audit";
    case Mode::kLearn: return "learn";
  }
  return "?";
}

std::string_view NamespaceName(Namespace ns) {
  switch (ns) {
    case Namespace::kPid: return "pid";
    case Namespace::kMount: return "mount";
    case Namespace::kIpc: return "ipc";
    case Namespace::kUts: return "uts";
    case Namespace::kNet: return "net";
    case Namespace::kCgroup: return "cgroup";
    case Namespace::kUser: return "user";
  }
  return "?";
}

std::string_view NetworkModeName(NetworkMode mode) {
  switch (mode) {
    case NetworkMode::kNone: return "none";
    case NetworkMode::kLoopback: return "loopback";
    case NetworkMode::kHost: return "host";
  }
  return "?";
}

std::string_view ArgOpName(ArgOp op) {
  switch (op) {
    case ArgOp::kEq: return "eq";
    case ArgOp::kNe: return "ne";
    case ArgOp::kLt: return "lt";
    case ArgOp::kLe: return "le";
    case ArgOp::kGt: return "gt";
    case ArgOp::kGe: return "ge";
    case ArgOp::kMaskedEq: return "masked_eq";
  }
  return "?";
}

bool AllowNeedsOptIn(std::string_view name) {
  const DangerousSyscall* d = FindDangerous(name);
  if (d == nullptr) return false;
  return d->kind == DangerKind::kWhole || name == "unshare" || name == "clone3";
}

}  // namespace edgeward::policy
