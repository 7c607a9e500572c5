// Paths, targets, building a bundle from a directory, signing, and the
// hot-reload diff.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <set>

#include "edgeward/base/errno_status.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/file.h"
#include "edgeward/bundle/bundle.h"
#include "internal/sig_input.h"

namespace edgeward::bundle {
namespace {

bool IsNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

bool IsName(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), IsNameChar);
}

// Regular files under `dir` (relative paths "a/b"), refusing links and
// special files. Bounded by kMaxFiles and kMaxPathDepth.
Status Walk(const std::string& root, const std::string& rel, size_t depth, std::map<std::string, std::string>& out) {
  std::string dir_path = root + "/" + rel;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(dir_path.c_str()), &::closedir);
  if (!dir) return EW_ERRNO("opendir", dir_path);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(dir.get())) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
    errno = 0;
  }
  if (errno != 0) return EW_ERRNO("readdir", dir_path);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string child = rel + "/" + name;
    std::string full = root + "/" + child;
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0) return EW_ERRNO("lstat", full);
    if (S_ISDIR(st.st_mode)) {
      if (depth + 1 >= kMaxPathDepth) {
        return InvalidArgument(full + ": directories nest deeper than a bundle path may (" + std::to_string(kMaxPathDepth) + " components)");
      }
      EW_RETURN_IF_ERROR(Walk(root, child, depth + 1, out));
      continue;
    }
    if (!S_ISREG(st.st_mode)) return InvalidArgument(full + ": not a regular file (links and special files are not packed)");
    auto kind = ValidateBundlePath(child);
    if (!kind.ok()) return kind.status().WithContext(full);
    if (out.size() >= kMaxFiles) return InvalidArgument(root + ": more than " + std::to_string(kMaxFiles) + " files");
    EW_ASSIGN_OR_RETURN(std::string contents, ReadFileToString(full, kMaxFileBytes));
    out.emplace(child, std::move(contents));
  }
  return Status::Ok();
}

}  // namespace

std::string_view FileKindName(FileKind kind) {
  switch (kind) {
    case FileKind::kPolicy: return "policies";
    case FileKind::kRules: return "rules";
    case FileKind::kReference: return "reference";
    case FileKind::kWorkload: return "workloads";
  }
  return "?";
}

StatusOr<FileKind> ValidateBundlePath(std::string_view path) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("path '" + std::string(path.substr(0, 80)) + "': " + why);
  };
  if (path.empty()) return bad("empty");
  if (path.size() > kMaxPathBytes) return bad("longer than " + std::to_string(kMaxPathBytes) + " bytes");
  if (path.front() == '/') return bad("absolute");
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string_view part = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty()) return bad("empty component");
    if (part == "." || part == "..") return bad("'.' and '..' components are not allowed");
    if (!IsName(part, kMaxPathBytes)) return bad("characters other than [A-Za-z0-9._-]");
    parts.push_back(part);
    if (parts.size() > kMaxPathDepth) return bad("deeper than " + std::to_string(kMaxPathDepth) + " components");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts.size() < 2) return bad("a file must be inside policies/, rules/, reference/ or workloads/");
  if (parts[0] == "policies") return FileKind::kPolicy;
  if (parts[0] == "rules") return FileKind::kRules;
  if (parts[0] == "reference") return FileKind::kReference;
  if (parts[0] == "workloads") return FileKind::kWorkload;
  return bad("top directory must be policies, rules, reference or workloads");
}

Status ValidateNodeId(std::string_view id) {
  if (!IsName(id, 64)) return InvalidArgument("node id '" + std::string(id.substr(0, 80)) + "': want 1..64 of [A-Za-z0-9._-]");
  return Status::Ok();
}

Status ValidateLabel(std::string_view key, std::string_view value) {
  if (!IsName(key, 64)) return InvalidArgument("label key '" + std::string(key.substr(0, 80)) + "': want 1..64 of [A-Za-z0-9._-]");
  if (!value.empty() && !IsName(value, 64)) {
    return InvalidArgument("label " + std::string(key) + " value '" + std::string(value.substr(0, 80)) + "': want 0..64 of [A-Za-z0-9._-]");
  }
  return Status::Ok();
}

bool TargetsMatch(const Targets& t, const NodeIdentity& node) {
  if (t.all) return true;
  if (std::find(t.nodes.begin(), t.nodes.end(), node.id) != t.nodes.end()) return true;
  if (t.labels.empty()) return false;
  for (const auto& [k, v] : t.labels) {
    auto it = node.labels.find(k);
    if (it == node.labels.end() || it->second != v) return false;
  }
  return true;
}

StatusOr<Targets> ParseTargetSelector(std::string_view selector) {
  Targets t;
  if (selector == "all") {
    t.all = true;
    return t;
  }
  if (selector.empty()) return InvalidArgument("target selector is empty (want 'all' or node=ID,label.KEY=VALUE)");
  size_t start = 0;
  while (start <= selector.size()) {
    size_t comma = selector.find(',', start);
    std::string_view item = selector.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    size_t eq = item.find('=');
    std::string_view name = item.substr(0, eq);
    if (eq == std::string_view::npos) {
      return InvalidArgument("target selector item '" + std::string(item) + "': want node=ID or label.KEY=VALUE" +
                             (item == "all" ? " ('all' cannot be combined)" : ""));
    }
    std::string_view value = item.substr(eq + 1);
    if (name == "node") {
      EW_RETURN_IF_ERROR(ValidateNodeId(value));
      if (std::find(t.nodes.begin(), t.nodes.end(), value) == t.nodes.end()) t.nodes.emplace_back(value);
    } else if (name.starts_with("label.")) {
      std::string_view key = name.substr(6);
      EW_RETURN_IF_ERROR(ValidateLabel(key, value));
      if (!t.labels.emplace(std::string(key), std::string(value)).second) {
        return InvalidArgument("target selector: label " + std::string(key) + " given twice");
      }
    } else {
      return InvalidArgument("target selector item '" + std::string(item) + "': want node=ID or label.KEY=VALUE");
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  std::sort(t.nodes.begin(), t.nodes.end());
  return t;
}

std::string FormatTargets(const Targets& t) {
  if (t.all) return "all";
  std::string out;
  for (const std::string& n : t.nodes) out += (out.empty() ? "" : ",") + std::string("node=") + n;
  for (const auto& [k, v] : t.labels) out += (out.empty() ? "" : ",") + std::string("label.") + k + "=" + v;
  return out;
}

StatusOr<Bundle> MakeBundleFromDir(const std::string& dir, uint64_t version, int64_t issued_at, int64_t expires_at,
                                   const Targets& targets) {
  std::unique_ptr<DIR, int (*)(DIR*)> top(::opendir(dir.c_str()), &::closedir);
  if (!top) return EW_ERRNO("opendir", dir);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(top.get())) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
    errno = 0;
  }
  if (errno != 0) return EW_ERRNO("readdir", dir);
  std::map<std::string, std::string> files;
  for (const std::string& name : names) {
    std::string full = dir + "/" + name;
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0) return EW_ERRNO("lstat", full);
    if ((name != "policies" && name != "rules" && name != "reference" && name != "workloads") || !S_ISDIR(st.st_mode)) {
      return InvalidArgument(full + ": a bundle directory holds only the directories policies/, rules/, reference/ and workloads/");
    }
    EW_RETURN_IF_ERROR(Walk(dir, name, 1, files));
  }
  if (files.empty()) return InvalidArgument(dir + ": no files under policies/, rules/, reference/ or workloads/");
  return MakeBundle(version, issued_at, expires_at, targets, files);
}

Status SignBundle(Bundle& bundle, const crypto::Ed25519SigningKey& key) {
  std::string id = key.KeyId();
  for (const Signature& s : bundle.signatures) {
    if (s.key_id == id) return AlreadyExists("bundle already signed by key " + id);
  }
  if (bundle.signatures.size() >= kMaxSignatures) return ResourceExhausted("bundle has too many signatures");
  std::string input = internal::SignatureInput(internal::kBundleDomain, id, bundle.signed_bytes);
  crypto::Ed25519Signature sig = key.Sign(AsBytes(input));
  bundle.signatures.push_back(Signature{id, Bytes(sig.begin(), sig.end())});
  return Status::Ok();
}

ChangeSet ChangedFiles(const Bundle& old_bundle, const Bundle& next) {
  ChangeSet out;
  std::map<std::string_view, const BundleFile*> before;
  for (const BundleFile& f : old_bundle.manifest.files) before.emplace(f.path, &f);
  for (const BundleFile& f : next.manifest.files) {
    auto it = before.find(f.path);
    if (it == before.end()) {
      out.by_kind[f.kind].added.push_back(f.path);
    } else {
      if (it->second->sha256 != f.sha256) out.by_kind[f.kind].changed.push_back(f.path);
      before.erase(it);
    }
  }
  for (const auto& [path, f] : before) out.by_kind[f->kind].removed.push_back(f->path);
  for (auto& [kind, c] : out.by_kind) {
    std::sort(c.added.begin(), c.added.end());
    std::sort(c.removed.begin(), c.removed.end());
    std::sort(c.changed.begin(), c.changed.end());
  }
  return out;
}

}  // namespace edgeward::bundle
