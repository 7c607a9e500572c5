#include "edgeward/bundle/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <random>
#include <spdlog/spdlog.h>

#include "edgeward/base/errno_status.h"
#include "edgeward/base/file.h"

namespace edgeward::bundle {
namespace {

constexpr const char* kActive = "active";
constexpr const char* kLastKnownGood = "last-known-good";

// readlink(); nullopt when the link does not exist.
StatusOr<std::optional<std::string>> ReadLink(const std::string& path) {
  char buf[512];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return EW_ERRNO("readlink", path);
  }
  if (static_cast<size_t>(n) >= sizeof buf) return DataLoss(path + ": link target too long");
  return std::optional<std::string>(std::string(buf, static_cast<size_t>(n)));
}

// Points `dir/name` at `target` atomically: a new link under a temp name is
// renamed over the old one (rename(2) replaces atomically). With `sync`, the
// directory is fsynced so the switch is durable.
Status ReplaceLink(const std::string& dir, const std::string& name, const std::string& target, bool sync = true) {
  std::random_device rd;
  std::string tmp = dir + "/." + name + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  if (::symlink(target.c_str(), tmp.c_str()) != 0) return EW_ERRNO("symlink", tmp);
  if (::rename(tmp.c_str(), (dir + "/" + name).c_str()) != 0) {
    Status s = EW_ERRNO("rename", tmp + " -> " + dir + "/" + name);
    ::unlink(tmp.c_str());
    return s;
  }
  return sync ? FsyncDir(dir) : Status::Ok();
}

Status RemoveLink(const std::string& dir, const std::string& name) {
  std::string path = dir + "/" + name;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return EW_ERRNO("unlink", path);
  return FsyncDir(dir);
}

// Link targets are bare file names in the same directory, never paths.
bool IsBundleFileName(std::string_view name) {
  if (!name.starts_with("bundle-") || !name.ends_with(".ewb") || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-' || c == '.' || (c >= 'a' && c <= 'z'))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string BundleFileName(const Bundle& bundle) {
  return "bundle-" + std::to_string(bundle.manifest.version) + "-" + bundle.digest.substr(0, 8) + ".ewb";
}

StatusOr<RootDocument> LoadInstalledRoot(const std::string& state_dir) {
  std::string path = state_dir + "/root.json";
  EW_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, kMaxRootBytes + 1));
  // Installed roots were checked when installed; check again anyway: the
  // file is the node's trust anchor and cheap to verify.
  return LoadRootDocument(text, path);
}

StatusOr<RootDocument> InstallRoot(const std::string& state_dir, std::string_view root_text,
                                   const std::string& file_name, int64_t trusted_now) {
  EW_RETURN_IF_ERROR(MakeDirs(state_dir, 0700, /*enforce_mode=*/true));
  std::string path = state_dir + "/root.json";
  auto current_text = ReadFileToString(path, kMaxRootBytes + 1);
  if (!current_text.ok() && current_text.status().code() != StatusCode::kNotFound) return current_text.status();
  if (!current_text.ok()) {
    EW_ASSIGN_OR_RETURN(RootDocument doc, LoadRootDocument(root_text, file_name));
    EW_RETURN_IF_ERROR(WriteFileAtomic(path, AsBytes(root_text), 0600));
    return doc;
  }
  EW_ASSIGN_OR_RETURN(RootDocument current, LoadRootDocument(*current_text, path));
  if (*current_text == root_text) return current;
  EW_ASSIGN_OR_RETURN(RootDocument next, ParseRootDocument(root_text, file_name));
  EW_RETURN_IF_ERROR(VerifyRootUpdate(current, next, trusted_now).WithContext(file_name));
  EW_RETURN_IF_ERROR(WriteFileAtomic(path, AsBytes(root_text), 0600));
  return next;
}

StatusOr<BundleStore> BundleStore::Open(const std::string& state_dir) {
  EW_RETURN_IF_ERROR(MakeDirs(state_dir, 0700, /*enforce_mode=*/true));
  std::string dir = state_dir + "/bundles";
  EW_RETURN_IF_ERROR(MakeDirs(dir, 0700, /*enforce_mode=*/true));
  std::string lock_path = state_dir + "/lock";
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock.valid()) return EW_ERRNO("open", lock_path);
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Unavailable(lock_path + ": another edgeward process is using this state directory");
    return EW_ERRNO("flock", lock_path);
  }
  return BundleStore(std::move(dir), std::move(lock));
}

StatusOr<std::optional<Bundle>> BundleStore::Load(const std::string& link) const {
  EW_ASSIGN_OR_RETURN(std::optional<std::string> target, ReadLink(link));
  if (!target) return std::optional<Bundle>();
  if (!IsBundleFileName(*target)) return DataLoss(link + " points to '" + *target + "', not a bundle file");
  std::string path = bundles_dir_ + "/" + *target;
  auto bytes = ReadFileToString(path, kMaxBundleBytes);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) return DataLoss(link + " points to a missing file " + path);
    return bytes.status();
  }
  auto bundle = DecodeBundle(AsBytes(*bytes));
  if (!bundle.ok()) return DataLoss(path + ": " + bundle.status().message());
  if (BundleFileName(*bundle) != *target) return DataLoss(path + ": contents do not match the file name");
  return std::optional<Bundle>(std::move(*bundle));
}

StatusOr<std::optional<Bundle>> BundleStore::Active() const { return Load(active_link()); }
StatusOr<std::optional<Bundle>> BundleStore::LastKnownGood() const { return Load(last_known_good_link()); }

StatusOr<std::vector<std::string>> BundleStore::RemoveUnreferenced(bool sync) {
  EW_ASSIGN_OR_RETURN(std::optional<std::string> active, ReadLink(active_link()));
  EW_ASSIGN_OR_RETURN(std::optional<std::string> lkg, ReadLink(last_known_good_link()));
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(bundles_dir_.c_str()), &::closedir);
  if (!dir) return EW_ERRNO("opendir", bundles_dir_);
  std::vector<std::string> doomed;
  errno = 0;
  while (dirent* e = ::readdir(dir.get())) {
    std::string name = e->d_name;
    errno = 0;
    if (name == "." || name == ".." || name == kActive || name == kLastKnownGood) continue;
    if ((active && name == *active) || (lkg && name == *lkg)) continue;
    doomed.push_back(name);  // temp files, superseded bundles, strays
  }
  if (errno != 0) return EW_ERRNO("readdir", bundles_dir_);
  for (const std::string& name : doomed) {
    std::string path = bundles_dir_ + "/" + name;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return EW_ERRNO("unlink", path);
  }
  if (sync && !doomed.empty()) EW_RETURN_IF_ERROR(FsyncDir(bundles_dir_));
  return doomed;
}

StatusOr<RecoveryReport> BundleStore::Recover(RollbackGuard& guard, int64_t trusted_now) {
  RecoveryReport report;
  EW_ASSIGN_OR_RETURN(report.removed, RemoveUnreferenced(/*sync=*/true));
  EW_ASSIGN_OR_RETURN(std::optional<Bundle> lkg, LastKnownGood());
  if (lkg) report.last_known_good_version = lkg->manifest.version;
  EW_ASSIGN_OR_RETURN(std::optional<Bundle> active, Active());
  if (!active) return report;
  const uint64_t v = active->manifest.version;
  report.active_version = v;
  const uint64_t highest = guard.EffectiveHighest();
  if (v < highest) {
    return FailedPrecondition("active bundle version " + std::to_string(v) + " is below the highest accepted version " +
                              std::to_string(highest) + ": a rolled-back state directory; refusing to run it");
  }
  if (v > highest) {
    // Crashed after switching `active` but before the guard recorded it:
    // the bundle was verified before it was linked, so finish the accept.
    EW_RETURN_IF_ERROR(guard.Accept(v, active->manifest.issued_at, trusted_now));
    report.completed_accept = true;
  } else {
    EW_RETURN_IF_ERROR(guard.AdvanceTimeFloor(trusted_now));
  }
  return report;
}

StatusOr<Verdict> BundleStore::Apply(ByteView file, const RootDocument& root, RollbackGuard& guard,
                                     VerifyOptions options, int64_t wall_now) {
  EW_ASSIGN_OR_RETURN(options.trusted_now, guard.TrustedNow(wall_now));
  options.highest_accepted = guard.EffectiveHighest();
  Verdict verdict = VerifyBundle(file, root, options);
  if (!verdict.accepted()) return verdict;
  const Bundle& b = *verdict.bundle;

  const std::string name = BundleFileName(b);
  EW_RETURN_IF_ERROR(WriteFileAtomic(bundles_dir_ + "/" + name, file, 0600));
  EW_ASSIGN_OR_RETURN(std::optional<std::string> old_active, ReadLink(active_link()));
  EW_ASSIGN_OR_RETURN(std::optional<std::string> old_lkg, ReadLink(last_known_good_link()));
  // One directory fsync covers both links: only `active` must be durable
  // before the accept is recorded, and whichever way a crash falls, each
  // link names a complete file (the new file was made durable above).
  if (old_active && *old_active != name) {
    EW_RETURN_IF_ERROR(ReplaceLink(bundles_dir_, kLastKnownGood, *old_active, /*sync=*/false));
  }
  EW_RETURN_IF_ERROR(ReplaceLink(bundles_dir_, kActive, name));

  Status accepted = guard.Accept(b.manifest.version, b.manifest.issued_at, options.trusted_now);
  if (!accepted.ok()) {
    // Put the previous bundle back so a failed apply changes nothing the
    // node runs. If this fails too, Recover() sorts it out at next start.
    Status undo = old_active ? ReplaceLink(bundles_dir_, kActive, *old_active) : RemoveLink(bundles_dir_, kActive);
    if (undo.ok()) {
      undo = old_lkg ? ReplaceLink(bundles_dir_, kLastKnownGood, *old_lkg) : RemoveLink(bundles_dir_, kLastKnownGood);
    }
    if (!undo.ok()) spdlog::error("bundle apply: restoring the previous links failed: {}", undo.message());
    return accepted.WithContext("recording version " + std::to_string(b.manifest.version) + " as accepted");
  }
  // Not fsynced: a superseded file that reappears after a crash is removed
  // again by Recover().
  auto removed = RemoveUnreferenced(/*sync=*/false);
  if (!removed.ok()) spdlog::warn("bundle apply: cleanup: {}", removed.status().message());
  return verdict;
}

}  // namespace edgeward::bundle
