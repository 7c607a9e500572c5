// The exposure checks behind `policy explain` (weights: docs/policy.md).
// Weights say how much a protection matters for a typical edge workload;
// badness says how much of it is missing, on this node.
#include <algorithm>
#include <string>

#include "edgeward/policy/parse.h"
#include "explain_internal.h"

namespace edgeward::policy::internal {
namespace {

// How much a kept capability opens up (1.0: equivalent to root on the host).
double CapabilityBadness(const std::string& cap) {
  struct Entry {
    std::string_view name;
    double badness;
  };
  static constexpr Entry kTable[] = {
      {"CAP_SYS_ADMIN", 1.0},    {"CAP_SYS_MODULE", 1.0},   {"CAP_SYS_RAWIO", 1.0},  {"CAP_SYS_PTRACE", 0.9},
      {"CAP_BPF", 0.9},          {"CAP_DAC_OVERRIDE", 0.8}, {"CAP_DAC_READ_SEARCH", 0.8}, {"CAP_SETUID", 0.7},
      {"CAP_SETGID", 0.6},       {"CAP_SETFCAP", 0.7},      {"CAP_SETPCAP", 0.6},    {"CAP_NET_ADMIN", 0.7},
      {"CAP_SYS_BOOT", 0.7},     {"CAP_MAC_ADMIN", 0.8},    {"CAP_MAC_OVERRIDE", 0.8}, {"CAP_FOWNER", 0.6},
      {"CAP_CHOWN", 0.5},        {"CAP_PERFMON", 0.5},      {"CAP_SYS_TIME", 0.5},   {"CAP_NET_RAW", 0.4},
      {"CAP_MKNOD", 0.4},        {"CAP_SYS_CHROOT", 0.3},   {"CAP_KILL", 0.4},       {"CAP_NET_BIND_SERVICE", 0.1},
  };
  for (const Entry& e : kTable) {
    if (e.name == cap) return e.badness;
  }
  return 0.3;
}

bool IsUnder(const std::string& path, std::string_view dir) {
  if (dir == "/") return true;
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

// Directories whose writability changes what the host runs or who can log in.
constexpr std::string_view kSystemDirs[] = {"/bin", "/boot", "/etc", "/lib", "/lib64", "/root", "/sbin",
                                            "/usr", "/proc", "/sys", "/dev", "/home"};
// Writable as a whole is bad; a workload's own subdirectory is normal.
constexpr std::string_view kStateDirs[] = {"/var", "/var/lib", "/opt", "/srv"};
// Directories with secrets readable by the right uid.
constexpr std::string_view kSecretDirs[] = {"/etc/shadow", "/etc/ssh", "/root", "/home", "/var/lib/edgeward",
                                            "/proc", "/sys"};

}  // namespace

std::vector<ExposureFinding> ScoreExposure(const WorkloadPolicy& p, const NodeFeatures& node) {
  std::vector<ExposureFinding> out;
  auto add = [&](std::string id, std::string description, double weight, double badness) {
    out.push_back(ExposureFinding{std::move(id), std::move(description), weight, std::clamp(badness, 0.0, 1.0)});
  };

  // --- mode
  if (p.mode == Mode::kEnforce) {
    add("mode", "enforce: violations take the policy's action", 10, 0);
  } else if (p.mode == Mode::kAudit) {
    add("mode", "audit: seccomp violations proceed and are only recorded", 10, 0.7);
  } else {
    add("mode", "learn: every syscall proceeds; seccomp enforces nothing", 10, 1.0);
  }

  // --- user and capabilities
  if (!p.user) {
    add("user.root", "no user: runs as the invoking user (root under the agent)", 10, 1.0);
  } else if (p.user->uid == 0) {
    add("user.root", "runs as uid 0 (root)", 10, 1.0);
  } else {
    add("user.root", "runs as unprivileged uid " + std::to_string(p.user->uid), 10, 0);
  }
  if (p.user && p.user->gid == 0) add("user.gid0", "runs with gid 0 (root group)", 3, 1.0);
  double worst_cap = 0;
  std::string worst_name;
  for (const std::string& c : p.capabilities) {
    const double b = CapabilityBadness(c);
    if (b > worst_cap) {
      worst_cap = b;
      worst_name = c;
    }
  }
  add("capabilities", p.capabilities.empty() ? "all capabilities dropped"
                                             : "keeps " + JoinList(p.capabilities) + " (worst: " + worst_name + ")",
      10, worst_cap);

  // --- namespaces (net is scored with the network)
  add("namespace.pid", HasNamespace(p, Namespace::kPid) ? "own PID namespace" : "sees and can signal host processes",
      4, HasNamespace(p, Namespace::kPid) ? 0 : 1);
  add("namespace.mount", HasNamespace(p, Namespace::kMount) ? "own mount namespace and root"
                                                           : "no mount namespace: the host's file tree is mounted",
      6, HasNamespace(p, Namespace::kMount) ? 0 : 1);
  add("namespace.ipc", HasNamespace(p, Namespace::kIpc) ? "own IPC namespace" : "shares host SysV IPC and POSIX queues",
      2, HasNamespace(p, Namespace::kIpc) ? 0 : 1);
  add("namespace.uts", HasNamespace(p, Namespace::kUts) ? "own hostname" : "can see the host's hostname",
      1, HasNamespace(p, Namespace::kUts) ? 0 : 1);
  add("namespace.cgroup", HasNamespace(p, Namespace::kCgroup) ? "own cgroup namespace" : "sees the host's cgroup paths",
      1, HasNamespace(p, Namespace::kCgroup) ? 0 : 1);

  // --- network
  const bool tcp_rules = node.landlock_abi >= 4;
  switch (p.network.mode) {
    case NetworkMode::kNone:
      add("network", "no network", 8, 0);
      break;
    case NetworkMode::kLoopback:
      add("network", "loopback only, in its own namespace", 8, 0.1);
      break;
    case NetworkMode::kHost:
      if (!tcp_rules) {
        add("network", "host network; TCP port rules not enforceable here (Landlock ABI < 4)", 8, 1.0);
      } else {
        const size_t n = p.network.tcp_bind.size() + p.network.tcp_connect.size();
        // UDP and raw-less other protocols stay open on the host network.
        add("network", "host network; TCP limited to " + std::to_string(n) + " port(s); UDP unrestricted", 8,
            n == 0 ? 0.4 : 0.5);
      }
      break;
  }

  // --- filesystem
  const bool landlock = node.landlock_abi >= 1;
  const bool mount_ns = HasNamespace(p, Namespace::kMount);
  double fs_write = 0;
  std::string fs_write_what = "writes only its readWrite and tmpfs paths";
  auto worse_write = [&](double b, const std::string& path) {
    if (b > fs_write) {
      fs_write = b;
      fs_write_what = "can write system path " + path;
    }
  };
  for (const std::string& path : p.filesystem.read_write) {
    if (path == "/") worse_write(1.0, path);
    for (std::string_view dir : kSystemDirs) {
      if (IsUnder(std::string(dir), path)) worse_write(0.9, path);  // the whole system dir
      else if (IsUnder(path, dir)) worse_write(0.5, path);          // something inside it
    }
    for (std::string_view dir : kStateDirs) {
      if (IsUnder(std::string(dir), path)) worse_write(0.7, path);
    }
  }
  if (!landlock && !mount_ns) {
    fs_write = 1.0;
    fs_write_what = "no mount namespace and no Landlock: filesystem rules unenforced";
  }
  add("filesystem.write", fs_write_what, 8, fs_write);
  double fs_read = 0;
  std::string fs_read_what = "reads only its listed paths";
  // Secrets are also guarded by file modes, so a non-root workload is less exposed.
  const bool root = !p.user || p.user->uid == 0;
  for (const std::string& path : p.filesystem.read_only) {
    for (std::string_view dir : kSecretDirs) {
      if (IsUnder(std::string(dir), path) || IsUnder(path, dir)) {
        const double b = (path == "/" ? 0.8 : 0.6) * (root ? 1.0 : 0.4);
        if (b > fs_read) {
          fs_read = b;
          fs_read_what = "can read " + path + " (holds secrets)";
        }
      }
    }
  }
  if (!landlock && !mount_ns) {
    fs_read = 1.0;
    fs_read_what = "no mount namespace and no Landlock: everything readable";
  }
  add("filesystem.read", fs_read_what, 5, fs_read);
  const bool exec_writable = !p.filesystem.read_write.empty();
  add("filesystem.exec", exec_writable ? "readWrite paths are executable (write-then-exec possible)"
                                       : "nothing writable is executable",
      2, exec_writable ? 1 : 0);

  // --- seccomp
  const SeccompSpec& s = p.seccomp;
  const bool denylist = s.default_action && s.default_action->kind == SeccompActionKind::kAllow;
  const bool logs_only = s.default_action && s.default_action->kind == SeccompActionKind::kLog;
  double sc = 0;
  std::string sc_what;
  switch (s.profile) {
    case SeccompProfileKind::kStrict: sc = 0.1, sc_what = "strict allowlist"; break;
    case SeccompProfileKind::kBaseline: sc = 0.3, sc_what = "baseline allowlist"; break;
    case SeccompProfileKind::kOciFile: sc = 0.3, sc_what = "OCI profile " + s.profile_path; break;
    case SeccompProfileKind::kNone:
      sc = 0.05;
      sc_what = "explicit allowlist of " + std::to_string(s.allow.size()) + " rule(s)";
      break;
  }
  if (denylist) {
    sc = 0.8;
    sc_what = "denylist (default allow)";
  }
  if (logs_only) {
    sc = 0.9;
    sc_what = "default action log: unlisted syscalls proceed";
  }
  if (!node.seccomp_filter) {
    sc = 1.0;
    sc_what = "no seccomp on this kernel";
  }
  add("seccomp.filter", "syscalls: " + sc_what, 10, sc);
  std::vector<std::string> opted;
  for (const DangerousOptIn& d : s.allow_dangerous) opted.push_back(d.name);
  add("seccomp.dangerous", opted.empty() ? "dangerous syscalls denied" : "dangerous syscalls opted in: " + JoinList(opted),
      8, 0.35 * static_cast<double>(opted.size()));

  // --- limits
  const bool mem_ok = node.cgroup_v2_unified_with_controllers || node.cgroup_v1_memory;
  const bool pids_ok = node.cgroup_v2_unified_with_controllers || node.cgroup_v1_pids;
  const bool cpu_ok = node.cgroup_v2_unified_with_controllers || node.cgroup_v1_cpu;
  add("limits.memory", p.limits.memory_bytes ? (mem_ok ? "memory limited to " + FormatBytes(*p.limits.memory_bytes)
                                                       : "memory limit set but no memory controller here")
                                             : "memory unlimited",
      3, p.limits.memory_bytes && mem_ok ? 0 : 1);
  add("limits.pids", p.limits.pids ? (pids_ok ? "at most " + std::to_string(*p.limits.pids) + " tasks"
                                              : "pids limit set but no pids controller here")
                                   : "tasks unlimited (fork bomb)",
      3, p.limits.pids && pids_ok ? 0 : 1);
  add("limits.cpu", p.limits.cpu_millis ? (cpu_ok ? "CPU limited to " + FormatCpu(*p.limits.cpu_millis)
                                                  : "CPU limit set but no cpu controller here")
                                        : "CPU unlimited",
      1, p.limits.cpu_millis && cpu_ok ? 0 : 1);
  add("limits.nofile", p.limits.nofile ? "at most " + std::to_string(*p.limits.nofile) + " open files"
                                       : "open files: inherited limit",
      1, p.limits.nofile ? 0 : 1);

  std::stable_sort(out.begin(), out.end(), [](const ExposureFinding& a, const ExposureFinding& b) {
    return a.weight * a.badness > b.weight * b.badness;
  });
  return out;
}

}  // namespace edgeward::policy::internal
