// spec.seccomp: profile, defaultAction, allow, deny, allowDangerous, and the
// rules between them (dangerous names need an opt-in; a name can't be both
// allowed and denied unconditionally).
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>

#include "edgeward/policy/parse.h"
#include "edgeward/policy/syscalls.h"
#include "parse_internal.h"

namespace edgeward::policy::internal {
namespace {

struct OpName {
  std::string_view name;
  ArgOp op;
};
constexpr OpName kOps[] = {
    {"eq", ArgOp::kEq}, {"ne", ArgOp::kNe}, {"lt", ArgOp::kLt}, {"le", ArgOp::kLe},
    {"gt", ArgOp::kGt}, {"ge", ArgOp::kGe}, {"masked_eq", ArgOp::kMaskedEq},
};

// Argument values: unsigned decimal/hex, or a negative decimal stored as its
// 64-bit two's complement (e.g. AT_FDCWD, -100).
std::optional<uint64_t> ReadArgValue(const YAML::Node& node, const std::string& path, Diagnostics& diag) {
  auto s = ReadString(node, path, diag);
  if (!s) return std::nullopt;
  if (!s->empty() && (*s)[0] == '-') {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (ec == std::errc() && end == s->data() + s->size()) return static_cast<uint64_t>(v);
  } else if (auto v = ParseUintText(*s)) {
    return v;
  }
  diag.Add(node.Mark(), path, "expected a 64-bit integer (decimal, 0x hex, or negative), found " + Quote(*s));
  return std::nullopt;
}

std::vector<ArgCondition> ParseArgs(const YAML::Node& node, const std::string& path, Diagnostics& diag) {
  std::vector<ArgCondition> out;
  std::vector<std::string_view> op_names;
  for (const auto& o : kOps) op_names.push_back(o.name);
  auto items = ReadSequence(node, path, diag);
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string ip = Index(path, i);
    MapReader m(items[i], ip, {"index", "op", "value", "mask"}, diag);
    if (!m.is_map() || items[i].IsNull()) {
      if (items[i].IsNull()) diag.Add(items[i].Mark(), ip, "expected {index, op, value}");
      continue;
    }
    ArgCondition c;
    bool ok = true;
    if (auto n = m.Required("index")) {
      if (auto v = ReadUint(*n, m.Path("index"), 0, 5, diag)) {
        c.index = static_cast<unsigned>(*v);
        if (std::any_of(out.begin(), out.end(), [&](const ArgCondition& o) { return o.index == c.index; })) {
          diag.Add(n->Mark(), m.Path("index"),
                   "argument " + std::to_string(c.index) + " is compared twice in one rule (seccomp can't; write two rules)");
          ok = false;
        }
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    if (auto n = m.Required("op")) {
      if (auto s = ReadString(*n, m.Path("op"), diag)) {
        auto it = std::find_if(std::begin(kOps), std::end(kOps), [&](const OpName& o) { return o.name == *s; });
        if (it == std::end(kOps)) {
          diag.Add(n->Mark(), m.Path("op"),
                   "unknown operator " + Quote(*s, ClosestMatch(*s, op_names)) +
                       " (expected eq, ne, lt, le, gt, ge, masked_eq)");
          ok = false;
        } else {
          c.op = it->op;
        }
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    if (auto n = m.Required("value")) {
      if (auto v = ReadArgValue(*n, m.Path("value"), diag)) c.value = *v; else ok = false;
    } else {
      ok = false;
    }
    auto mask = m.Get("mask");
    if (mask) {
      if (auto v = ReadArgValue(*mask, m.Path("mask"), diag)) c.mask = *v; else ok = false;
    }
    if (ok && c.op == ArgOp::kMaskedEq) {
      if (!mask) {
        diag.Add(m.mark(), m.Path("mask"), "op masked_eq needs a mask");
        ok = false;
      } else if ((c.value & ~c.mask) != 0) {
        diag.Add(mask->Mark(), m.Path("value"), "value has bits outside the mask: the rule could never match");
        ok = false;
      }
    } else if (ok && mask) {
      diag.Add(mask->Mark(), m.Path("mask"), "mask is only for op masked_eq");
      ok = false;
    }
    if (ok) out.push_back(c);
  }
  return out;
}


struct NameUse {
  SourceLocation where;
  bool unconditional;
};

class SeccompParser {
 public:
  SeccompParser(SeccompSpec& out, Diagnostics& diag) : out_(out), diag_(diag) {}

  void Parse(const YAML::Node& node, const std::string& path) {
    MapReader m(node, path, {"profile", "defaultAction", "allow", "deny", "allowDangerous"}, diag_);
    if (!m.is_map()) return;
    if (auto n = m.Get("profile")) ParseProfile(*n, m.Path("profile"));
    if (auto n = m.Get("defaultAction")) {
      if (auto s = ReadString(*n, m.Path("defaultAction"), diag_)) {
        auto a = ParseSeccompAction(*s);
        if (!a.ok()) diag_.Add(n->Mark(), m.Path("defaultAction"), a.status().message());
        else out_.default_action = *a;
      }
    }
    // allowDangerous first: `allow` entries are checked against it.
    if (auto n = m.Get("allowDangerous")) ParseDangerous(*n, m.Path("allowDangerous"));
    if (auto n = m.Get("allow")) ParseRules(*n, m.Path("allow"), /*allow=*/true, m.Path("allowDangerous"));
    if (auto n = m.Get("deny")) ParseRules(*n, m.Path("deny"), /*allow=*/false, m.Path("allowDangerous"));
  }

 private:
  void ParseProfile(const YAML::Node& node, const std::string& path) {
    auto s = ReadString(node, path, diag_);
    if (!s) return;
    if (*s == "baseline") {
      out_.profile = SeccompProfileKind::kBaseline;
    } else if (*s == "strict") {
      out_.profile = SeccompProfileKind::kStrict;
    } else if (*s == "none") {
      out_.profile = SeccompProfileKind::kNone;
    } else if (!s->empty() && (*s)[0] == '/') {
      auto norm = NormalizePolicyPath(*s);
      if (!norm.ok()) {
        diag_.Add(node.Mark(), path, norm.status().message());
        return;
      }
      struct stat st {};
      if (::stat(norm->c_str(), &st) != 0) {
        const int err = errno;
        diag_.Add(node.Mark(), path, *norm + ": " + std::strerror(err));
        return;
      }
      if (!S_ISREG(st.st_mode)) {
        diag_.Add(node.Mark(), path, *norm + ": not a regular file");
        return;
      }
      out_.profile = SeccompProfileKind::kOciFile;
      out_.profile_path = *norm;
    } else {
      diag_.Add(node.Mark(), path,
                "unknown profile " + Quote(*s, ClosestMatch(*s, {"baseline", "strict", "none"})) +
                    " (expected baseline, strict, none or an absolute path to an OCI seccomp JSON)");
    }
  }

  void ParseDangerous(const YAML::Node& node, const std::string& path) {
    auto items = ReadSequence(node, path, diag_);
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string ip = Index(path, i);
      MapReader m(items[i], ip, {"name", "reason"}, diag_);
      if (!m.is_map()) continue;
      if (items[i].IsNull()) {
        diag_.Add(items[i].Mark(), ip, "expected {name, reason}");
        continue;
      }
      DangerousOptIn d;
      d.where = diag_.Where(items[i].Mark());
      auto name_node = m.Required("name");
      auto reason_node = m.Required("reason");
      bool ok = name_node && reason_node;
      if (name_node) {
        auto s = ReadString(*name_node, m.Path("name"), diag_);
        if (!s) {
          ok = false;
        } else if (!IsKnownSyscall(*s)) {
          diag_.Add(name_node->Mark(), m.Path("name"), "unknown syscall " + Quote(*s, diag_.WantSuggestions() ? SuggestSyscall(*s) : ""));
          ok = false;
        } else if (FindDangerous(*s) == nullptr) {
          diag_.Add(name_node->Mark(), m.Path("name"),
                    "'" + *s + "' is not in the dangerous set; list it under spec.seccomp.allow instead");
          ok = false;
        } else if (std::any_of(out_.allow_dangerous.begin(), out_.allow_dangerous.end(),
                               [&](const DangerousOptIn& o) { return o.name == *s; })) {
          diag_.Add(name_node->Mark(), m.Path("name"), "duplicate allowDangerous entry for '" + *s + "'");
          ok = false;
        } else {
          d.name = *s;
        }
      }
      if (reason_node) {
        auto s = ReadString(*reason_node, m.Path("reason"), diag_);
        const bool blank = s && std::all_of(s->begin(), s->end(), [](char c) { return c == ' ' || c == '\t'; });
        if (!s) {
          ok = false;
        } else if (blank) {
          diag_.Add(reason_node->Mark(), m.Path("reason"), "a reason is required: say why the workload needs it");
          ok = false;
        } else {
          d.reason = *s;
        }
      }
      if (ok) out_.allow_dangerous.push_back(std::move(d));
    }
  }

  bool OptedIn(const std::string& name) const {
    return std::any_of(out_.allow_dangerous.begin(), out_.allow_dangerous.end(),
                       [&](const DangerousOptIn& o) { return o.name == name; });
  }

  void ParseRules(const YAML::Node& node, const std::string& path, bool allow, const std::string& dangerous_path) {
    auto items = ReadSequence(node, path, diag_);
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string ip = Index(path, i);
      SyscallRule rule;
      rule.where = diag_.Where(items[i].Mark());
      rule.action = SeccompAction{SeccompActionKind::kAllow, 0};
      std::vector<std::pair<std::string, YAML::Node>> names;  // (field path, node)
      bool ok = true;
      if (allow && items[i].IsScalar()) {
        names.emplace_back(ip, items[i]);
      } else {
        std::vector<std::string_view> keys = {"names", "args"};
        if (!allow) keys.push_back("action");
        MapReader m(items[i], ip, keys, diag_);
        if (!m.is_map() || items[i].IsNull()) {
          if (items[i].IsNull() || !allow) {
            diag_.Add(items[i].Mark(), ip, allow ? "expected a syscall name or {names, args}" : "expected {names, action, args}");
          }
          continue;
        }
        if (auto n = m.Required("names")) {
          const std::string np = m.Path("names");
          auto list = ReadSequence(*n, np, diag_);
          if (list.empty() && n->IsSequence()) diag_.Add(n->Mark(), np, "empty names list");
          for (size_t j = 0; j < list.size(); ++j) names.emplace_back(Index(np, j), list[j]);
        } else {
          ok = false;
        }
        if (auto n = m.Get("args")) {
          rule.args = ParseArgs(*n, m.Path("args"), diag_);
        }
        if (!allow) {
          rule.action = SeccompAction{SeccompActionKind::kErrno, EPERM};
          if (auto n = m.Get("action")) {
            if (auto s = ReadString(*n, m.Path("action"), diag_)) {
              auto a = ParseSeccompAction(*s);
              if (!a.ok()) {
                diag_.Add(n->Mark(), m.Path("action"), a.status().message());
                ok = false;
              } else if (a->kind == SeccompActionKind::kAllow) {
                diag_.Add(n->Mark(), m.Path("action"), "a deny rule can't allow; move the names to spec.seccomp.allow");
                ok = false;
              } else {
                rule.action = *a;
              }
            }
          }
        }
      }
      const bool unconditional = rule.args.empty();
      for (const auto& [np, nn] : names) {
        auto s = ReadString(nn, np, diag_);
        if (!s) {
          ok = false;
          continue;
        }
        if (!IsKnownSyscall(*s)) {
          diag_.Add(nn.Mark(), np, "unknown syscall " + Quote(*s, diag_.WantSuggestions() ? SuggestSyscall(*s) : ""));
          ok = false;
          continue;
        }
        const SourceLocation here = diag_.Where(nn.Mark());
        auto& mine = allow ? allowed_ : denied_;
        auto& theirs = allow ? denied_ : allowed_;
        if (auto it = mine.find(*s); it != mine.end() && (unconditional || it->second.unconditional)) {
          diag_.Add(here, np,
                    "duplicate entry for '" + *s + "' (also at line " + std::to_string(it->second.where.line) +
                        (unconditional && it->second.unconditional ? ")" : "; one of them has no args, so the other is redundant)"));
          ok = false;
          continue;
        }
        if (auto it = theirs.find(*s); it != theirs.end() && unconditional && it->second.unconditional) {
          diag_.Add(here, np,
                    "'" + *s + "' is both allowed and denied without args (other entry at line " +
                        std::to_string(it->second.where.line) + ")");
          ok = false;
          continue;
        }
        if (allow && AllowNeedsOptIn(*s) && !OptedIn(*s)) {
          const DangerousSyscall* d = FindDangerous(*s);
          diag_.Add(here, np,
                    "'" + *s + "' is dangerous (" + std::string(d->why) + "); to allow it, add {name: " + *s +
                        ", reason: \"...\"} to " + dangerous_path);
          ok = false;
          continue;
        }
        mine.emplace(*s, NameUse{here, unconditional});
        rule.names.push_back(*s);
      }
      if (ok && !rule.names.empty()) (allow ? out_.allow : out_.deny).push_back(std::move(rule));
    }
  }

  SeccompSpec& out_;
  Diagnostics& diag_;
  std::map<std::string, NameUse> allowed_;
  std::map<std::string, NameUse> denied_;
};

}  // namespace

void ParseSeccompSection(const YAML::Node& node, const std::string& path, SeccompSpec& out, Diagnostics& diag) {
  SeccompParser(out, diag).Parse(node, path);
}

}  // namespace edgeward::policy::internal
