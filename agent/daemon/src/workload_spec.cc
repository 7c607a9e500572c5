// The workload parser: one pass over the YAML that builds WorkloadSpec and
// records every problem with its location (edgeward/base/yaml_input.h); LoadWorkloads
// then resolves policies across files, where the locations of the `policy`
// fields are still at hand.
#include "edgeward/daemon/workload_spec.h"

#include <dirent.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <exception>
#include <memory>
#include <set>

#include "edgeward/base/bytes.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/file.h"
#include "edgeward/base/yaml_input.h"
#include "edgeward/crypto/hash.h"
#include "edgeward/policy/parse.h"

namespace edgeward::daemon {
namespace {

using yaml_input::ClosestMatch;
using yaml_input::Diagnostics;
using yaml_input::Index;
using yaml_input::MapReader;
using yaml_input::Quote;
using yaml_input::ReadInt;
using yaml_input::ReadSequence;
using yaml_input::ReadString;

// A workload file is small: fewer errors shown and fewer values read than
// for a policy; a missing key is named by the field path alone.
constexpr yaml_input::Dialect kWorkloadDialect{
    .kind = "workload", .max_reported = 50, .max_values = 5000, .name_missing_key = false};

constexpr size_t kMaxArgs = 1024;
constexpr size_t kMaxArgBytes = 4096;
constexpr std::chrono::milliseconds kMaxDuration = std::chrono::hours(24 * 7);

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

StatusOr<std::chrono::milliseconds> ParseDurationText(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("bad duration " + Quote(text) + " (want a whole number with ms, s, m or h, e.g. 1s)");
  };
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) return bad();
  uint64_t n = 0;
  std::from_chars(text.data(), text.data() + digits, n);
  const std::string_view unit = text.substr(digits);
  uint64_t ms = 0;
  if (unit == "ms") {
    ms = n;
  } else if (unit == "s") {
    ms = n * 1000;
  } else if (unit == "m") {
    ms = n * 60'000;
  } else if (unit == "h") {
    ms = n * 3'600'000;
  } else {
    return bad();
  }
  if (ms > static_cast<uint64_t>(kMaxDuration.count())) return InvalidArgument("duration " + Quote(text) + " is longer than 7 days");
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

std::optional<std::chrono::milliseconds> ReadDuration(const YAML::Node& node, const std::string& path, Diagnostics& diag) {
  auto s = ReadString(node, path, diag);
  if (!s) return std::nullopt;
  auto d = ParseDurationText(*s);
  if (!d.ok()) {
    diag.Add(node.Mark(), path, d.status().message());
    return std::nullopt;
  }
  return *d;
}

void ParseRestart(const YAML::Node& node, const std::string& path, RestartRule& out, Diagnostics& diag) {
  MapReader m(node, path, {"policy", "backoff", "crashLoop"}, diag);
  if (!m.is_map()) return;
  if (auto n = m.Get("policy")) {
    if (auto s = ReadString(*n, m.Path("policy"), diag)) {
      if (*s == "always") {
        out.policy = RestartPolicy::kAlways;
      } else if (*s == "on-failure") {
        out.policy = RestartPolicy::kOnFailure;
      } else if (*s == "never") {
        out.policy = RestartPolicy::kNever;
      } else {
        diag.Add(n->Mark(), m.Path("policy"),
                 "unknown restart policy " + Quote(*s, ClosestMatch(*s, {"always", "on-failure", "never"})) +
                     " (expected always, on-failure or never)");
      }
    }
  }
  if (auto n = m.Get("backoff")) {
    MapReader b(*n, m.Path("backoff"), {"initial", "max"}, diag);
    if (auto i = b.Get("initial")) {
      if (auto d = ReadDuration(*i, b.Path("initial"), diag)) {
        if (d->count() == 0) {
          diag.Add(i->Mark(), b.Path("initial"), "must be greater than 0");
        } else {
          out.backoff_initial = *d;
        }
      }
    }
    if (auto x = b.Get("max")) {
      if (auto d = ReadDuration(*x, b.Path("max"), diag)) {
        if (*d < out.backoff_initial) {
          diag.Add(x->Mark(), b.Path("max"), "is shorter than backoff.initial");
        } else {
          out.backoff_max = *d;
        }
      }
    } else if (out.backoff_max < out.backoff_initial) {
      out.backoff_max = out.backoff_initial;
    }
  }
  if (auto n = m.Get("crashLoop")) {
    MapReader c(*n, m.Path("crashLoop"), {"count", "within"}, diag);
    if (auto k = c.Get("count")) {
      if (auto v = ReadInt(*k, c.Path("count"), 1, 1000, diag)) out.crash_loop_count = static_cast<uint32_t>(*v);
    }
    if (auto w = c.Get("within")) {
      if (auto d = ReadDuration(*w, c.Path("within"), diag)) {
        if (d->count() == 0) {
          diag.Add(w->Mark(), c.Path("within"), "must be greater than 0");
        } else {
          out.crash_loop_within = *d;
        }
      }
    }
  }
}

std::vector<std::string> ReadStrings(const YAML::Node& node, const std::string& path, Diagnostics& diag) {
  std::vector<std::string> out;
  auto items = ReadSequence(node, path, diag);
  if (items.size() > kMaxArgs) {
    diag.Add(node.Mark(), path, "more than " + std::to_string(kMaxArgs) + " entries");
    return out;
  }
  for (size_t i = 0; i < items.size(); ++i) {
    auto s = ReadString(items[i], Index(path, i), diag);
    if (!s) continue;
    if (s->size() > kMaxArgBytes || HasNul(*s)) {
      diag.Add(items[i].Mark(), Index(path, i), "longer than " + std::to_string(kMaxArgBytes) + " bytes or holds a NUL byte");
      continue;
    }
    out.push_back(*s);
  }
  return out;
}

void ParseSpec(const YAML::Node& node, WorkloadSpec& out, Diagnostics& diag) {
  MapReader m(node, "spec", {"command", "env", "policy", "restart", "startOrder", "measure"}, diag);
  if (!m.is_map()) return;
  if (auto n = m.Required("command")) {
    out.command = ReadStrings(*n, m.Path("command"), diag);
    if (out.command.empty() && n->IsSequence() && n->size() == 0) {
      diag.Add(n->Mark(), m.Path("command"), "empty: name the program to run");
    } else if (n->IsNull()) {
      diag.Add(n->Mark(), m.Path("command"), "empty: name the program to run");
    } else if (!out.command.empty() && out.command[0].empty()) {
      diag.Add(n->Mark(), m.Path("command") + "[0]", "empty program name");
    }
  }
  if (auto n = m.Get("env")) {
    const std::string ep = m.Path("env");
    auto items = ReadSequence(*n, ep, diag);
    std::set<std::string> keys;
    for (size_t i = 0; i < items.size() && i < kMaxArgs; ++i) {
      auto s = ReadString(items[i], Index(ep, i), diag);
      if (!s) continue;
      const size_t eq = s->find('=');
      if (eq == std::string::npos || eq == 0 || HasNul(*s) || s->size() > kMaxArgBytes) {
        diag.Add(items[i].Mark(), Index(ep, i), "expected KEY=VALUE, got " + Quote(*s));
        continue;
      }
      if (!keys.insert(s->substr(0, eq)).second) {
        diag.Add(items[i].Mark(), Index(ep, i), "duplicate variable '" + s->substr(0, eq) + "'");
        continue;
      }
      out.env.push_back(*s);
    }
  }
  if (auto n = m.Required("policy")) {
    if (auto s = ReadString(*n, m.Path("policy"), diag)) {
      if (!ValidName(*s)) {
        diag.Add(n->Mark(), m.Path("policy"), Quote(*s) + " is not a valid policy name");
      } else {
        out.policy = *s;
      }
    }
  }
  if (auto n = m.Get("restart")) ParseRestart(*n, m.Path("restart"), out.restart, diag);
  if (auto n = m.Get("startOrder")) {
    if (auto v = ReadInt(*n, m.Path("startOrder"), -1000000, 1000000, diag)) out.start_order = *v;
  }
  if (auto n = m.Get("measure")) {
    const std::string mp = m.Path("measure");
    auto items = ReadSequence(*n, mp, diag);
    std::set<std::string> seen;
    for (size_t i = 0; i < items.size() && i < kMaxArgs; ++i) {
      auto s = ReadString(items[i], Index(mp, i), diag);
      if (!s) continue;
      if (s->empty() || s->front() != '/' || HasNul(*s) || s->size() > kMaxArgBytes) {
        diag.Add(items[i].Mark(), Index(mp, i), "expected an absolute path, got " + Quote(*s));
        continue;
      }
      if (!seen.insert(*s).second) {
        diag.Add(items[i].Mark(), Index(mp, i), "duplicate path " + Quote(*s));
        continue;
      }
      out.measure.push_back(*s);
    }
  }
}

// The 1-based line of a "---" that starts a second document, or 0 (see
// policy/src/parse.cc: yaml-cpp's LoadAll can loop on malformed input).
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
      content = true;
      continue;
    }
    const size_t first = l.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && l[first] != '#' && l[0] != '%') content = true;
  }
  return 0;
}

void ParseDocument(const YAML::Node& doc, WorkloadSpec& out, Diagnostics& diag) {
  if (doc.IsNull()) {
    diag.Add(doc.Mark(), "", "empty workload: expected apiVersion, kind, metadata and spec");
    return;
  }
  MapReader m(doc, "", {"apiVersion", "kind", "metadata", "spec"}, diag);
  if (!m.is_map()) return;
  if (auto n = m.Required("apiVersion")) {
    if (auto s = ReadString(*n, "apiVersion", diag); s && *s != "edgeward/v1") {
      diag.Add(n->Mark(), "apiVersion", "unsupported apiVersion " + Quote(*s) + " (expected edgeward/v1)");
    }
  }
  if (auto n = m.Required("kind")) {
    if (auto s = ReadString(*n, "kind", diag); s && *s != "Workload") {
      diag.Add(n->Mark(), "kind", "unknown kind " + Quote(*s, ClosestMatch(*s, {"Workload"})) + " (expected Workload)");
    }
  }
  if (auto n = m.Required("metadata")) {
    MapReader md(*n, "metadata", {"name"}, diag);
    if (auto nm = md.Required("name")) {
      if (auto s = ReadString(*nm, "metadata.name", diag)) {
        if (!ValidName(*s)) {
          diag.Add(nm->Mark(), "metadata.name",
                   Quote(*s) + " is not a valid name (lower-case letters, digits, '-' and '.', starting and "
                                "ending with a letter or digit, at most 63 characters)");
        } else {
          out.name = *s;
        }
      }
    }
  }
  if (auto n = m.Required("spec")) ParseSpec(*n, out, diag);
}

// Where `spec.policy` sits in a workload file, for cross-file errors.
struct PolicyRef {
  int line = 0;
  int column = 0;
};

StatusOr<WorkloadSpec> Parse(std::string_view yaml, const std::string& file_name, PolicyRef* ref) {
  Diagnostics diag(file_name, kWorkloadDialect);
  if (yaml.size() > kMaxWorkloadSpecBytes) {
    return InvalidArgument(file_name + ": workload file is larger than " + std::to_string(kMaxWorkloadSpecBytes) +
                           " bytes");
  }
  EW_RETURN_IF_ERROR(yaml_input::RejectNulBytes(yaml, file_name));
  WorkloadSpec out;
  out.source = file_name;
  try {
    if (const int second = SecondDocumentLine(yaml); second > 0) {
      diag.Add(second, 1, "", "more than one YAML document; a workload file holds exactly one");
    }
    const YAML::Node doc = YAML::Load(std::string(yaml));
    if (!doc.IsDefined() || (doc.IsNull() && doc.Mark().line < 0)) {
      diag.Add(1, 1, "", "empty workload: expected apiVersion, kind, metadata and spec");
    } else {
      ParseDocument(doc, out, diag);
      if (ref != nullptr && doc.IsMap() && doc["spec"].IsMap() && doc["spec"]["policy"].IsDefined()) {
        const YAML::Mark mk = doc["spec"]["policy"].Mark();
        ref->line = mk.line + 1;
        ref->column = mk.column + 1;
      }
    }
  } catch (const YAML::Exception& e) {
    diag.Add(e.mark, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    diag.Add(0, 0, "", std::string("cannot parse: ") + e.what());
  }
  if (!diag.empty()) return diag.ToStatus();
  return out;
}

void AppendField(std::string& canon, std::string_view key, std::string_view value) {
  // Length-prefixed, so no two different specs share a canonical form.
  canon += key;
  canon += ':';
  canon += std::to_string(value.size());
  canon += ':';
  canon += value;
  canon += '\n';
}

std::string Sha256Hex(std::string_view data) { return HexEncode(crypto::Digest(crypto::HashAlg::kSha256, AsBytes(data))); }

std::string SpecDigest(const WorkloadSpec& s) {
  std::string canon;
  AppendField(canon, "name", s.name);
  for (const auto& a : s.command) AppendField(canon, "command", a);
  for (const auto& e : s.env) AppendField(canon, "env", e);
  AppendField(canon, "policy", s.policy);
  AppendField(canon, "policy_path", s.policy_path);
  AppendField(canon, "restart", RestartPolicyName(s.restart.policy));
  AppendField(canon, "backoff_initial", std::to_string(s.restart.backoff_initial.count()));
  AppendField(canon, "backoff_max", std::to_string(s.restart.backoff_max.count()));
  AppendField(canon, "crash_count", std::to_string(s.restart.crash_loop_count));
  AppendField(canon, "crash_within", std::to_string(s.restart.crash_loop_within.count()));
  AppendField(canon, "start_order", std::to_string(s.start_order));
  for (const auto& m : s.measure) AppendField(canon, "measure", m);
  return Sha256Hex(canon);
}

bool IsYamlName(std::string_view path) {
  return (path.size() > 5 && path.substr(path.size() - 5) == ".yaml") ||
         (path.size() > 4 && path.substr(path.size() - 4) == ".yml");
}

}  // namespace

std::string_view RestartPolicyName(RestartPolicy policy) {
  switch (policy) {
    case RestartPolicy::kAlways: return "always";
    case RestartPolicy::kOnFailure: return "on-failure";
    case RestartPolicy::kNever: return "never";
  }
  return "?";
}

StatusOr<WorkloadSpec> ParseWorkloadSpec(std::string_view yaml, const std::string& file_name) {
  return Parse(yaml, file_name, nullptr);
}

StatusOr<std::vector<WorkloadSpec>> LoadWorkloads(const std::map<std::string, std::string>& files) {
  struct PolicyFile {
    std::string path;
    const std::string* text;
  };
  std::map<std::string, PolicyFile> policies;  // metadata.name → file
  std::vector<std::string> errors;
  for (const auto& [path, text] : files) {
    if (!path.starts_with("policies/")) continue;
    auto pol = policy::ParsePolicy(text, path);
    if (!pol.ok()) {
      errors.push_back(pol.status().message());
      continue;
    }
    auto [it, inserted] = policies.emplace(pol->name, PolicyFile{path, &text});
    if (!inserted) {
      errors.push_back(path + ": policy name '" + pol->name + "' is also used by " + it->second.path);
    }
  }
  std::vector<std::string_view> policy_names;
  for (const auto& [name, f] : policies) policy_names.push_back(name);

  std::vector<WorkloadSpec> out;
  std::map<std::string, std::string> seen;  // workload name → file
  for (const auto& [path, text] : files) {
    if (!path.starts_with("workloads/")) continue;
    if (!IsYamlName(path)) {
      errors.push_back(path + ": a workload file's name ends in .yaml or .yml");
      continue;
    }
    PolicyRef ref;
    auto spec = Parse(text, path, &ref);
    if (!spec.ok()) {
      errors.push_back(spec.status().message());
      continue;
    }
    if (auto [it, inserted] = seen.emplace(spec->name, path); !inserted) {
      errors.push_back(path + ": workload name '" + spec->name + "' is also declared in " + it->second);
      continue;
    }
    auto pit = policies.find(spec->policy);
    if (pit == policies.end()) {
      errors.push_back(path + ":" + std::to_string(ref.line) + ":" + std::to_string(ref.column) +
                       ": field spec.policy: no policy named " + Quote(spec->policy, ClosestMatch(spec->policy, policy_names)) +
                       " under policies/");
      continue;
    }
    spec->policy_path = pit->second.path;
    spec->policy_text = *pit->second.text;
    spec->policy_digest = Sha256Hex(spec->policy_text);
    spec->spec_digest = SpecDigest(*spec);
    out.push_back(std::move(*spec));
    if (out.size() > kMaxWorkloads) {
      errors.push_back(path + ": more than " + std::to_string(kMaxWorkloads) + " workloads");
      break;
    }
  }
  if (!errors.empty()) {
    std::string msg;
    for (const auto& e : errors) msg += (msg.empty() ? "" : "\n") + e;
    return InvalidArgument(std::move(msg));
  }
  std::sort(out.begin(), out.end(), [](const WorkloadSpec& a, const WorkloadSpec& b) {
    return a.start_order != b.start_order ? a.start_order < b.start_order : a.name < b.name;
  });
  return out;
}

namespace {

// Regular files of dir/sub (and, for policies, one more level), keyed
// "sub/name" like a bundle's paths.
Status ReadTree(const std::string& dir, const std::string& sub, int depth, std::map<std::string, std::string>& out) {
  const std::string full = dir + "/" + sub;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(full.c_str()), &::closedir);
  if (!d) {
    if (errno == ENOENT && depth == 0) return Status::Ok();
    return EW_ERRNO("opendir", full);
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
    errno = 0;
  }
  if (errno != 0) return EW_ERRNO("readdir", full);
  for (const std::string& name : names) {
    const std::string rel = sub + "/" + name;
    const std::string path = dir + "/" + rel;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return EW_ERRNO("stat", path);
    if (S_ISDIR(st.st_mode)) {
      if (depth < 2) EW_RETURN_IF_ERROR(ReadTree(dir, rel, depth + 1, out));
      continue;
    }
    if (!S_ISREG(st.st_mode)) continue;
    if (out.size() >= 4 * kMaxWorkloads) return InvalidArgument(full + ": too many files");
    EW_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, policy::kMaxPolicyBytes));
    out.emplace(rel, std::move(text));
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::vector<WorkloadSpec>> LoadWorkloadsFromDir(const std::string& dir) {
  std::map<std::string, std::string> files;
  EW_RETURN_IF_ERROR(ReadTree(dir, "workloads", 0, files));
  EW_RETURN_IF_ERROR(ReadTree(dir, "policies", 0, files));
  return LoadWorkloads(files);
}

}  // namespace edgeward::daemon
