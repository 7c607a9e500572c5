// The policy parser: one pass over the YAML that builds WorkloadPolicy and
// records every error with its location; cross-field rules are checked in the
// same pass, where the locations are still at hand.
#include "edgeward/policy/parse.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <exception>
#include <map>
#include <set>

#include "edgeward/base/file.h"
#include "edgeward/policy/capabilities.h"
#include "parse_internal.h"

namespace edgeward::policy {
namespace {

using internal::Diagnostics;
using internal::Field;
using internal::Index;
using internal::MapReader;
using internal::Quote;
using internal::ReadSequence;
using internal::ReadString;
using internal::ReadUint;

// 2^32-1 is (uid_t)-1, "no change" to setresuid(): never a real id.
constexpr uint64_t kMaxId = 4294967294ULL;

bool ValidPolicyName(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

void ParseMetadata(const YAML::Node& node, WorkloadPolicy& out, Diagnostics& diag) {
  MapReader m(node, "metadata", {"name"}, diag);
  if (auto n = m.Required("name")) {
    if (auto s = ReadString(*n, m.Path("name"), diag)) {
      if (!ValidPolicyName(*s)) {
        diag.Add(n->Mark(), m.Path("name"),
                 Quote(*s) + " is not a valid name (lower-case letters, digits, '-' and '.', "
                             "starting and ending with a letter or digit, at most 63 characters)");
      } else {
        out.name = *s;
      }
    }
  }
}

void ParseUser(const YAML::Node& node, const std::string& path, WorkloadPolicy& out, Diagnostics& diag) {
  MapReader m(node, path, {"uid", "gid", "groups"}, diag);
  if (!m.is_map()) return;
  UserSpec user;
  auto uid_node = m.Required("uid");
  auto gid_node = m.Required("gid");
  if (uid_node) {
    if (auto v = ReadUint(*uid_node, m.Path("uid"), 0, kMaxId, diag)) user.uid = static_cast<uint32_t>(*v);
  }
  if (gid_node) {
    if (auto v = ReadUint(*gid_node, m.Path("gid"), 0, kMaxId, diag)) user.gid = static_cast<uint32_t>(*v);
  }
  if (auto g = m.Get("groups")) {
    const std::string gp = m.Path("groups");
    std::set<uint32_t> seen;
    auto items = ReadSequence(*g, gp, diag);
    for (size_t i = 0; i < items.size(); ++i) {
      auto v = ReadUint(items[i], Index(gp, i), 0, kMaxId, diag);
      if (!v) continue;
      const auto gid = static_cast<uint32_t>(*v);
      if (!seen.insert(gid).second) {
        diag.Add(items[i].Mark(), Index(gp, i), "duplicate group " + std::to_string(gid));
        continue;
      }
      user.supplementary_gids.push_back(gid);
    }
  }
  out.user = user;
}

struct NamespaceName {
  std::string_view name;
  Namespace ns;
};
constexpr NamespaceName kNamespaces[] = {
    {"pid", Namespace::kPid},   {"mount", Namespace::kMount},   {"ipc", Namespace::kIpc},
    {"uts", Namespace::kUts},   {"net", Namespace::kNet},       {"cgroup", Namespace::kCgroup},
    {"user", Namespace::kUser},
};

// Returns the location of `net` in the list (line 0 if absent), for the
// network-mode conflict check.
SourceLocation ParseNamespaces(const YAML::Node& node, const std::string& path, WorkloadPolicy& out,
                               Diagnostics& diag) {
  SourceLocation net_where;
  std::vector<std::string_view> known;
  for (const auto& n : kNamespaces) known.push_back(n.name);
  known.push_back("mnt");
  auto items = ReadSequence(node, path, diag);
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string ip = Index(path, i);
    auto s = ReadString(items[i], ip, diag);
    if (!s) continue;
    std::optional<Namespace> ns;
    for (const auto& n : kNamespaces) {
      if (n.name == *s) ns = n.ns;
    }
    if (*s == "mnt") ns = Namespace::kMount;  // the kernel's own short name
    if (!ns) {
      diag.Add(items[i].Mark(), ip, "unknown namespace " + Quote(*s, internal::ClosestMatch(*s, known)) +
                                        " (known: pid, mount, ipc, uts, net, cgroup, user)");
      continue;
    }
    if (std::find(out.namespaces.begin(), out.namespaces.end(), *ns) != out.namespaces.end()) {
      diag.Add(items[i].Mark(), ip, "duplicate namespace '" + *s + "'");
      continue;
    }
    if (*ns == Namespace::kNet) net_where = diag.Where(items[i].Mark());
    out.namespaces.push_back(*ns);
  }
  return net_where;
}

std::vector<uint16_t> ParsePorts(const YAML::Node& node, const std::string& path, Diagnostics& diag) {
  std::vector<uint16_t> ports;
  std::vector<bool> seen(65536);
  auto items = ReadSequence(node, path, diag);
  for (size_t i = 0; i < items.size(); ++i) {
    auto v = ReadUint(items[i], Index(path, i), 1, 65535, diag);
    if (!v) continue;
    const auto p = static_cast<uint16_t>(*v);
    if (seen[p]) {
      diag.Add(items[i].Mark(), Index(path, i), "duplicate port " + std::to_string(p));
      continue;
    }
    seen[p] = true;
    ports.push_back(p);
  }
  std::sort(ports.begin(), ports.end());
  return ports;
}

std::optional<NetworkMode> ParseNetworkMode(const YAML::Node& node, const std::string& path, Diagnostics& diag) {
  auto s = ReadString(node, path, diag);
  if (!s) return std::nullopt;
  if (*s == "none") return NetworkMode::kNone;
  if (*s == "loopback") return NetworkMode::kLoopback;
  if (*s == "host") return NetworkMode::kHost;
  diag.Add(node.Mark(), path,
           "unknown network mode " + Quote(*s, internal::ClosestMatch(*s, {"none", "loopback", "host"})) +
               " (expected none, loopback or host)");
  return std::nullopt;
}

// Network and the `net` namespace: none/loopback imply a new network
// namespace (added when missing); host conflicts with one.
void ParseNetwork(const YAML::Node& node, const std::string& path, const SourceLocation& net_ns_where,
                  WorkloadPolicy& out, Diagnostics& diag) {
  YAML::Node tcp_node;
  if (node.IsMap()) {
    MapReader m(node, path, {"mode", "tcpBind", "tcpConnect"}, diag);
    if (auto mode = m.Required("mode")) {
      if (auto v = ParseNetworkMode(*mode, m.Path("mode"), diag)) out.network.mode = *v;
    }
    std::optional<YAML::Node> first_ports;
    std::string first_path;
    if (auto b = m.Get("tcpBind")) {
      out.network.tcp_bind = ParsePorts(*b, m.Path("tcpBind"), diag);
      if (!out.network.tcp_bind.empty()) first_ports = *b, first_path = m.Path("tcpBind");
    }
    if (auto c = m.Get("tcpConnect")) {
      out.network.tcp_connect = ParsePorts(*c, m.Path("tcpConnect"), diag);
      if (!first_ports && !out.network.tcp_connect.empty()) first_ports = *c, first_path = m.Path("tcpConnect");
    }
    if (first_ports && out.network.mode == NetworkMode::kNone) {
      diag.Add(first_ports->Mark(), first_path,
               "TCP ports with network mode 'none' (no interface to use them on; use loopback or host)");
    }
  } else if (auto v = ParseNetworkMode(node, path, diag)) {
    out.network.mode = *v;
  }
  const bool has_net = std::find(out.namespaces.begin(), out.namespaces.end(), Namespace::kNet) !=
                       out.namespaces.end();
  if (out.network.mode == NetworkMode::kHost && has_net) {
    diag.Add(net_ns_where, "spec.namespaces",
             "namespace 'net' conflicts with network mode 'host' (line " + std::to_string(diag.Where(node.Mark()).line) +
                 "): drop one");
  }
}

struct PathEntry {
  std::string list;  // "readOnly"
  size_t index;
  SourceLocation where;
};

void ParseFilesystem(const YAML::Node& node, const std::string& path, WorkloadPolicy& out, Diagnostics& diag) {
  MapReader m(node, path, {"readOnly", "readWrite", "tmpfs"}, diag);
  std::map<std::string, PathEntry> seen;
  auto parse_list = [&](std::string_view key, std::vector<std::string>& dest) {
    auto n = m.Get(key);
    if (!n) return;
    const std::string lp = m.Path(key);
    auto items = ReadSequence(*n, lp, diag);
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string ip = Index(lp, i);
      auto s = ReadString(items[i], ip, diag);
      if (!s) continue;
      auto norm = NormalizePolicyPath(*s);
      if (!norm.ok()) {
        diag.Add(items[i].Mark(), ip, norm.status().message());
        continue;
      }
      auto [it, inserted] = seen.emplace(*norm, PathEntry{std::string(key), i, diag.Where(items[i].Mark())});
      if (!inserted) {
        const PathEntry& first = it->second;
        diag.Add(items[i].Mark(), ip,
                 first.list == key
                     ? "duplicate path " + *norm + " (also at line " + std::to_string(first.where.line) + ")"
                     : *norm + " is already in " + Field(path, first.list) + "[" + std::to_string(first.index) +
                           "] (line " + std::to_string(first.where.line) + "); a path goes in one list only");
        continue;
      }
      dest.push_back(*norm);
    }
  };
  parse_list("readOnly", out.filesystem.read_only);
  parse_list("readWrite", out.filesystem.read_write);
  parse_list("tmpfs", out.filesystem.tmpfs);
}

void ParseCapabilities(const YAML::Node& node, const std::string& path, WorkloadPolicy& out, Diagnostics& diag) {
  std::vector<std::string> all;
  for (const CapabilityInfo& c : Capabilities()) all.emplace_back(c.name);
  std::vector<std::string_view> all_views(all.begin(), all.end());
  auto items = ReadSequence(node, path, diag);
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string ip = Index(path, i);
    auto s = ReadString(items[i], ip, diag);
    if (!s) continue;
    std::string canon = CanonicalCapabilityName(*s);
    if (canon.empty()) {
      std::string upper;
      for (char c : s->substr(0, 64)) upper += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
      if (upper.rfind("CAP_", 0) != 0) upper = "CAP_" + upper;
      diag.Add(items[i].Mark(), ip, "unknown capability " + Quote(*s, internal::ClosestMatch(upper, all_views)));
      continue;
    }
    if (std::find(out.capabilities.begin(), out.capabilities.end(), canon) != out.capabilities.end()) {
      diag.Add(items[i].Mark(), ip, "duplicate capability " + canon);
      continue;
    }
    out.capabilities.push_back(canon);
  }
  std::sort(out.capabilities.begin(), out.capabilities.end());
}

// Scalars in limits may be numbers or strings ("0.5" is a string only when
// quoted in YAML, but both spellings mean the same).
void ParseLimits(const YAML::Node& node, const std::string& path, WorkloadPolicy& out, Diagnostics& diag) {
  MapReader m(node, path, {"memory", "pids", "cpu", "nofile"}, diag);
  if (auto n = m.Get("memory")) {
    if (auto s = ReadString(*n, m.Path("memory"), diag)) {
      auto v = ParseMemorySize(*s);
      if (!v.ok()) {
        diag.Add(n->Mark(), m.Path("memory"), v.status().message());
      } else if (*v < (1ULL << 20) || *v > (1ULL << 50)) {
        diag.Add(n->Mark(), m.Path("memory"),
                 *s + " (" + std::to_string(*v) + " bytes) is impossible: the limit must be between 1Mi and 1Pi");
      } else {
        out.limits.memory_bytes = *v;
      }
    }
  }
  if (auto n = m.Get("pids")) {
    // 4194304 is the kernel's PID_MAX_LIMIT.
    if (auto v = ReadUint(*n, m.Path("pids"), 1, 4194304, diag)) out.limits.pids = *v;
  }
  if (auto n = m.Get("cpu")) {
    if (auto s = ReadString(*n, m.Path("cpu"), diag)) {
      auto v = ParseCpuMillis(*s);
      if (!v.ok()) {
        diag.Add(n->Mark(), m.Path("cpu"), v.status().message());
      } else if (*v == 0 || *v > 1024000) {
        diag.Add(n->Mark(), m.Path("cpu"), "'" + *s + "' is impossible: the quota must be above 0 and at most 1024 CPUs");
      } else {
        out.limits.cpu_millis = *v;
      }
    }
  }
  if (auto n = m.Get("nofile")) {
    // 1<<20 is the kernel's default fs.nr_open, the most RLIMIT_NOFILE can be.
    if (auto v = ReadUint(*n, m.Path("nofile"), 1, 1ULL << 20, diag)) out.limits.nofile = *v;
  }
}

void ParseSpec(const YAML::Node& node, WorkloadPolicy& out, Diagnostics& diag) {
  MapReader m(node, "spec",
              {"mode", "user", "namespaces", "network", "filesystem", "capabilities", "limits", "seccomp"}, diag);
  if (!m.is_map()) return;
  if (auto n = m.Get("mode")) {
    if (auto s = ReadString(*n, m.Path("mode"), diag)) {
      if (*s == "enforce") {
        out.mode = Mode::kEnforce;
      } else if (*s == "audit") {
        out.mode = Mode::kAudit;
      } else if (*s == "learn") {
        out.mode = Mode::kLearn;
      } else {
        diag.Add(n->Mark(), m.Path("mode"),
                 "unknown mode " + Quote(*s, internal::ClosestMatch(*s, {"enforce", "audit", "learn"})) +
                     " (expected enforce, audit or learn)");
      }
    }
  }
  if (auto n = m.Get("user")) ParseUser(*n, m.Path("user"), out, diag);
  SourceLocation net_ns_where;
  if (auto n = m.Get("namespaces")) net_ns_where = ParseNamespaces(*n, m.Path("namespaces"), out, diag);
  if (auto n = m.Get("network")) {
    ParseNetwork(*n, m.Path("network"), net_ns_where, out, diag);
  }
  if (out.network.mode != NetworkMode::kHost &&
      std::find(out.namespaces.begin(), out.namespaces.end(), Namespace::kNet) == out.namespaces.end()) {
    out.namespaces.push_back(Namespace::kNet);  // none/loopback need their own network namespace
  }
  std::sort(out.namespaces.begin(), out.namespaces.end());
  if (auto n = m.Get("filesystem")) ParseFilesystem(*n, m.Path("filesystem"), out, diag);
  if (auto n = m.Get("capabilities")) ParseCapabilities(*n, m.Path("capabilities"), out, diag);
  if (auto n = m.Get("limits")) ParseLimits(*n, m.Path("limits"), out, diag);
  if (auto n = m.Get("seccomp")) {
    internal::ParseSeccompSection(*n, m.Path("seccomp"), out.seccomp, diag);
  } else {
    internal::ParseSeccompSection(YAML::Node(YAML::NodeType::Null), m.Path("seccomp"), out.seccomp, diag);
  }
}

// The 1-based line of a "---" that starts a second document (a "---" before
// any content only opens the first), or 0. Document markers are always at
// column 0, even inside block scalars, so a line scan is exact enough.
int SecondDocumentLine(std::string_view text) {
  bool content = false;
  int line = 0;
  while (!text.empty()) {
    ++line;
    const size_t nl = text.find('\n');
    std::string_view l = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    const bool marker = l.substr(0, 3) == "---" && (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r');
    if (marker) {
      if (content) return line;
      content = true;  // "--- {…}" may carry the document on the same line
      continue;
    }
    const size_t first = l.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && l[first] != '#' && l[0] != '%') content = true;
  }
  return 0;
}

void ParseDocument(const YAML::Node& doc, WorkloadPolicy& out, Diagnostics& diag) {
  MapReader m(doc, "", {"apiVersion", "kind", "metadata", "spec"}, diag);
  if (!m.is_map()) return;
  if (doc.IsNull()) {
    diag.Add(doc.Mark(), "", "empty policy: expected apiVersion, kind, metadata and spec");
    return;
  }
  out.where = diag.Where(doc.Mark());
  if (auto n = m.Required("apiVersion")) {
    if (auto s = ReadString(*n, "apiVersion", diag); s && *s != "edgeward/v1") {
      diag.Add(n->Mark(), "apiVersion", "unsupported apiVersion " + Quote(*s) + " (expected edgeward/v1)");
    }
  }
  if (auto n = m.Required("kind")) {
    if (auto s = ReadString(*n, "kind", diag); s && *s != "WorkloadPolicy") {
      diag.Add(n->Mark(), "kind",
               "unknown kind " + Quote(*s, internal::ClosestMatch(*s, {"WorkloadPolicy"})) +
                   " (expected WorkloadPolicy)");
    }
  }
  if (auto n = m.Required("metadata")) ParseMetadata(*n, out, diag);
  if (auto n = m.Required("spec")) ParseSpec(*n, out, diag);
}

}  // namespace

StatusOr<WorkloadPolicy> ParsePolicy(std::string_view yaml, const std::string& file_name) {
  Diagnostics diag(file_name);
  if (yaml.size() > kMaxPolicyBytes) {
    return InvalidArgument(file_name + ": policy is larger than " + std::to_string(kMaxPolicyBytes) + " bytes");
  }
  EW_RETURN_IF_ERROR(yaml_input::RejectNulBytes(yaml, file_name));
  WorkloadPolicy out;
  try {
    // YAML::Load, not LoadAll: yaml-cpp 0.7's LoadAll never ends on some
    // malformed input (upstream yaml-cpp#1319; found by policy_fuzzer).
    if (const int second = SecondDocumentLine(yaml); second > 0) {
      diag.Add(SourceLocation{file_name, second, 1}, "", "more than one YAML document; a policy file holds exactly one");
    }
    const YAML::Node doc = YAML::Load(std::string(yaml));
    if (!doc.IsDefined() || (doc.IsNull() && doc.Mark().line < 0)) {
      diag.Add(SourceLocation{file_name, 1, 1}, "", "empty policy: expected apiVersion, kind, metadata and spec");
    } else {
      ParseDocument(doc, out, diag);
    }
  } catch (const YAML::Exception& e) {
    diag.Add(e.mark, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    // bad_alloc and friends from yaml-cpp: report, never propagate.
    diag.Add(SourceLocation{file_name, 0, 0}, "", std::string("cannot parse: ") + e.what());
  }
  if (!diag.empty()) return diag.ToStatus();
  return out;
}

StatusOr<WorkloadPolicy> ParsePolicyFile(const std::string& path) {
  auto text = ReadFileToString(path, kMaxPolicyBytes);
  if (!text.ok()) {
    // An oversized file is bad input, not a resource problem of ours.
    if (text.status().code() == StatusCode::kResourceExhausted) return InvalidArgument(text.status().message());
    return text.status();
  }
  return ParsePolicy(*text, path);
}

}  // namespace edgeward::policy
