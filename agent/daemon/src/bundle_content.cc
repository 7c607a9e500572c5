// Bundle content checks, the signed local bundle file and the shipped
// default rules (edgeward/daemon/bundle_content.h).
#include "edgeward/daemon/bundle_content.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "edgeward/attest/reference.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/file.h"
#include "edgeward/bundle/rollback.h"
#include "edgeward/bundle/store.h"
#include "edgeward/daemon/workload_spec.h"
#include "edgeward/policy/parse.h"
#include "edgeward/rules/engine.h"

namespace edgeward::daemon {
namespace {

using bundle::FileKind;

// What one validator has seen so far of its bundle.
struct SeenContent {
  std::map<std::string, std::string> policy_files;      // path → bytes
  std::map<std::string, std::string> policy_by_name;    // metadata.name → path
  std::map<std::string, std::string> workload_by_name;  // metadata.name → path
  std::vector<rules::RuleSource> rules;
};

// LoadWorkloads knows where a workload's `policy` field is and which
// policy name is closest; asked about just the files involved, its error
// is the located message for a problem the per-file check found.
Status LocatedWorkloadError(const SeenContent& seen, std::map<std::string, std::string> workloads,
                            Status fallback) {
  std::map<std::string, std::string> files = seen.policy_files;
  files.merge(workloads);
  auto loaded = LoadWorkloads(files);
  return loaded.ok() ? fallback : loaded.status();
}

Status CheckPolicy(SeenContent& seen, std::string_view path, std::string_view bytes) {
  EW_ASSIGN_OR_RETURN(policy::WorkloadPolicy pol, policy::ParsePolicy(bytes, std::string(path)));
  auto [it, inserted] = seen.policy_by_name.emplace(pol.name, std::string(path));
  if (!inserted) {
    return InvalidArgument(std::string(path) + ": field metadata.name: policy '" + pol.name + "' is also defined in " +
                           it->second);
  }
  seen.policy_files.emplace(std::string(path), std::string(bytes));
  return Status::Ok();
}

Status CheckWorkload(SeenContent& seen, std::string_view path, std::string_view bytes) {
  if (!path.ends_with(".yaml") && !path.ends_with(".yml")) {
    return InvalidArgument(std::string(path) + ": a workload file's name ends in .yaml or .yml");
  }
  EW_ASSIGN_OR_RETURN(WorkloadSpec spec, ParseWorkloadSpec(bytes, std::string(path)));
  if (!seen.policy_by_name.contains(spec.policy)) {
    return LocatedWorkloadError(
        seen, {{std::string(path), std::string(bytes)}},
        InvalidArgument(std::string(path) + ": field spec.policy: no policy named '" + spec.policy +
                        "' under policies/ in this bundle"));
  }
  auto [it, inserted] = seen.workload_by_name.emplace(spec.name, std::string(path));
  if (!inserted) {
    return InvalidArgument(std::string(path) + ": field metadata.name: workload '" + spec.name +
                           "' is also defined in " + it->second);
  }
  return Status::Ok();
}

Status CheckRules(SeenContent& seen, std::string_view path, std::string_view bytes) {
  seen.rules.push_back(rules::RuleSource{std::string(path), std::string(bytes)});
  rules::Engine engine;
  std::vector<rules::Diagnostic> diagnostics;
  Status s = engine.LoadSources(seen.rules, &diagnostics);
  if (s.ok()) return s;
  std::string all;
  for (const rules::Diagnostic& d : diagnostics) all += (all.empty() ? "" : "; ") + d.ToString();
  return InvalidArgument(all.empty() ? s.message() : all);
}

// The last local bundle file accepted: <state>/local-bundle.json.
struct LocalRecord {
  uint64_t version = 0;
  std::string digest;
};

std::string LocalRecordPath(const std::string& state_dir) { return state_dir + "/local-bundle.json"; }

StatusOr<LocalRecord> ReadLocalRecord(const std::string& state_dir) {
  const std::string path = LocalRecordPath(state_dir);
  auto text = ReadFileToString(path, 4096);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return LocalRecord{};
    return text.status();
  }
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j["version"].is_number_unsigned() || !j["digest"].is_string()) {
    // A record we can't read would silently reset the local floor.
    return DataLoss(path + ": not a local bundle record ({\"version\":N,\"digest\":\"...\"})");
  }
  return LocalRecord{j["version"].get<uint64_t>(), j["digest"].get<std::string>()};
}

Status WriteLocalRecord(const std::string& state_dir, const LocalRecord& r) {
  EW_RETURN_IF_ERROR(MakeDirs(state_dir, 0700, /*enforce_mode=*/false));
  nlohmann::json j = {{"version", r.version}, {"digest", r.digest}};
  return WriteFileAtomic(LocalRecordPath(state_dir), AsBytes(j.dump() + "\n"), 0600);
}

StatusOr<bundle::RootDocument> TrustedRoot(const LocalBundleOptions& o, int64_t trusted_now) {
  struct stat st {};
  const bool have_root_file = !o.root_file.empty() && ::stat(o.root_file.c_str(), &st) == 0;
  if (have_root_file && o.install_root) {
    EW_ASSIGN_OR_RETURN(std::string text, ReadFileToString(o.root_file, bundle::kMaxRootBytes + 1));
    return bundle::InstallRoot(o.state_dir, text, o.root_file, trusted_now);
  }
  auto installed = bundle::LoadInstalledRoot(o.state_dir);
  if (installed.ok() || installed.status().code() != StatusCode::kNotFound) return installed;
  if (!have_root_file) {
    return FailedPrecondition("no root of trust to verify it against: bundles.rootFile " +
                              (o.root_file.empty() ? std::string("is not set") : o.root_file + " does not exist") +
                              " and none is installed in " + o.state_dir);
  }
  EW_ASSIGN_OR_RETURN(std::string text, ReadFileToString(o.root_file, bundle::kMaxRootBytes + 1));
  return bundle::LoadRootDocument(text, o.root_file);
}

}  // namespace

bundle::ContentValidator MakeBundleContentValidator() {
  auto seen = std::make_shared<SeenContent>();
  return [seen](FileKind kind, std::string_view path, std::string_view bytes) -> Status {
    switch (kind) {
      case FileKind::kPolicy:
        return CheckPolicy(*seen, path, bytes);
      case FileKind::kWorkload:
        return CheckWorkload(*seen, path, bytes);
      case FileKind::kRules:
        return CheckRules(*seen, path, bytes);
      case FileKind::kReference:
        return attest::ParseReferenceValues(bytes, path).status();
    }
    return Internal("unknown bundle file kind");
  };
}

StatusOr<bundle::Bundle> VerifyLocalBundleFile(const LocalBundleOptions& o, int64_t wall_now) {
  const std::string& file = o.file;
  // Regular only, never blocking: a FIFO swapped in for the file must not
  // hang the agent's loop (review finding).
  auto data = ReadRegularFileToString(file, bundle::kMaxBundleBytes);
  if (!data.ok()) {
    if (data.status().code() == StatusCode::kResourceExhausted) {
      return InvalidArgument(file + ": larger than any valid bundle (" + std::to_string(bundle::kMaxBundleBytes) +
                             " bytes)");
    }
    return data.status();
  }
  // Read only: the verifier path (its BundleStore) and `policy apply` own
  // state.json; the local file is held to it but doesn't advance it.
  auto guard = bundle::RollbackGuard::Open(o.state_dir, nullptr);
  if (!guard.ok()) return guard.status().WithContext(file);
  auto trusted_now = guard->TrustedNow(wall_now);
  if (!trusted_now.ok()) return trusted_now.status().WithContext(file);
  auto root = TrustedRoot(o, *trusted_now);
  if (!root.ok()) return root.status().WithContext(file);
  auto record = ReadLocalRecord(o.state_dir);
  if (!record.ok()) return record.status().WithContext(file);

  bundle::VerifyOptions vo;
  vo.node = o.node;
  vo.trusted_now = *trusted_now;
  vo.highest_accepted = std::max(guard->EffectiveHighest(), record->version);
  vo.validate = MakeBundleContentValidator();
  // The same bundle as last time (a restart, a SIGHUP with the file
  // unchanged) is not a rollback; it is still verified in full (expiry,
  // signatures against today's root, content).
  if (auto decoded = bundle::DecodeBundle(AsBytes(*data)); decoded.ok() && record->version > 0 &&
                                                           decoded->manifest.version == record->version &&
                                                           decoded->digest == record->digest &&
                                                           record->version >= guard->EffectiveHighest()) {
    vo.highest_accepted = record->version - 1;
  }
  bundle::Verdict v = bundle::VerifyBundle(AsBytes(*data), *root, vo);
  if (!v.accepted()) {
    const std::string what = file + ": rejected (" + std::string(bundle::ReasonName(v.reason)) + "): " + v.message;
    return v.reason == bundle::Reason::kMalformed ? InvalidArgument(what) : PermissionDenied(what);
  }
  const bundle::Bundle& b = *v.bundle;
  if (b.manifest.version != record->version || b.digest != record->digest) {
    EW_RETURN_IF_ERROR(WriteLocalRecord(o.state_dir, LocalRecord{b.manifest.version, b.digest}).WithContext(file));
  }
  return std::move(*v.bundle);
}

std::optional<std::string> FindDefaultRulesDir(const std::string& exe_path) {
  auto is_dir = [](const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  };
  if (const char* env = std::getenv("EDGEWARD_RULES_DIR"); env != nullptr && *env != '\0') {
    if (is_dir(env)) return std::string(env);
    return std::nullopt;
  }
  const size_t slash = exe_path.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  const std::string installed = exe_path.substr(0, slash) + "/../share/edgeward/rules";
  if (is_dir(installed)) return installed;
  return std::nullopt;
}

StatusOr<std::vector<std::string>> ListRuleFiles(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (d == nullptr) return EW_ERRNO("opendir", dir);
  std::vector<std::string> out;
  errno = 0;
  while (dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name.empty() || name.front() == '.') continue;
    const bool yaml = (name.size() > 5 && name.ends_with(".yaml")) || (name.size() > 4 && name.ends_with(".yml"));
    if (!yaml) continue;
    out.push_back(dir + "/" + name);
  }
  if (errno != 0) return EW_ERRNO("readdir", dir);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace edgeward::daemon
