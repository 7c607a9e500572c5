// Reference values <-> YAML (docs/reference-values.md). yaml-cpp exceptions
// stay in this file; every error carries source:line:column and the field.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "edgeward/attest/reference.h"
#include "edgeward/base/file.h"
#include "evidence_utf8.h"

namespace edgeward::attest {
namespace {

constexpr size_t kMaxFiles = 1'000'000;
constexpr size_t kMaxDigestsPerFile = 64;
constexpr size_t kMaxExcludes = 4096;
constexpr size_t kMaxPathBytes = 4096;

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// The candidate closest to `key`, if it is close enough to be a likely typo.
std::optional<std::string_view> Closest(std::string_view key, std::initializer_list<std::string_view> candidates) {
  std::optional<std::string_view> best;
  size_t best_d = SIZE_MAX;
  for (std::string_view c : candidates) {
    const size_t d = EditDistance(key, c);
    if (d < best_d) best_d = d, best = c;
  }
  if (best && best_d <= std::max<size_t>(2, best->size() / 3)) return best;
  return std::nullopt;
}

// Paths are bytes, YAML text is Unicode: a path that is not UTF-8 (or that
// itself starts with "hex:") is written as "hex:<its bytes in hex>".
constexpr std::string_view kHexPathPrefix = "hex:";

std::string EncodePath(const std::string& path) {
  if (internal::IsValidUtf8(path) && !path.starts_with(kHexPathPrefix)) return path;
  return std::string(kHexPathPrefix) + HexEncode(AsBytes(path));
}

class Parser {
 public:
  explicit Parser(std::string_view source) : source_(source) {}

  Status Error(const YAML::Node& at, std::string_view field, std::string_view problem) const {
    return Error(at.Mark(), field, problem);
  }
  Status Error(const YAML::Mark& m, std::string_view field, std::string_view problem) const {
    std::string s(source_);
    if (!m.is_null()) s += ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
    s.append(": ");
    if (!field.empty()) s.append(field).append(": ");
    s.append(problem);
    return InvalidArgument(std::move(s));
  }

  StatusOr<ReferenceValues> Parse(const YAML::Node& root) {
    ReferenceValues ref;
    if (!root.IsMap()) return Error(root, "", "expected a mapping at the top level");
    std::set<std::string> seen;
    bool have_version = false;
    for (auto it = root.begin(); it != root.end(); ++it) {
      EW_ASSIGN_OR_RETURN(std::string key, KeyOf(it->first, ""));
      if (!seen.insert(key).second) return Error(it->first, key, "duplicate key");
      // yaml-cpp map iterators hand out temporaries: copy the node (a cheap
      // handle) rather than bind a reference to it.
      const YAML::Node v = it->second;
      if (key == "version") {
        have_version = true;
        EW_ASSIGN_OR_RETURN(std::string s, ScalarOf(v, "version"));
        if (s != std::to_string(kReferenceVersion)) {
          return Error(v, "version", "unsupported version '" + s + "' (this verifier reads " +
                                         std::to_string(kReferenceVersion) + ")");
        }
      } else if (key == "node_id") {
        EW_ASSIGN_OR_RETURN(std::string s, ScalarOf(v, "node_id"));
        if (s.empty()) return Error(v, "node_id", "is empty");
        if (!internal::IsValidUtf8(s)) return Error(v, "node_id", "not valid UTF-8");
        ref.node_id = std::move(s);
      } else if (key == "pcrs") {
        EW_RETURN_IF_ERROR(ParsePcrs(v, ref));
      } else if (key == "files") {
        EW_RETURN_IF_ERROR(ParseFiles(v, ref));
      } else if (key == "unknown_files") {
        EW_ASSIGN_OR_RETURN(std::string s, ScalarOf(v, "unknown_files"));
        if (s == "fail") {
          ref.unknown_files = UnknownFilePolicy::kFail;
        } else if (s == "warn") {
          ref.unknown_files = UnknownFilePolicy::kWarn;
        } else if (s == "ignore") {
          ref.unknown_files = UnknownFilePolicy::kIgnore;
        } else {
          auto hint = Closest(s, {"fail", "warn", "ignore"});
          return Error(v, "unknown_files",
                       "'" + s + "' is not one of fail, warn, ignore" +
                           (hint ? " (did you mean '" + std::string(*hint) + "'?)" : ""));
        }
      } else if (key == "exclude") {
        EW_RETURN_IF_ERROR(ParseExclude(v, ref));
      } else if (key == "ak_name") {
        EW_RETURN_IF_ERROR(ParseAkName(v, ref));
      } else if (key == "runtime_logs") {
        EW_RETURN_IF_ERROR(ParseRuntimeLogs(v, ref));
      } else {
        auto hint = Closest(key, {"version", "node_id", "ak_name", "pcrs", "runtime_logs", "files", "unknown_files",
                                  "exclude"});
        return Error(it->first, "", "unknown key '" + key + "'" +
                                        (hint ? " (did you mean '" + std::string(*hint) + "'?)"
                                              : " (expected version, node_id, ak_name, pcrs, runtime_logs, files, "
                                                "unknown_files, exclude)"));
      }
    }
    if (!have_version) return Error(root, "version", "missing (add 'version: 1')");
    return ref;
  }

 private:
  StatusOr<std::string> KeyOf(const YAML::Node& k, std::string_view parent) const {
    if (!k.IsScalar()) return Error(k, parent, "keys must be plain strings");
    return k.Scalar();
  }
  StatusOr<std::string> ScalarOf(const YAML::Node& v, std::string_view field) const {
    if (!v.IsScalar()) return Error(v, field, "expected a string");
    return v.Scalar();
  }
  // A path or path prefix: UTF-8 text, or "hex:" and the bytes in hex.
  StatusOr<std::string> PathOf(const YAML::Node& v, std::string_view field) const {
    EW_ASSIGN_OR_RETURN(std::string s, ScalarOf(v, field));
    if (s.starts_with(kHexPathPrefix)) {
      auto bytes = HexDecode(std::string_view(s).substr(kHexPathPrefix.size()));
      if (!bytes.ok()) return Error(v, field, "hex: path: " + bytes.status().message());
      return std::string(AsChars(*bytes));
    }
    if (!internal::IsValidUtf8(s)) return Error(v, field, "not valid UTF-8 (write such a path as hex:<bytes>)");
    return s;
  }

  Status ParsePcrs(const YAML::Node& v, ReferenceValues& ref) const {
    if (v.IsNull()) return Status::Ok();
    if (!v.IsMap()) return Error(v, "pcrs", "expected a mapping of bank → {index: hex}");
    for (auto b = v.begin(); b != v.end(); ++b) {
      EW_ASSIGN_OR_RETURN(std::string bank, KeyOf(b->first, "pcrs"));
      const std::string bank_field = "pcrs." + bank;
      auto alg = crypto::HashAlgFromName(bank);
      if (!alg) {
        auto hint = Closest(bank, {"sha1", "sha256", "sha384", "sha512", "sm3_256"});
        return Error(b->first, bank_field,
                     "unknown bank" + (hint ? " (did you mean '" + std::string(*hint) + "'?)"
                                            : std::string(" (expected sha1, sha256, sha384, sha512 or sm3_256)")));
      }
      if (ref.pcrs.count(*alg)) return Error(b->first, bank_field, "duplicate bank");
      auto& out = ref.pcrs[*alg];
      const YAML::Node bank_node = b->second;
      if (bank_node.IsNull()) continue;
      if (!bank_node.IsMap()) return Error(bank_node, bank_field, "expected a mapping of PCR index → hex");
      for (auto p = bank_node.begin(); p != bank_node.end(); ++p) {
        EW_ASSIGN_OR_RETURN(std::string idx, KeyOf(p->first, bank_field));
        const std::string field = bank_field + "." + idx;
        uint32_t index = 0;
        auto [ptr, ec] = std::from_chars(idx.data(), idx.data() + idx.size(), index);
        if (idx.empty() || ec != std::errc() || ptr != idx.data() + idx.size()) {
          return Error(p->first, field, "PCR index is not a number");
        }
        if (index >= tpm::kNumPcrs) {
          return Error(p->first, field, "PCR index out of range (0-" + std::to_string(tpm::kNumPcrs - 1) + ")");
        }
        if (out.count(index)) return Error(p->first, field, "duplicate PCR");
        EW_ASSIGN_OR_RETURN(std::string hex, ScalarOf(p->second, field));
        const size_t want = crypto::DigestSize(*alg);
        if (hex.size() != 2 * want) {
          return Error(p->second, field, "value is " + std::to_string(hex.size()) + " hex digits, " + bank +
                                             " needs " + std::to_string(2 * want));
        }
        auto value = HexDecode(hex);
        if (!value.ok()) return Error(p->second, field, value.status().message());
        out.emplace(index, std::move(value).value());
      }
    }
    return Status::Ok();
  }

  StatusOr<AllowedDigest> ParseDigest(const YAML::Node& v, std::string_view field) const {
    EW_ASSIGN_OR_RETURN(std::string s, ScalarOf(v, field));
    const size_t colon = s.find(':');
    if (colon == std::string::npos) {
      return Error(v, field, "digest '" + s.substr(0, 80) + "' needs an algorithm tag, e.g. sha256:<hex>");
    }
    const std::string name = s.substr(0, colon);
    auto alg = crypto::HashAlgFromName(name);
    if (!alg) {
      auto hint = Closest(name, {"sha1", "sha256", "sha384", "sha512", "sm3_256"});
      return Error(v, field, "unknown digest algorithm '" + name.substr(0, 40) + "'" +
                                 (hint ? " (did you mean '" + std::string(*hint) + "'?)" : ""));
    }
    const std::string_view hex = std::string_view(s).substr(colon + 1);
    const size_t want = crypto::DigestSize(*alg);
    if (hex.size() != 2 * want) {
      return Error(v, field, "digest is " + std::to_string(hex.size()) + " hex digits, " + name + " needs " +
                                 std::to_string(2 * want));
    }
    auto bytes = HexDecode(hex);
    if (!bytes.ok()) return Error(v, field, bytes.status().message());
    return AllowedDigest{*alg, std::move(bytes).value()};
  }

  Status ParseFiles(const YAML::Node& v, ReferenceValues& ref) const {
    if (v.IsNull()) return Status::Ok();
    if (!v.IsMap()) return Error(v, "files", "expected a mapping of path → digest or list of digests");
    if (v.size() > kMaxFiles) return Error(v, "files", "more than " + std::to_string(kMaxFiles) + " paths");
    ref.files.reserve(v.size());
    for (auto f = v.begin(); f != v.end(); ++f) {
      if (!f->first.IsScalar()) return Error(f->first, "files", "keys must be plain strings");
      EW_ASSIGN_OR_RETURN(std::string path, PathOf(f->first, "files"));
      const std::string field = "files." + EncodePath(path).substr(0, 200);
      if (path.empty()) return Error(f->first, "files", "empty path");
      if (path.size() > kMaxPathBytes) return Error(f->first, field, "path longer than 4096 bytes");
      auto [slot, inserted] = ref.files.try_emplace(path);
      if (!inserted) return Error(f->first, field, "duplicate path");
      const YAML::Node d = f->second;
      if (d.IsScalar()) {
        EW_ASSIGN_OR_RETURN(AllowedDigest digest, ParseDigest(d, field));
        slot->second.push_back(std::move(digest));
      } else if (d.IsSequence()) {
        if (d.size() == 0) return Error(d, field, "no allowed digests");
        if (d.size() > kMaxDigestsPerFile) {
          return Error(d, field, "more than " + std::to_string(kMaxDigestsPerFile) + " digests");
        }
        for (size_t i = 0; i < d.size(); ++i) {
          EW_ASSIGN_OR_RETURN(AllowedDigest digest, ParseDigest(d[i], field + "[" + std::to_string(i) + "]"));
          slot->second.push_back(std::move(digest));
        }
      } else {
        return Error(d, field, "expected a digest (sha256:<hex>) or a list of digests");
      }
    }
    return Status::Ok();
  }

  Status ParseExclude(const YAML::Node& v, ReferenceValues& ref) const {
    if (v.IsNull()) return Status::Ok();
    if (!v.IsSequence()) return Error(v, "exclude", "expected a list of path prefixes");
    if (v.size() > kMaxExcludes) return Error(v, "exclude", "more than " + std::to_string(kMaxExcludes) + " prefixes");
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string field = "exclude[" + std::to_string(i) + "]";
      EW_ASSIGN_OR_RETURN(std::string p, PathOf(v[i], field));
      if (p.empty()) return Error(v[i], field, "empty prefix (it would exclude every file)");
      ref.exclude.push_back(std::move(p));
    }
    return Status::Ok();
  }

  // A TPM name: u16 nameAlg (a hash we implement), then that hash's digest.
  Status ParseAkName(const YAML::Node& v, ReferenceValues& ref) const {
    EW_ASSIGN_OR_RETURN(std::string hex, ScalarOf(v, "ak_name"));
    auto name = HexDecode(hex);
    if (!name.ok()) return Error(v, "ak_name", name.status().message());
    if (name->size() < 2) return Error(v, "ak_name", "too short for a TPM name (nameAlg || digest)");
    auto alg = HashFromTpm(static_cast<uint16_t>((*name)[0] << 8 | (*name)[1]));
    if (!alg) return Error(v, "ak_name", "nameAlg 0x" + hex.substr(0, 4) + " is not a known hash");
    if (name->size() != 2 + crypto::DigestSize(*alg)) {
      return Error(v, "ak_name", "is " + std::to_string(hex.size()) + " hex digits, a " +
                                     std::string(crypto::HashAlgName(*alg)) + " name needs " +
                                     std::to_string(2 * (2 + crypto::DigestSize(*alg))));
    }
    ref.ak_name = std::move(name).value();
    return Status::Ok();
  }

  // [{format: cel|ima, pcr: N}, ...]
  Status ParseRuntimeLogs(const YAML::Node& v, ReferenceValues& ref) const {
    if (v.IsNull()) return Status::Ok();
    if (!v.IsSequence()) return Error(v, "runtime_logs", "expected a list of {format: cel|ima, pcr: N}");
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string field = "runtime_logs[" + std::to_string(i) + "]";
      const YAML::Node entry = v[i];
      if (!entry.IsMap()) return Error(entry, field, "expected a mapping {format: cel|ima, pcr: N}");
      std::optional<EventLogFormat> format;
      std::optional<uint32_t> pcr;
      for (auto k = entry.begin(); k != entry.end(); ++k) {
        EW_ASSIGN_OR_RETURN(std::string key, KeyOf(k->first, field));
        const YAML::Node value = k->second;
        if (key == "format") {
          if (format) return Error(k->first, field + ".format", "duplicate key");
          EW_ASSIGN_OR_RETURN(std::string s, ScalarOf(value, field + ".format"));
          if (s == "cel") {
            format = EventLogFormat::kCel;
          } else if (s == "ima") {
            format = EventLogFormat::kIma;
          } else {
            auto hint = Closest(s, {"cel", "ima"});
            return Error(value, field + ".format",
                         "'" + s.substr(0, 40) + "' is not one of cel, ima" +
                             (hint ? " (did you mean '" + std::string(*hint) + "'?)" : ""));
          }
        } else if (key == "pcr") {
          if (pcr) return Error(k->first, field + ".pcr", "duplicate key");
          EW_ASSIGN_OR_RETURN(std::string s, ScalarOf(value, field + ".pcr"));
          uint32_t index = 0;
          auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), index);
          if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
            return Error(value, field + ".pcr", "PCR index is not a number");
          }
          if (index >= tpm::kNumPcrs) {
            return Error(value, field + ".pcr", "PCR index out of range (0-" + std::to_string(tpm::kNumPcrs - 1) + ")");
          }
          pcr = index;
        } else {
          auto hint = Closest(key, {"format", "pcr"});
          return Error(k->first, field, "unknown key '" + key + "'" +
                                            (hint ? " (did you mean '" + std::string(*hint) + "'?)"
                                                  : " (expected format, pcr)"));
        }
      }
      if (!format) return Error(entry, field + ".format", "missing (cel or ima)");
      if (!pcr) return Error(entry, field + ".pcr", "missing");
      RequiredLog r{*format, *pcr};
      if (std::find(ref.runtime_logs.begin(), ref.runtime_logs.end(), r) != ref.runtime_logs.end()) {
        return Error(entry, field, "duplicate entry");
      }
      ref.runtime_logs.push_back(r);
    }
    return Status::Ok();
  }

  std::string_view source_;
};

}  // namespace

std::string_view UnknownFilePolicyName(UnknownFilePolicy p) {
  switch (p) {
    case UnknownFilePolicy::kFail: return "fail";
    case UnknownFilePolicy::kWarn: return "warn";
    case UnknownFilePolicy::kIgnore: return "ignore";
  }
  return "fail";
}

std::string FormatDigest(crypto::HashAlg alg, ByteView digest) {
  std::string s(crypto::HashAlgName(alg));
  s.push_back(':');
  s += HexEncode(digest);
  return s;
}

bool ReferenceValues::IsExcluded(std::string_view path) const {
  for (const std::string& prefix : exclude) {
    if (path.starts_with(prefix)) return true;
  }
  return false;
}

StatusOr<ReferenceValues> ParseReferenceValues(std::string_view yaml, std::string_view source) {
  if (yaml.size() > kMaxReferenceBytes) {
    return Status(StatusCode::kResourceExhausted, std::string(source) + ": " + std::to_string(yaml.size()) +
                                                      " bytes exceeds the maximum " +
                                                      std::to_string(kMaxReferenceBytes));
  }
  Parser parser(source);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (!root.IsDefined() || root.IsNull()) {
      return InvalidArgument(std::string(source) + ": empty document (expected 'version: 1' and values)");
    }
    return parser.Parse(root);
  } catch (const YAML::Exception& ex) {
    return parser.Error(ex.mark, "", "invalid YAML: " + ex.msg);
  } catch (const std::exception& ex) {
    return InvalidArgument(std::string(source) + ": invalid YAML: " + ex.what());
  }
}

StatusOr<ReferenceValues> LoadReferenceValues(const std::string& path) {
  EW_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, kMaxReferenceBytes));
  return ParseReferenceValues(text, path);
}

std::string FormatReferenceValues(const ReferenceValues& ref) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "version" << YAML::Value << ref.version;
  if (ref.node_id) out << YAML::Key << "node_id" << YAML::Value << YAML::DoubleQuoted << *ref.node_id;
  if (ref.ak_name) out << YAML::Key << "ak_name" << YAML::Value << YAML::DoubleQuoted << HexEncode(*ref.ak_name);
  out << YAML::Key << "pcrs" << YAML::Value << YAML::BeginMap;
  for (const auto& [alg, values] : ref.pcrs) {
    out << YAML::Key << std::string(crypto::HashAlgName(alg)) << YAML::Value << YAML::BeginMap;
    for (const auto& [index, value] : values) {
      out << YAML::Key << index << YAML::Value << YAML::DoubleQuoted << HexEncode(value);
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  if (!ref.runtime_logs.empty()) {
    std::vector<RequiredLog> logs = ref.runtime_logs;
    std::sort(logs.begin(), logs.end());
    out << YAML::Key << "runtime_logs" << YAML::Value << YAML::BeginSeq;
    for (const RequiredLog& r : logs) {
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "format" << YAML::Value
          << std::string(EventLogFormatName(r.format)) << YAML::Key << "pcr" << YAML::Value << r.pcr
          << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::Key << "unknown_files" << YAML::Value << std::string(UnknownFilePolicyName(ref.unknown_files));
  if (!ref.exclude.empty()) {
    out << YAML::Key << "exclude" << YAML::Value << YAML::BeginSeq;
    for (const std::string& p : ref.exclude) out << YAML::DoubleQuoted << EncodePath(p);
    out << YAML::EndSeq;
  }
  std::vector<const std::pair<const std::string, std::vector<AllowedDigest>>*> files;
  files.reserve(ref.files.size());
  for (const auto& f : ref.files) files.push_back(&f);
  std::sort(files.begin(), files.end(), [](auto* a, auto* b) { return a->first < b->first; });
  out << YAML::Key << "files" << YAML::Value << YAML::BeginMap;
  for (const auto* f : files) {
    out << YAML::Key << YAML::DoubleQuoted << EncodePath(f->first) << YAML::Value << YAML::BeginSeq;
    for (const AllowedDigest& d : f->second) out << FormatDigest(d.alg, d.digest);
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
  out << YAML::EndMap;
  std::string s = out.c_str();
  s.push_back('\n');
  return s;
}

}  // namespace edgeward::attest
