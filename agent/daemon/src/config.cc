// The agent config parser: one pass over the YAML into AgentConfig, every
// error recorded with its position so an operator fixes a file in one go.
#include "edgeward/daemon/config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <exception>

#include "edgeward/base/file.h"
#include "edgeward/base/yaml_input.h"

namespace edgeward::daemon {
namespace {

using yaml_input::Diagnostics;
using yaml_input::Index;
using yaml_input::MapReader;
using yaml_input::Quote;
using yaml_input::ReadSequence;
using yaml_input::ReadString;

// The config is small and read once at start: every error is shown. Its
// unknown keys are "fields" and, with no close match, list the known ones.
constexpr yaml_input::Dialect kConfigDialect{.kind = "config",
                                             .max_reported = yaml_input::Dialect::kUnlimited,
                                             .max_values = yaml_input::Dialect::kUnlimited,
                                             .unknown_key_noun = "field",
                                             .list_known_keys = true,
                                             .max_suggestion_distance = 3};

void ReadAbsolutePath(const MapReader& m, const std::string& key, std::string& out, bool allow_empty,
                      Diagnostics& diag) {
  auto n = m.GetNonNull(key);
  if (!n) return;
  auto s = ReadString(*n, m.Path(key), diag);
  if (!s) return;
  if (s->empty() && allow_empty) {
    out.clear();
  } else if (s->empty() || s->front() != '/' || s->find('\0') != std::string::npos) {
    diag.Add(n->Mark(), m.Path(key), Quote(*s) + " is not an absolute path");
  } else {
    out = *s;
  }
}

void ReadDuration(const MapReader& m, const std::string& key, std::chrono::milliseconds min,
                  std::chrono::milliseconds& out, Diagnostics& diag) {
  auto n = m.GetNonNull(key);
  if (!n) return;
  auto s = ReadString(*n, m.Path(key), diag);
  if (!s) return;
  std::chrono::milliseconds d{};
  if (!ParseDuration(*s, &d)) {
    diag.Add(n->Mark(), m.Path(key),
             Quote(*s) + " is not a duration (e.g. 250ms, 30s, 10m, 1h30m; at most 30 days)");
  } else if (d < min) {
    diag.Add(n->Mark(), m.Path(key), Quote(*s) + " is too short (at least " + FormatDuration(min) + ")");
  } else {
    out = d;
  }
}

template <typename Enum>
void ReadEnum(const MapReader& m, const std::string& key, const std::vector<std::pair<std::string, Enum>>& names,
              Enum& out, Diagnostics& diag) {
  auto n = m.GetNonNull(key);
  if (!n) return;
  auto s = ReadString(*n, m.Path(key), diag);
  if (!s) return;
  std::string known;
  for (const auto& [name, value] : names) {
    if (name == *s) {
      out = value;
      return;
    }
    known += (known.empty() ? "" : ", ") + name;
  }
  diag.Add(n->Mark(), m.Path(key), Quote(*s) + " is not one of: " + known);
}

bool ValidName(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// "host:port", "[v6]:port". The metrics endpoint is meant for a local
// scraper; we don't resolve names here (the server binds what it is given).
bool SplitListen(const std::string& s, std::string* host, uint16_t* port) {
  std::string h, p;
  if (!s.empty() && s.front() == '[') {
    const size_t close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
    h = s.substr(1, close - 1);
    p = s.substr(close + 2);
  } else {
    const size_t colon = s.rfind(':');
    if (colon == std::string::npos) return false;
    h = s.substr(0, colon);
    p = s.substr(colon + 1);
    if (h.find(':') != std::string::npos) return false;
  }
  if (h.empty() || p.empty() || p.size() > 5) return false;
  if (!std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  const unsigned long v = std::stoul(p);
  if (v > 65535) return false;  // 0: any free port (logged, and in `edgeward status`)
  if (!std::all_of(h.begin(), h.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '-';
      })) {
    return false;
  }
  *host = h;
  *port = static_cast<uint16_t>(v);
  return true;
}

bool ValidTcti(const std::string& s) {
  if (s == "auto" || s == "none") return true;
  for (const char* prefix : {"device:", "swtpm:", "mssim:", "tabrmd:"}) {
    if (s.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

std::string DefaultNodeId() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || !ValidName(host, 64)) return "edgeward-node";
  return host;
}

void ParseRoot(const YAML::Node& root, AgentConfig& c, Diagnostics& diag) {
  MapReader top(root, "",
                {"node", "stateDir", "tpm", "verifier", "attestation", "bundles", "workloads", "control", "metrics",
                 "log", "rules", "actions"},
                diag);

  c.node_id = DefaultNodeId();
  if (auto n = top.GetNonNull("node")) {
    MapReader m(*n, "node", {"id"}, diag);
    if (auto id = m.GetNonNull("id")) {
      if (auto s = ReadString(*id, "node.id", diag)) {
        if (!ValidName(*s, 64)) {
          diag.Add(id->Mark(), "node.id",
                   Quote(*s) + " is not a valid node id (1-64 of letters, digits, '-', '_', '.')");
        } else {
          c.node_id = *s;
        }
      }
    }
  }
  ReadAbsolutePath(top, "stateDir", c.state_dir, false, diag);

  if (auto n = top.GetNonNull("tpm")) {
    MapReader m(*n, "tpm", {"tcti"}, diag);
    if (auto t = m.GetNonNull("tcti")) {
      if (auto s = ReadString(*t, "tpm.tcti", diag)) {
        if (!ValidTcti(*s)) {
          diag.Add(t->Mark(), "tpm.tcti",
                   Quote(*s) + " is not a TCTI (auto | none | device:PATH | swtpm:host=H,port=P | mssim:... | tabrmd:...)");
        } else {
          c.tpm_tcti = *s;
        }
      }
    }
  }

  if (auto n = top.GetNonNull("verifier")) {
    MapReader m(*n, "verifier", {"url", "caFile"}, diag);
    AgentConfig::Verifier v;
    auto url = m.GetNonNull("url");
    if (!url) {
      diag.Add(n->Mark(), "verifier.url", "missing (remove the verifier section to run local-only)");
    } else if (auto s = ReadString(*url, "verifier.url", diag)) {
      if (s->rfind("https://", 0) != 0 || s->size() <= 8) {
        diag.Add(url->Mark(), "verifier.url", Quote(*s) + " is not an https:// URL");
      } else {
        v.url = *s;
      }
    }
    if (!m.GetNonNull("caFile")) {
      diag.Add(n->Mark(), "verifier.caFile", "missing (the CA bundle the verifier's certificate chains to)");
    } else {
      ReadAbsolutePath(m, "caFile", v.ca_file, false, diag);
    }
    c.verifier = v;
  }

  if (auto n = top.GetNonNull("attestation")) {
    MapReader m(*n, "attestation", {"interval"}, diag);
    ReadDuration(m, "interval", std::chrono::seconds(1), c.attestation_interval, diag);
  }

  if (auto n = top.GetNonNull("bundles")) {
    MapReader m(*n, "bundles", {"rootFile", "fetchInterval", "jitter", "localFile"}, diag);
    ReadAbsolutePath(m, "rootFile", c.bundles.root_file, false, diag);
    ReadDuration(m, "fetchInterval", std::chrono::seconds(1), c.bundles.fetch_interval, diag);
    ReadDuration(m, "jitter", std::chrono::milliseconds(0), c.bundles.jitter, diag);
    ReadAbsolutePath(m, "localFile", c.bundles.local_file, true, diag);
  }

  if (auto n = top.GetNonNull("workloads")) {
    MapReader m(*n, "workloads", {"edgewardBinary", "cgroupRoot", "stopTimeout"}, diag);
    ReadAbsolutePath(m, "edgewardBinary", c.workloads.edgeward_binary, true, diag);
    ReadAbsolutePath(m, "cgroupRoot", c.workloads.cgroup_root, false, diag);
    ReadDuration(m, "stopTimeout", std::chrono::milliseconds(100), c.workloads.stop_timeout, diag);
  }

  if (auto n = top.GetNonNull("control")) {
    MapReader m(*n, "control", {"socket", "group"}, diag);
    ReadAbsolutePath(m, "socket", c.control.socket, false, diag);
    if (c.control.socket.size() >= 108) {  // sizeof(sockaddr_un::sun_path)
      diag.Add(m.GetNonNull("socket") ? m.GetNonNull("socket")->Mark() : n->Mark(), "control.socket",
               "path too long for a Unix socket (at most 107 bytes)");
    }
    if (auto g = m.GetNonNull("group")) {
      if (auto s = ReadString(*g, "control.group", diag)) {
        if (!s->empty() && !ValidName(*s, 32)) {
          diag.Add(g->Mark(), "control.group", Quote(*s) + " is not a group name");
        } else {
          c.control.group = *s;
        }
      }
    }
  }

  bool metrics_set = false;
  YAML::Mark metrics_mark;
  if (auto n = top.GetNonNull("metrics")) {
    MapReader m(*n, "metrics", {"listen"}, diag);
    if (auto l = m.GetNonNull("listen")) {
      metrics_set = true;
      metrics_mark = l->Mark();
      if (auto s = ReadString(*l, "metrics.listen", diag)) c.metrics.listen = *s;
    }
  }
  if (!c.metrics.listen.empty() && !SplitListen(c.metrics.listen, &c.metrics.host, &c.metrics.port)) {
    diag.Add(metrics_set ? metrics_mark : YAML::Mark(), "metrics.listen",
             Quote(c.metrics.listen) + " is not HOST:PORT or [V6]:PORT (\"\" disables metrics)");
  }

  if (auto n = top.GetNonNull("log")) {
    MapReader m(*n, "log", {"format", "level", "target"}, diag);
    ReadEnum<LogFormat>(m, "format", {{"text", LogFormat::kText}, {"json", LogFormat::kJson}}, c.log.format, diag);
    ReadEnum<std::string>(m, "level",
                          {{"trace", "trace"}, {"debug", "debug"}, {"info", "info"}, {"warn", "warn"},
                           {"error", "error"}, {"off", "off"}},
                          c.log.level, diag);
    ReadEnum<LogTarget>(m, "target", {{"stderr", LogTarget::kStderr}, {"journald", LogTarget::kJournald}},
                        c.log.target, diag);
  }

  if (auto n = top.GetNonNull("rules")) {
    MapReader m(*n, "rules", {"files"}, diag);
    if (auto f = m.GetNonNull("files")) {
      auto items = ReadSequence(*f, "rules.files", diag);
      for (size_t i = 0; i < items.size(); ++i) {
        const std::string p = Index("rules.files", i);
        auto s = ReadString(items[i], p, diag);
        if (!s) continue;
        if (s->empty() || s->front() != '/') {
          diag.Add(items[i].Mark(), p, Quote(*s) + " is not an absolute path");
          continue;
        }
        c.rule_files.push_back(*s);
      }
    }
  }

  if (auto n = top.GetNonNull("actions")) {
    MapReader m(*n, "actions", {"commands"}, diag);
    if (auto cmds = m.GetNonNull("commands")) {
      if (!cmds->IsMap()) {
        diag.Add(cmds->Mark(), "actions.commands", "expected a mapping of name: [argv...]");
      } else {
        for (auto it = cmds->begin(); it != cmds->end(); ++it) {
          if (!it->first.IsScalar()) {
            diag.Add(it->first.Mark(), "actions.commands", "a command name must be a plain name");
            continue;
          }
          const std::string name = it->first.Scalar();
          const std::string p = "actions.commands." + yaml_input::Printable(name);
          if (!ValidName(name, 64)) {
            diag.Add(it->first.Mark(), p, Quote(name) + " is not a valid command name");
            continue;
          }
          if (c.commands.count(name)) {
            diag.Add(it->first.Mark(), p, "duplicate command '" + name + "'");
            continue;
          }
          // ReadSequence takes null for an empty list; "name:" is no command.
          if (it->second.IsNull()) {
            diag.Add(it->second.Mark(), p, "expected a list");
            continue;
          }
          auto items = ReadSequence(it->second, p, diag);
          std::vector<std::string> argv;
          bool ok = !items.empty();
          if (items.empty() && it->second.IsSequence()) diag.Add(it->second.Mark(), p, "empty command");
          for (size_t i = 0; i < items.size(); ++i) {
            auto s = ReadString(items[i], Index(p, i), diag);
            if (!s) {
              ok = false;
              continue;
            }
            if (i == 0 && (s->empty() || s->front() != '/')) {
              diag.Add(items[i].Mark(), p + "[0]", "the program must be an absolute path (no shell, no PATH search)");
              ok = false;
            }
            argv.push_back(*s);
          }
          if (ok) c.commands.emplace(name, std::move(argv));
        }
      }
    }
  }
}

}  // namespace

bool ParseDuration(std::string_view text, std::chrono::milliseconds* out) {
  constexpr int64_t kMaxMs = int64_t{30} * 24 * 3600 * 1000;
  if (text.empty()) return false;
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
    int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      n = n * 10 + (text[i] - '0');
      if (n > kMaxMs) return false;
      ++i;
    }
    int64_t unit;
    if (text.substr(i, 2) == "ms") {
      unit = 1, i += 2;
    } else if (i < text.size() && text[i] == 's') {
      unit = 1000, ++i;
    } else if (i < text.size() && text[i] == 'm') {
      unit = 60'000, ++i;
    } else if (i < text.size() && text[i] == 'h') {
      unit = 3'600'000, ++i;
    } else if (i < text.size() && text[i] == 'd') {
      unit = 86'400'000, ++i;
    } else {
      return false;  // a bare number is ambiguous: seconds or ms?
    }
    total += n * unit;  // n <= kMaxMs and unit <= 8.64e7: no overflow in int64
    if (total > kMaxMs) return false;
  }
  *out = std::chrono::milliseconds(total);
  return true;
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  const std::pair<int64_t, const char*> units[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const auto& [size, name] : units) {
    if (ms >= size) {
      out += std::to_string(ms / size) + name;
      ms %= size;
    }
  }
  return out;
}

StatusOr<AgentConfig> ParseAgentConfig(std::string_view text, const std::string& file_name) {
  if (text.size() > kMaxConfigBytes) {
    return OutOfRange(file_name + ": config larger than " + std::to_string(kMaxConfigBytes) + " bytes");
  }
  EW_RETURN_IF_ERROR(yaml_input::RejectNulBytes(text, file_name));
  Diagnostics diag(file_name, kConfigDialect);
  AgentConfig c;
  c.source = file_name;
  try {
    // YAML::Load, not LoadAll: yaml-cpp 0.7's LoadAll can loop forever on
    // malformed input (yaml-cpp#1319, found by the policy fuzzer).
    YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsDefined() || root.IsNull()) {
      diag.Add(YAML::Mark(), "", "empty config (expected a mapping)");
    } else if (!root.IsMap()) {
      diag.Add(root.Mark(), "", "expected a mapping at the top level");
    } else {
      ParseRoot(root, c, diag);
    }
  } catch (const YAML::Exception& e) {
    diag.Add(e.mark, "", "YAML syntax: " + e.msg);
  } catch (const std::exception& e) {
    diag.Add(YAML::Mark(), "", std::string("YAML: ") + e.what());
  }
  if (!diag.empty()) return diag.ToStatus();
  return c;
}

StatusOr<AgentConfig> LoadAgentConfig(const std::string& path) {
  EW_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, kMaxConfigBytes + 1));
  return ParseAgentConfig(text, path);
}

std::vector<std::string> RestartRequiredChanges(const AgentConfig& a, const AgentConfig& b) {
  std::vector<std::string> out;
  auto check = [&](bool differs, const char* field) {
    if (differs) out.push_back(field);
  };
  check(a.node_id != b.node_id, "node.id");
  check(a.state_dir != b.state_dir, "stateDir");
  check(a.tpm_tcti != b.tpm_tcti, "tpm.tcti");
  check(a.verifier.has_value() != b.verifier.has_value() ||
            (a.verifier && (a.verifier->url != b.verifier->url || a.verifier->ca_file != b.verifier->ca_file)),
        "verifier");
  check(a.attestation_interval != b.attestation_interval, "attestation.interval");
  check(a.bundles.root_file != b.bundles.root_file, "bundles.rootFile");
  check(a.bundles.fetch_interval != b.bundles.fetch_interval, "bundles.fetchInterval");
  check(a.bundles.jitter != b.bundles.jitter, "bundles.jitter");
  check(a.bundles.local_file != b.bundles.local_file, "bundles.localFile");
  check(a.workloads.edgeward_binary != b.workloads.edgeward_binary, "workloads.edgewardBinary");
  check(a.workloads.cgroup_root != b.workloads.cgroup_root, "workloads.cgroupRoot");
  check(a.control.socket != b.control.socket, "control.socket");
  check(a.control.group != b.control.group, "control.group");
  check(a.metrics.listen != b.metrics.listen, "metrics.listen");
  check(a.log.target != b.log.target, "log.target");
  return out;
}

}  // namespace edgeward::daemon
