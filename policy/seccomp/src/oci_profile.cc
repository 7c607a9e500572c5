// OCI seccomp JSON → rules for one architecture. nlohmann exceptions are
// caught here; what leaves is a located Status.
#include "edgeward/seccomp/oci_profile.h"

#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "arch.h"
#include "edgeward/base/file.h"

namespace edgeward::seccomp {
namespace internal {
std::string_view EmbeddedProfile(std::string_view name);  // generated
}  // namespace internal

namespace {

using nlohmann::json;
using policy::ArgCondition;
using policy::ArgOp;
using policy::SeccompAction;
using policy::SeccompActionKind;

constexpr size_t kMaxProfileBytes = 4 << 20;
constexpr int kMaxErrno = 4095;

// Carries the file name and a JSON path into every message.
class Ctx {
 public:
  Ctx(std::string_view file, const OciImportOptions& o) : file_(file), options_(o) {}
  Status Error(const std::string& path, const std::string& what) const {
    return InvalidArgument(file_ + ": " + path + ": " + what);
  }
  const std::string& file() const { return file_; }
  const OciImportOptions& options() const { return options_; }

 private:
  std::string file_;
  const OciImportOptions& options_;
};

std::string TypeName(const json& j) { return j.type_name(); }

Status CheckKeys(const Ctx& ctx, const std::string& path, const json& obj,
                 std::initializer_list<std::string_view> allowed) {
  if (!obj.is_object()) return ctx.Error(path, "expected an object, got " + TypeName(obj));
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      return ctx.Error(path.empty() ? it.key() : path + "." + it.key(), "unknown key '" + it.key() + "'");
    }
  }
  return Status::Ok();
}

StatusOr<uint64_t> GetU64(const Ctx& ctx, const std::string& path, const json& j) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer()) {
    int64_t v = j.get<int64_t>();
    if (v < 0) return ctx.Error(path, "negative value " + std::to_string(v));
    return static_cast<uint64_t>(v);
  }
  return ctx.Error(path, "expected an unsigned integer, got " + TypeName(j));
}

StatusOr<std::vector<std::string>> GetStrings(const Ctx& ctx, const std::string& path, const json& j) {
  std::vector<std::string> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return ctx.Error(path, "expected an array of strings, got " + TypeName(j));
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string()) return ctx.Error(path + "[" + std::to_string(i) + "]", "expected a string");
    out.push_back(j[i].get<std::string>());
  }
  return out;
}

int ErrnoFromName(std::string_view name) {
  for (int e = 1; e < 134; ++e) {
    const char* n = strerrorname_np(e);
    if (n != nullptr && name == n) return e;
  }
  return -1;
}

// errnoRet (a number) wins over errno (a name, Podman writes both).
StatusOr<uint16_t> GetErrno(const Ctx& ctx, const std::string& path, const json& obj,
                            const char* ret_key, const char* name_key) {
  if (obj.contains(ret_key) && !obj[ret_key].is_null()) {
    EW_ASSIGN_OR_RETURN(uint64_t v, GetU64(ctx, path + "." + ret_key, obj[ret_key]));
    if (v > kMaxErrno) return ctx.Error(path + "." + ret_key, "errno " + std::to_string(v) + " is above 4095");
    return static_cast<uint16_t>(v);
  }
  if (obj.contains(name_key) && !obj[name_key].is_null()) {
    if (!obj[name_key].is_string()) return ctx.Error(path + "." + name_key, "expected an errno name");
    int e = ErrnoFromName(obj[name_key].get<std::string>());
    if (e < 0) return ctx.Error(path + "." + name_key, "unknown errno '" + obj[name_key].get<std::string>() + "'");
    return static_cast<uint16_t>(e);
  }
  return static_cast<uint16_t>(EPERM);
}

StatusOr<SeccompAction> GetAction(const Ctx& ctx, const std::string& path, const json& j, uint16_t err) {
  if (!j.is_string()) return ctx.Error(path, "expected an action string, got " + TypeName(j));
  const std::string a = j.get<std::string>();
  if (a == "SCMP_ACT_ALLOW") return SeccompAction{SeccompActionKind::kAllow, 0};
  if (a == "SCMP_ACT_ERRNO") return SeccompAction{SeccompActionKind::kErrno, err};
  // SCMP_ACT_KILL is libseccomp's (and the kernel's historic) thread kill.
  if (a == "SCMP_ACT_KILL" || a == "SCMP_ACT_KILL_THREAD") return SeccompAction{SeccompActionKind::kKillThread, 0};
  if (a == "SCMP_ACT_KILL_PROCESS") return SeccompAction{SeccompActionKind::kKillProcess, 0};
  if (a == "SCMP_ACT_TRAP") return SeccompAction{SeccompActionKind::kTrap, 0};
  if (a == "SCMP_ACT_LOG") return SeccompAction{SeccompActionKind::kLog, 0};
  if (a == "SCMP_ACT_NOTIFY") return SeccompAction{SeccompActionKind::kNotify, 0};
  if (a == "SCMP_ACT_TRACE") return ctx.Error(path, "action 'SCMP_ACT_TRACE' is not supported (no tracer runs)");
  return ctx.Error(path, "unknown action '" + a + "'");
}

StatusOr<ArgOp> GetOp(const Ctx& ctx, const std::string& path, const json& j) {
  if (!j.is_string()) return ctx.Error(path, "expected an operator string, got " + TypeName(j));
  static constexpr std::array<std::pair<std::string_view, ArgOp>, 7> kOps = {{
      {"SCMP_CMP_EQ", ArgOp::kEq}, {"SCMP_CMP_NE", ArgOp::kNe}, {"SCMP_CMP_LT", ArgOp::kLt},
      {"SCMP_CMP_LE", ArgOp::kLe}, {"SCMP_CMP_GT", ArgOp::kGt}, {"SCMP_CMP_GE", ArgOp::kGe},
      {"SCMP_CMP_MASKED_EQ", ArgOp::kMaskedEq},
  }};
  const std::string s = j.get<std::string>();
  for (const auto& [name, op] : kOps) {
    if (s == name) return op;
  }
  return ctx.Error(path, "unknown operator '" + s + "'");
}

// (major, minor, patch) from "6.1.0-13-amd64" or "4.8".
std::optional<std::array<int, 3>> ParseKernelVersion(std::string_view s) {
  std::array<int, 3> v{0, 0, 0};
  size_t i = 0;
  for (int part = 0; part < 3; ++part) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') {
      if (part >= 2) break;
      return std::nullopt;
    }
    int n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      n = n * 10 + (s[i] - '0');
      if (n > 100000) return std::nullopt;
      ++i;
    }
    v[part] = n;
    if (i < s.size() && s[i] == '.') {
      ++i;
    } else {
      break;
    }
  }
  return v;
}

struct Filter {
  std::vector<std::string> arches, caps;
  std::string min_kernel;
};

StatusOr<Filter> GetFilter(const Ctx& ctx, const std::string& path, const json& obj, const char* key) {
  Filter f;
  if (!obj.contains(key) || obj[key].is_null()) return f;
  const json& j = obj[key];
  const std::string p = path + "." + key;
  EW_RETURN_IF_ERROR(CheckKeys(ctx, p, j, {"arches", "caps", "minKernel"}));
  if (j.contains("arches")) {
    EW_ASSIGN_OR_RETURN(f.arches, GetStrings(ctx, p + ".arches", j["arches"]));
    for (size_t i = 0; i < f.arches.size(); ++i) {
      if (!internal::IsOciArchName(f.arches[i])) {
        return ctx.Error(p + ".arches[" + std::to_string(i) + "]", "unknown architecture '" + f.arches[i] + "'");
      }
    }
  }
  if (j.contains("caps")) {
    EW_ASSIGN_OR_RETURN(f.caps, GetStrings(ctx, p + ".caps", j["caps"]));
  }
  if (j.contains("minKernel") && !j["minKernel"].is_null()) {
    if (!j["minKernel"].is_string() || !ParseKernelVersion(j["minKernel"].get<std::string>())) {
      return ctx.Error(p + ".minKernel", "expected a kernel version like \"4.8\"");
    }
    f.min_kernel = j["minKernel"].get<std::string>();
  }
  return f;
}

bool KernelAtLeast(const std::string& running, const std::string& min) {
  auto r = ParseKernelVersion(running), m = ParseKernelVersion(min);
  return r && m && *r >= *m;
}

bool HasCap(const OciImportOptions& o, const std::string& cap) {
  return std::find(o.capabilities.begin(), o.capabilities.end(), cap) != o.capabilities.end();
}

// Docker's selection rule: includes all must hold, excludes any rejects.
bool Selected(const OciImportOptions& o, const std::string& kernel, const Filter& inc, const Filter& exc) {
  if (!inc.arches.empty() &&
      std::none_of(inc.arches.begin(), inc.arches.end(), [&](const std::string& a) { return internal::ArchMatches(o.arch, a); })) {
    return false;
  }
  if (std::any_of(exc.arches.begin(), exc.arches.end(), [&](const std::string& a) { return internal::ArchMatches(o.arch, a); })) {
    return false;
  }
  for (const std::string& c : inc.caps) {
    if (!HasCap(o, c)) return false;
  }
  for (const std::string& c : exc.caps) {
    if (HasCap(o, c)) return false;
  }
  if (!inc.min_kernel.empty() && !KernelAtLeast(kernel, inc.min_kernel)) return false;
  if (!exc.min_kernel.empty() && KernelAtLeast(kernel, exc.min_kernel)) return false;
  return true;
}

std::string RunningKernel() {
  struct utsname u;
  if (uname(&u) != 0) return "0.0.0";
  return u.release;
}

// "line L, column C" of a byte offset (nlohmann reports the offset just past
// the offending character).
std::string LineCol(std::string_view text, size_t byte) {
  size_t end = std::min(byte > 0 ? byte - 1 : 0, text.size());
  int line = 1, col = 1;
  for (size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

StatusOr<OciProfile> Convert(const Ctx& ctx, const json& root) {
  const OciImportOptions& o = ctx.options();
  const std::string kernel = o.kernel_release.empty() ? RunningKernel() : o.kernel_release;
  EW_RETURN_IF_ERROR(CheckKeys(ctx, "", root,
                               {"defaultAction", "defaultErrnoRet", "defaultErrno", "architectures", "archMap",
                                "syscalls", "flags", "listenerPath", "listenerMetadata", "comment"}));
  OciProfile out;
  if (!root.contains("defaultAction")) return ctx.Error("defaultAction", "missing (required)");
  EW_ASSIGN_OR_RETURN(uint16_t default_errno, GetErrno(ctx, "", root, "defaultErrnoRet", "defaultErrno"));
  EW_ASSIGN_OR_RETURN(out.default_action, GetAction(ctx, "defaultAction", root["defaultAction"], default_errno));
  if (root.contains("architectures")) {
    EW_ASSIGN_OR_RETURN(auto arches, GetStrings(ctx, "architectures", root["architectures"]));
    for (size_t i = 0; i < arches.size(); ++i) {
      if (!internal::IsOciArchName(arches[i])) {
        return ctx.Error("architectures[" + std::to_string(i) + "]", "unknown architecture '" + arches[i] + "'");
      }
    }
  }
  if (root.contains("archMap") && !root["archMap"].is_null()) {
    const json& m = root["archMap"];
    if (!m.is_array()) return ctx.Error("archMap", "expected an array, got " + TypeName(m));
    for (size_t i = 0; i < m.size(); ++i) {
      const std::string p = "archMap[" + std::to_string(i) + "]";
      EW_RETURN_IF_ERROR(CheckKeys(ctx, p, m[i], {"architecture", "subArchitectures"}));
      if (!m[i].contains("architecture") || !m[i]["architecture"].is_string() ||
          !internal::IsOciArchName(m[i]["architecture"].get<std::string>())) {
        return ctx.Error(p + ".architecture", "expected a known architecture name");
      }
      if (m[i].contains("subArchitectures")) {
        EW_ASSIGN_OR_RETURN(auto subs, GetStrings(ctx, p + ".subArchitectures", m[i]["subArchitectures"]));
        for (size_t k = 0; k < subs.size(); ++k) {
          if (!internal::IsOciArchName(subs[k])) {
            return ctx.Error(p + ".subArchitectures[" + std::to_string(k) + "]", "unknown architecture '" + subs[k] + "'");
          }
        }
      }
    }
  }
  if (root.contains("flags")) {
    EW_ASSIGN_OR_RETURN(auto flags, GetStrings(ctx, "flags", root["flags"]));
    (void)flags;  // SECCOMP_FILTER_FLAG_*: edgeward sets its own flags
  }
  std::set<std::string> unknown, other_arch;
  if (root.contains("syscalls") && !root["syscalls"].is_null()) {
    const json& calls = root["syscalls"];
    if (!calls.is_array()) return ctx.Error("syscalls", "expected an array, got " + TypeName(calls));
    for (size_t i = 0; i < calls.size(); ++i) {
      const std::string p = "syscalls[" + std::to_string(i) + "]";
      const json& c = calls[i];
      EW_RETURN_IF_ERROR(CheckKeys(ctx, p, c,
                                   {"names", "name", "action", "args", "comment", "includes", "excludes",
                                    "errnoRet", "errno"}));
      std::vector<std::string> names;
      if (c.contains("names")) {
        EW_ASSIGN_OR_RETURN(names, GetStrings(ctx, p + ".names", c["names"]));
      }
      if (c.contains("name") && !c["name"].is_null()) {
        if (!c["name"].is_string()) return ctx.Error(p + ".name", "expected a string");
        names.push_back(c["name"].get<std::string>());
      }
      if (names.empty()) return ctx.Error(p, "no syscall names (\"names\" or \"name\")");
      if (!c.contains("action")) return ctx.Error(p + ".action", "missing (required)");
      EW_ASSIGN_OR_RETURN(uint16_t err, GetErrno(ctx, p, c, "errnoRet", "errno"));
      EW_ASSIGN_OR_RETURN(SeccompAction action, GetAction(ctx, p + ".action", c["action"], err));
      policy::SyscallRule rule;
      rule.action = action;
      rule.where.file = ctx.file() + ": " + p;
      if (c.contains("args") && !c["args"].is_null()) {
        const json& args = c["args"];
        if (!args.is_array()) return ctx.Error(p + ".args", "expected an array, got " + TypeName(args));
        for (size_t k = 0; k < args.size(); ++k) {
          const std::string ap = p + ".args[" + std::to_string(k) + "]";
          EW_RETURN_IF_ERROR(CheckKeys(ctx, ap, args[k], {"index", "value", "valueTwo", "op"}));
          if (!args[k].contains("index")) return ctx.Error(ap + ".index", "missing (required)");
          if (!args[k].contains("op")) return ctx.Error(ap + ".op", "missing (required)");
          EW_ASSIGN_OR_RETURN(uint64_t index, GetU64(ctx, ap + ".index", args[k]["index"]));
          if (index > 5) return ctx.Error(ap + ".index", "argument index " + std::to_string(index) + " (must be 0..5)");
          uint64_t value = 0, two = 0;
          if (args[k].contains("value")) {
            EW_ASSIGN_OR_RETURN(value, GetU64(ctx, ap + ".value", args[k]["value"]));
          }
          if (args[k].contains("valueTwo")) {
            EW_ASSIGN_OR_RETURN(two, GetU64(ctx, ap + ".valueTwo", args[k]["valueTwo"]));
          }
          EW_ASSIGN_OR_RETURN(ArgOp op, GetOp(ctx, ap + ".op", args[k]["op"]));
          ArgCondition cond{static_cast<unsigned>(index), op, value, 0};
          // OCI: for MASKED_EQ, "value" is the mask and "valueTwo" the datum.
          if (op == ArgOp::kMaskedEq) cond = {static_cast<unsigned>(index), op, two, value};
          rule.args.push_back(cond);
        }
      }
      EW_ASSIGN_OR_RETURN(Filter inc, GetFilter(ctx, p, c, "includes"));
      EW_ASSIGN_OR_RETURN(Filter exc, GetFilter(ctx, p, c, "excludes"));
      if (!Selected(o, kernel, inc, exc)) continue;
      for (std::string& n : names) {
        if (internal::SyscallNumber(o.arch, n) >= 0) {
          rule.names.push_back(std::move(n));
        } else if (internal::KnownOnAnyArch(n)) {
          other_arch.insert(std::move(n));
        } else {
          unknown.insert(std::move(n));
        }
      }
      if (!rule.names.empty()) out.rules.push_back(std::move(rule));
    }
  }
  out.unknown_syscalls.assign(unknown.begin(), unknown.end());
  out.other_arch_syscalls.assign(other_arch.begin(), other_arch.end());
  return out;
}

}  // namespace

StatusOr<OciProfile> ParseOciProfile(std::string_view text, std::string_view file_name,
                                     const OciImportOptions& options) {
  Ctx ctx(file_name, options);
  json root;
  try {
    root = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: " prefix.
    if (size_t colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
    return InvalidArgument(std::string(file_name) + ":" + LineCol(text, e.byte) + ": not JSON: " + what);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string(file_name) + ": not JSON: " + e.what());
  }
  try {
    return Convert(ctx, root);
  } catch (const std::exception& e) {
    // Convert checks types before every access; this is the safety net.
    return InvalidArgument(std::string(file_name) + ": " + e.what());
  }
}

StatusOr<OciProfile> LoadOciProfile(const std::string& path, const OciImportOptions& options) {
  auto text = ReadFileToString(path, kMaxProfileBytes);
  if (!text.ok()) return Status(text.status().code(), "seccomp profile: " + text.status().message());
  return ParseOciProfile(*text, path, options);
}

std::string_view ShippedProfileJson(std::string_view name) { return internal::EmbeddedProfile(name); }

StatusOr<OciProfile> ShippedProfile(std::string_view name, const OciImportOptions& options) {
  std::string_view text = ShippedProfileJson(name);
  if (text.empty()) return NotFound("no shipped seccomp profile '" + std::string(name) + "'");
  return ParseOciProfile(text, "rules/seccomp/" + std::string(name) + ".json", options);
}

}  // namespace edgeward::seccomp
