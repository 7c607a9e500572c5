// `policy explain`: statements per area, the score, the node's gaps, and the
// two output formats.
#include "edgeward/policy/explain.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "edgeward/policy/parse.h"
#include "edgeward/policy/syscalls.h"
#include "explain_internal.h"

namespace edgeward::policy {
namespace internal {

bool HasNamespace(const WorkloadPolicy& p, Namespace ns) {
  return std::find(p.namespaces.begin(), p.namespaces.end(), ns) != p.namespaces.end();
}

std::string JoinList(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"Ki", "Mi", "Gi", "Ti", "Pi"};
  if (bytes < 1024 || bytes % 1024 != 0) return std::to_string(bytes);
  int u = -1;
  uint64_t v = bytes;
  while (v % 1024 == 0 && v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return std::to_string(v) + kUnits[u];
}

std::string FormatCpu(uint32_t millis) {
  std::string s = std::to_string(millis / 1000);
  if (millis % 1000 != 0) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03u", millis % 1000);
    std::string f(frac);
    while (f.back() == '0') f.pop_back();
    s += f;
  }
  return s;
}

}  // namespace internal

namespace {

using internal::FormatBytes;
using internal::FormatCpu;
using internal::HasNamespace;
using internal::JoinList;

std::string Ports(const std::vector<uint16_t>& ports) {
  std::vector<std::string> s;
  for (uint16_t p : ports) s.push_back(std::to_string(p));
  return JoinList(s);
}

// Flags and ioctl requests read better in hex.
std::string Number(uint64_t v) {
  if (v < 256) return std::to_string(v);
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string RuleText(const SyscallRule& r) {
  std::string s = JoinList(r.names);
  if (!r.args.empty()) {
    std::vector<std::string> conds;
    for (const ArgCondition& a : r.args) {
      std::string c = "arg" + std::to_string(a.index) + " " + std::string(ArgOpName(a.op)) + " " + Number(a.value);
      if (a.op == ArgOp::kMaskedEq) c += " (mask " + Number(a.mask) + ")";
      conds.push_back(c);
    }
    s += " when " + JoinList(conds, " and ");
  }
  return s;
}

ExplainSection FilesystemSection(const WorkloadPolicy& p, const NodeFeatures& node) {
  ExplainSection s{"Filesystem", {}, {}};
  const FilesystemSpec& fs = p.filesystem;
  if (!fs.read_only.empty()) s.can.push_back("read and execute: " + JoinList(fs.read_only));
  if (!fs.read_write.empty()) s.can.push_back("read, write and execute: " + JoinList(fs.read_write));
  if (!fs.tmpfs.empty()) s.can.push_back("private scratch (fresh tmpfs, noexec): " + JoinList(fs.tmpfs));
  if (fs.read_only.empty() && fs.read_write.empty() && fs.tmpfs.empty()) s.can.push_back("no files beyond /proc and /dev");
  if (HasNamespace(p, Namespace::kMount)) {
    s.cannot.push_back("see any other host path (new root with only these mounts, a fresh /proc, a minimal /dev)");
  }
  if (node.landlock_abi >= 1) {
    s.cannot.push_back("open, write or execute outside these paths (Landlock ABI " + std::to_string(node.landlock_abi) + ")");
  }
  if (!fs.read_only.empty()) s.cannot.push_back("write to its read-only paths");
  return s;
}

ExplainSection NetworkSection(const WorkloadPolicy& p, const NodeFeatures& node) {
  ExplainSection s{"Network", {}, {}};
  const NetworkSpec& n = p.network;
  const bool tcp = node.landlock_abi >= 4;
  switch (n.mode) {
    case NetworkMode::kNone:
      s.cannot.push_back("use any network: its own network namespace has no interface up");
      return s;
    case NetworkMode::kLoopback:
      s.can.push_back("use loopback (127.0.0.1, ::1) inside its own network namespace");
      s.cannot.push_back("reach the host's network or anything beyond the node");
      break;
    case NetworkMode::kHost:
      s.can.push_back("use the host's network interfaces");
      break;
  }
  const std::string how = tcp ? "" : " (NOT enforced on this node: Landlock ABI < 4)";
  if (!n.tcp_bind.empty()) s.can.push_back("listen on TCP ports " + Ports(n.tcp_bind) + how);
  if (!n.tcp_connect.empty()) s.can.push_back("connect to TCP ports " + Ports(n.tcp_connect) + how);
  s.cannot.push_back((n.tcp_bind.empty() ? "bind any TCP port" : "bind other TCP ports") + how);
  s.cannot.push_back((n.tcp_connect.empty() ? "connect over TCP" : "connect to other TCP ports") + how);
  if (n.mode == NetworkMode::kHost) s.can.push_back("use UDP and other non-TCP protocols (Landlock rules cover TCP only)");
  return s;
}

ExplainSection UserSection(const WorkloadPolicy& p) {
  ExplainSection s{"User and capabilities", {}, {}};
  if (p.user) {
    std::string who = "run as uid " + std::to_string(p.user->uid) + ", gid " + std::to_string(p.user->gid);
    if (!p.user->supplementary_gids.empty()) {
      std::vector<std::string> g;
      for (uint32_t id : p.user->supplementary_gids) g.push_back(std::to_string(id));
      who += ", groups " + JoinList(g);
    } else {
      who += ", no supplementary groups";
    }
    s.can.push_back(who);
  } else {
    s.can.push_back("run as the invoking user (root when the agent starts it)");
  }
  if (!p.capabilities.empty()) s.can.push_back("use capabilities " + JoinList(p.capabilities));
  s.cannot.push_back(p.capabilities.empty() ? "use any capability (bounding, ambient and inheritable sets emptied)"
                                            : "use any other capability");
  s.cannot.push_back("gain privileges through setuid/setcap binaries (no_new_privs)");
  if (HasNamespace(p, Namespace::kPid)) s.cannot.push_back("see or signal processes outside its PID namespace");
  if (HasNamespace(p, Namespace::kIpc)) s.cannot.push_back("reach host SysV IPC or POSIX message queues");
  if (HasNamespace(p, Namespace::kUts)) s.cannot.push_back("change the host's hostname");
  return s;
}

ExplainSection SyscallSection(const WorkloadPolicy& p) {
  ExplainSection s{"Syscalls", {}, {}};
  const SeccompSpec& sc = p.seccomp;
  switch (sc.profile) {
    case SeccompProfileKind::kBaseline: s.can.push_back("use the syscalls of the baseline profile (a typical service)"); break;
    case SeccompProfileKind::kStrict: s.can.push_back("use the syscalls of the strict profile (a minimal daemon)"); break;
    case SeccompProfileKind::kOciFile: s.can.push_back("use the syscalls allowed by " + sc.profile_path); break;
    case SeccompProfileKind::kNone: s.can.push_back("use only the syscalls listed in the policy"); break;
  }
  for (const SyscallRule& r : sc.allow) s.can.push_back("use " + RuleText(r));
  for (const DangerousOptIn& d : sc.allow_dangerous) s.can.push_back("use dangerous " + d.name + " (reason: " + d.reason + ")");
  for (const SyscallRule& r : sc.deny) s.cannot.push_back("use " + RuleText(r) + " -> " + FormatSeccompAction(r.action));
  std::vector<std::string> denied;
  for (const DangerousSyscall& d : DangerousSyscalls()) {
    const bool opted = std::any_of(sc.allow_dangerous.begin(), sc.allow_dangerous.end(),
                                   [&](const DangerousOptIn& o) { return o.name == d.name; });
    if (opted) continue;
    switch (d.kind) {
      case DangerKind::kWhole: denied.emplace_back(d.name); break;
      case DangerKind::kNamespaceFlags:
        denied.push_back(d.name == "clone" ? "clone with CLONE_NEW*" : std::string(d.name));
        break;
      case DangerKind::kIoctlTerminal: denied.emplace_back("ioctl TIOCSTI/TIOCLINUX"); break;
      case DangerKind::kPersonality: denied.emplace_back("personality other than the default"); break;
    }
  }
  s.cannot.push_back("use the dangerous set: " + JoinList(denied));
  std::string def = sc.default_action ? FormatSeccompAction(*sc.default_action) : "the profile's default";
  if (sc.default_action && sc.default_action->kind == SeccompActionKind::kAllow) {
    s.can.push_back("use every syscall not denied (default action allow: a denylist)");
  } else {
    s.cannot.push_back("use any other syscall (default action: " + def + ")");
  }
  if (p.mode == Mode::kAudit) s.can.push_back("proceed past violations in audit mode (each is recorded)");
  if (p.mode == Mode::kLearn) s.can.push_back("use any syscall in learn mode (each is recorded)");
  return s;
}

ExplainSection LimitsSection(const WorkloadPolicy& p) {
  ExplainSection s{"Limits", {}, {}};
  const Limits& l = p.limits;
  auto limit = [&](bool set, const std::string& what_set, const std::string& what_unset) {
    (set ? s.cannot : s.can).push_back(set ? what_set : what_unset);
  };
  limit(l.memory_bytes.has_value(), "use more than " + (l.memory_bytes ? FormatBytes(*l.memory_bytes) : "") + " of memory",
        "use unlimited memory");
  limit(l.pids.has_value(), "run more than " + (l.pids ? std::to_string(*l.pids) : "") + " tasks", "run unlimited tasks");
  limit(l.cpu_millis.has_value(), "use more than " + (l.cpu_millis ? FormatCpu(*l.cpu_millis) : "") + " CPU",
        "use unlimited CPU");
  limit(l.nofile.has_value(), "open more than " + (l.nofile ? std::to_string(*l.nofile) : "") + " files",
        "open as many files as the inherited limit allows");
  return s;
}

std::string Rating(double exposure) {
  if (exposure < 2.0) return "OK";
  if (exposure < 5.0) return "MEDIUM";
  if (exposure < 8.0) return "EXPOSED";
  return "UNSAFE";
}

}  // namespace

Explanation Explain(const WorkloadPolicy& policy, const NodeFeatures& node) {
  Explanation e;
  e.policy_name = policy.name;
  e.mode = policy.mode;
  e.node = node;
  e.sections = {FilesystemSection(policy, node), NetworkSection(policy, node), UserSection(policy),
                SyscallSection(policy), LimitsSection(policy)};
  e.findings = internal::ScoreExposure(policy, node);
  double total = 0, bad = 0;
  for (const ExposureFinding& f : e.findings) {
    total += f.weight;
    bad += f.weight * f.badness;
  }
  e.exposure = total > 0 ? std::round(100.0 * bad / total) / 10.0 : 0.0;
  e.rating = Rating(e.exposure);
  e.node_gaps = internal::NodeGaps(policy, node);
  return e;
}

std::string FormatExplanation(const Explanation& e) {
  std::string out;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", e.exposure);
  out += "Policy " + e.policy_name + " (mode " + std::string(ModeName(e.mode)) + ")\n";
  out += "Exposure: " + std::string(buf) + " " + e.rating + "  (0.0 best, 10.0 worst; on this node)\n";
  for (const ExplainSection& s : e.sections) {
    out += "\n" + s.title + "\n";
    for (const std::string& c : s.can) out += "  can     " + c + "\n";
    for (const std::string& c : s.cannot) out += "  cannot  " + c + "\n";
  }
  out += "\nExposure breakdown (weight x badness; lower is better)\n";
  for (const ExposureFinding& f : e.findings) {
    std::snprintf(buf, sizeof buf, "  %s %4.1f x %.2f  ", f.badness > 0 ? "!" : " ", f.weight, f.badness);
    out += buf + f.id + ": " + f.description + "\n";
  }
  out += "\nThis node (" + (e.node.kernel_release.empty() ? std::string("kernel unknown") : "Linux " + e.node.kernel_release) +
         ", Landlock ABI " + std::to_string(e.node.landlock_abi) + ")\n";
  if (e.node_gaps.empty()) {
    out += "  provides every protection this policy asks for\n";
  } else {
    for (const std::string& g : e.node_gaps) out += "  DEGRADED: " + g + "\n";
  }
  return out;
}

std::string FormatExplanationJson(const Explanation& e) {
  nlohmann::json j;
  j["policy"] = e.policy_name;
  j["mode"] = std::string(ModeName(e.mode));
  j["exposure"] = e.exposure;
  j["rating"] = e.rating;
  j["sections"] = nlohmann::json::array();
  for (const ExplainSection& s : e.sections) j["sections"].push_back({{"title", s.title}, {"can", s.can}, {"cannot", s.cannot}});
  j["findings"] = nlohmann::json::array();
  for (const ExposureFinding& f : e.findings) {
    j["findings"].push_back({{"id", f.id}, {"description", f.description}, {"weight", f.weight}, {"badness", f.badness}});
  }
  j["node_gaps"] = e.node_gaps;
  const NodeFeatures& n = e.node;
  j["node"] = {{"kernel_release", n.kernel_release},
               {"machine", n.machine},
               {"landlock_abi", n.landlock_abi},
               {"cgroup_v2_path", n.cgroup_v2_path},
               {"cgroup_v2_pure", n.cgroup_v2_pure},
               {"cgroup_v2_controllers", n.cgroup_v2_controllers},
               {"cgroup_v1_memory", n.cgroup_v1_memory},
               {"cgroup_v1_pids", n.cgroup_v1_pids},
               {"cgroup_v1_cpu", n.cgroup_v1_cpu},
               {"seccomp_notify", n.seccomp_notify},
               {"seccomp_notify_continue", n.seccomp_notify_continue},
               {"user_namespaces", n.user_namespaces},
               {"pidfd", n.pidfd}};
  // Policy text may hold any bytes; replace invalid UTF-8 instead of throwing.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace edgeward::policy
