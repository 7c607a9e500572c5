// WriteLearnedPolicy: the minimal policy `policy learn` proposes (learn.h).
#include "edgeward/policy/learn.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "edgeward/policy/parse.h"
#include "edgeward/policy/syscalls.h"
#include "explain_internal.h"

namespace edgeward::policy {
namespace {

using internal::FormatBytes;
using internal::FormatCpu;

bool IsUnder(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

const std::string* CoveringEntry(const std::string& path, const std::vector<std::string>& entries) {
  for (const std::string& e : entries) {
    if (IsUnder(path, e)) return &e;
  }
  return nullptr;
}

bool ValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    if (c < 0x80) {
      n = 0;
    } else if ((c >> 5) == 6) {
      n = 1;
    } else if ((c >> 4) == 14) {
      n = 2;
    } else if ((c >> 3) == 30) {
      n = 3;
    } else {
      return false;
    }
    if (n > s.size() - i - 1) return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n + 1;
  }
  return true;
}

// A YAML double-quoted scalar. Control characters become \xNN (below 0x80
// that is the same byte); so no text can end the scalar or the line early.
std::string Quote(const std::string& s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Devices the launcher's minimal /dev already provides.
bool InMinimalDev(const std::string& p) {
  static const char* kDev[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
                               "/dev/pts", "/dev/ptmx", "/dev/shm", "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr"};
  return std::any_of(std::begin(kDev), std::end(kDev), [&](const char* d) { return IsUnder(p, d); });
}

std::string Parent(const std::string& p) {
  const size_t slash = p.rfind('/');
  return slash == 0 || slash == std::string::npos ? p : p.substr(0, slash);
}

std::string TopDir(const std::string& p) {
  const size_t slash = p.find('/', 1);
  return slash == std::string::npos ? p : p.substr(0, slash);
}

// Where a used path lands in the learned filesystem section ("" = nowhere).
std::string CollapsePath(const std::string& path, bool written, const WorkloadPolicy& start) {
  if (path == "/" || IsUnder(path, "/proc") || InMinimalDev(path)) return "";
  if (CoveringEntry(path, start.filesystem.tmpfs)) return "";
  if (const std::string* e = CoveringEntry(path, start.filesystem.read_write)) return *e;
  if (!written) {
    if (const std::string* e = CoveringEntry(path, start.filesystem.read_only)) return *e;
  }
  if (IsUnder(path, "/dev")) return path;
  if (!written) {
    static const char* kSystemTrees[] = {"/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin"};
    const std::string top = TopDir(path);
    if (std::any_of(std::begin(kSystemTrees), std::end(kSystemTrees), [&](const char* t) { return top == t; })) {
      return top;
    }
    if (IsUnder(path, "/etc")) {
      const size_t second = path.find('/', 5);
      return second == std::string::npos ? path : path.substr(0, second);  // /etc/ssl/certs/x -> /etc/ssl
    }
  }
  return Parent(path);
}

// Sorted, unique, without entries covered by another entry.
std::vector<std::string> Minimal(std::set<std::string> in, const std::vector<std::string>& also_covering = {}) {
  std::vector<std::string> out;
  for (const std::string& p : in) {
    bool covered = CoveringEntry(p, also_covering) != nullptr;
    for (const std::string& q : in) {
      if (q != p && IsUnder(p, q)) covered = true;
    }
    if (!covered) out.push_back(p);
  }
  return out;
}

std::string YamlList(const std::vector<std::string>& items, bool quote) {
  std::string s = "[";
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + (quote ? Quote(items[i]) : items[i]);
  return s + "]";
}

std::string PortList(const std::vector<uint16_t>& ports) {
  std::vector<std::string> s;
  for (uint16_t p : ports) s.push_back(std::to_string(p));
  return YamlList(s, false);
}

std::string RuleYaml(const SyscallRule& r, bool with_action) {
  std::string s = "{names: " + YamlList(r.names, false);
  if (with_action) s += ", action: " + FormatSeccompAction(r.action);
  if (!r.args.empty()) {
    s += ", args: [";
    for (size_t i = 0; i < r.args.size(); ++i) {
      const ArgCondition& a = r.args[i];
      s += (i ? ", " : "") + std::string("{index: ") + std::to_string(a.index) + ", op: " + std::string(ArgOpName(a.op)) +
           ", value: " + std::to_string(a.value);
      if (a.op == ArgOp::kMaskedEq) s += ", mask: " + std::to_string(a.mask);
      s += "}";
    }
    s += "]";
  }
  return s + "}";
}

std::vector<uint16_t> Ports(const std::vector<uint16_t>& in) {
  std::set<uint16_t> s(in.begin(), in.end());
  s.erase(0);
  return {s.begin(), s.end()};
}

}  // namespace

std::string WriteLearnedPolicy(const WorkloadPolicy& start, const std::string& start_yaml, const LearnedUsage& used) {
  std::string y;
  // The start file's leading comment block describes the workload; keep it.
  size_t pos = 0;
  while (pos < start_yaml.size() && start_yaml[pos] == '#') {
    const size_t nl = start_yaml.find('\n', pos);
    const std::string line = start_yaml.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (ValidUtf8(line)) y += line + "\n";
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  y += "# Learned by `edgeward policy learn` from policy " + start.name + ": review before enforcing.\n";
  std::vector<std::string> notes;

  y += "apiVersion: edgeward/v1\nkind: WorkloadPolicy\n";
  y += "metadata: {name: " + start.name + "}\n";
  y += "spec:\n";
  y += "  mode: " + std::string(start.mode == Mode::kAudit ? "audit" : "enforce") + "\n";
  if (start.user) {
    y += "  user: {uid: " + std::to_string(start.user->uid) + ", gid: " + std::to_string(start.user->gid);
    if (!start.user->supplementary_gids.empty()) {
      std::vector<std::string> g;
      for (uint32_t id : start.user->supplementary_gids) g.push_back(std::to_string(id));
      y += ", groups: " + YamlList(g, false);
    }
    y += "}\n";
  }

  // Network first: it decides whether the net namespace stays.
  const std::vector<uint16_t> bind = Ports(used.tcp_bind), connect = Ports(used.tcp_connect);
  NetworkMode net = start.network.mode;
  if (net == NetworkMode::kNone && (!bind.empty() || !connect.empty())) {
    net = NetworkMode::kLoopback;
    notes.push_back("network: was none; TCP ports were used, so loopback (none can't carry ports)");
  }
  std::vector<std::string> ns;
  for (Namespace n : start.namespaces) {
    if (n == Namespace::kNet && net == NetworkMode::kHost) continue;
    ns.emplace_back(NamespaceName(n));
  }
  y += "  namespaces: " + YamlList(ns, false) + "\n";
  y += "  network:\n    mode: " + std::string(NetworkModeName(net)) + "\n";
  if (net != NetworkMode::kNone) {
    y += "    tcpBind: " + PortList(bind) + "\n    tcpConnect: " + PortList(connect) + "\n";
  }

  // Filesystem.
  std::set<std::string> ro, rw;
  auto take = [&](const std::vector<std::string>& paths, bool written) {
    for (const std::string& raw : paths) {
      auto norm = NormalizePolicyPath(raw);
      if (!norm.ok() || !ValidUtf8(*norm)) {
        // The raw path never goes into the note: it could carry a newline.
        notes.push_back("skipped recorded path(s) a policy can't hold (relative, '..', control characters or bad UTF-8)");
        continue;
      }
      const std::string dir = CollapsePath(*norm, written, start);
      if (!dir.empty()) (written ? rw : ro).insert(dir);
    }
  };
  take(used.paths_written, true);
  take(used.paths_read, false);
  const std::vector<std::string> rw_list = Minimal(rw);
  const std::vector<std::string> ro_list = Minimal(ro, rw_list);
  y += "  filesystem:\n";
  y += "    readOnly: " + YamlList(ro_list, true) + "\n";
  y += "    readWrite: " + YamlList(rw_list, true) + "\n";
  y += "    tmpfs: " + YamlList(start.filesystem.tmpfs, true) + "\n";
  y += "  capabilities: " + YamlList(start.capabilities, false) + "\n";

  const Limits& l = start.limits;
  std::vector<std::string> lim;
  if (l.memory_bytes) lim.push_back("memory: " + FormatBytes(*l.memory_bytes));
  if (l.pids) lim.push_back("pids: " + std::to_string(*l.pids));
  if (l.cpu_millis) lim.push_back("cpu: \"" + FormatCpu(*l.cpu_millis) + "\"");
  if (l.nofile) lim.push_back("nofile: " + std::to_string(*l.nofile));
  if (!lim.empty()) {
    y += "  limits: {";
    for (size_t i = 0; i < lim.size(); ++i) y += (i ? ", " : "") + lim[i];
    y += "}\n";
  }

  // Seccomp: exactly the used syscalls.
  auto denied_outright = [&](const std::string& name) {
    return std::any_of(start.seccomp.deny.begin(), start.seccomp.deny.end(), [&](const SyscallRule& r) {
      return r.args.empty() && std::find(r.names.begin(), r.names.end(), name) != r.names.end();
    });
  };
  auto opted_in = [&](const std::string& name) -> const DangerousOptIn* {
    for (const DangerousOptIn& d : start.seccomp.allow_dangerous) {
      if (d.name == name) return &d;
    }
    return nullptr;
  };
  std::set<std::string> names(used.syscalls.begin(), used.syscalls.end());
  std::vector<std::string> allow;
  std::vector<const DangerousOptIn*> keep_opt_ins;
  std::vector<std::string> left_out_dangerous;
  for (const std::string& n : names) {
    if (!IsKnownSyscall(n)) {
      notes.push_back("skipped unknown syscall name in the recording");
      continue;
    }
    if (denied_outright(n)) {
      notes.push_back(n + ": used, but the start policy denies it; still denied");
      continue;
    }
    const DangerousOptIn* opt = opted_in(n);
    if (AllowNeedsOptIn(n) && opt == nullptr) {
      left_out_dangerous.push_back(n);
      continue;
    }
    if (opt != nullptr) keep_opt_ins.push_back(opt);
    allow.push_back(n);
  }
  if (!left_out_dangerous.empty()) {
    notes.push_back("used but dangerous, NOT allowed (add to allow + allowDangerous with a reason if needed): " +
                    internal::JoinList(left_out_dangerous));
  }
  const bool denying_default = start.seccomp.default_action &&
                               start.seccomp.default_action->kind != SeccompActionKind::kAllow &&
                               start.seccomp.default_action->kind != SeccompActionKind::kLog &&
                               start.seccomp.default_action->kind != SeccompActionKind::kNotify;
  y += "  seccomp:\n    profile: none\n";
  y += "    defaultAction: " +
       (denying_default ? FormatSeccompAction(*start.seccomp.default_action) : std::string("errno(EPERM)")) + "\n";
  y += "    allow:\n";
  if (allow.empty()) y.replace(y.size() - 1, 1, " []\n");
  for (const std::string& n : allow) y += "      - " + n + "\n";
  if (!start.seccomp.deny.empty()) {
    y += "    deny:\n";
    for (const SyscallRule& r : start.seccomp.deny) y += "      - " + RuleYaml(r, true) + "\n";
  }
  if (!keep_opt_ins.empty()) {
    y += "    allowDangerous:\n";
    for (const DangerousOptIn* d : keep_opt_ins) y += "      - {name: " + d->name + ", reason: " + Quote(d->reason) + "}\n";
  }
  if (!notes.empty()) {
    y += "# Notes from learning:\n";
    std::set<std::string> seen;
    for (const std::string& n : notes) {
      if (seen.insert(n).second) y += "#   " + n + "\n";
    }
  }
  return y;
}

}  // namespace edgeward::policy
