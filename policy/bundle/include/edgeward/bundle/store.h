// BundleStore: a node's bundles on disk, switched crash-safely
// (docs/bundles.md "Store and apply").
//
//   <state>/root.json                      the trusted root document
//   <state>/state.json                     RollbackGuard's record
//   <state>/bundles/bundle-<ver>-<sha8>.ewb accepted bundle files (0600)
//   <state>/bundles/active                 symlink → the running bundle
//   <state>/bundles/last-known-good        symlink → the one before it
//   <state>/lock                           flock(): one store user at a time
//
// Apply: verify → write the file (temp, fsync, rename, fsync dir) →
// last-known-good := old active → active := new (each a symlink made under
// a temp name and renamed over, dir fsynced) → RollbackGuard::Accept. A
// crash at any point leaves `active` naming a complete, verified bundle:
// the old one or the new one. Recover() finishes or cleans up after one.
//
// Move-only; holds the directory lock for its lifetime. Not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "edgeward/base/bytes.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/status.h"
#include "edgeward/bundle/bundle.h"
#include "edgeward/bundle/rollback.h"
#include "edgeward/bundle/root.h"
#include "edgeward/bundle/verify.h"

namespace edgeward::bundle {

// The node's trusted root: <state>/root.json. Missing → kNotFound.
StatusOr<RootDocument> LoadInstalledRoot(const std::string& state_dir);
// Makes `root_text` the node's trusted root. With no root installed it must
// be a valid self-signed root document (LoadRootDocument); with one
// installed, identical bytes are a no-op, and anything else must pass
// VerifyRootUpdate against it (kPermissionDenied / kFailedPrecondition).
// Returns the root now trusted.
StatusOr<RootDocument> InstallRoot(const std::string& state_dir, std::string_view root_text,
                                   const std::string& file_name, int64_t trusted_now);

struct RecoveryReport {
  std::optional<uint64_t> active_version;
  std::optional<uint64_t> last_known_good_version;
  std::vector<std::string> removed;  // temp and unreferenced files
  bool completed_accept = false;     // active was ahead of the guard; recorded now
};

class BundleStore {
 public:
  // Creates <state_dir> and <state_dir>/bundles (0700) when missing and
  // takes the lock (kUnavailable when another process holds it).
  static StatusOr<BundleStore> Open(const std::string& state_dir);

  // Run at start, before using the active bundle. Removes temp files and
  // bundle files no link names; checks that `active` decodes and that its
  // version is not below guard.EffectiveHighest() — a rolled-back active
  // bundle → kFailedPrecondition (refuse it; don't run it). An active
  // bundle ahead of the guard (a crash before the accept was recorded) is
  // recorded now. A dangling or corrupt link → kDataLoss.
  StatusOr<RecoveryReport> Recover(RollbackGuard& guard, int64_t trusted_now);

  // Verifies `file` (highest_accepted and trusted_now taken from `guard`
  // and `wall_now`) and, when accepted, installs it as active. Errors are
  // operational failures only (I/O, TPM); a rejection is a Verdict. On any
  // error the previous bundle stays active.
  StatusOr<Verdict> Apply(ByteView file, const RootDocument& root, RollbackGuard& guard, VerifyOptions options,
                          int64_t wall_now);

  // The bundle `active` / `last-known-good` names; nullopt when none.
  StatusOr<std::optional<Bundle>> Active() const;
  StatusOr<std::optional<Bundle>> LastKnownGood() const;

  const std::string& bundles_dir() const { return bundles_dir_; }
  std::string active_link() const { return bundles_dir_ + "/active"; }
  std::string last_known_good_link() const { return bundles_dir_ + "/last-known-good"; }

 private:
  BundleStore(std::string dir, UniqueFd lock) : bundles_dir_(std::move(dir)), lock_(std::move(lock)) {}
  StatusOr<std::optional<Bundle>> Load(const std::string& link) const;
  StatusOr<std::vector<std::string>> RemoveUnreferenced(bool sync);

  std::string bundles_dir_;
  UniqueFd lock_;
};

// "bundle-<version>-<first 8 hex of digest>.ewb"
std::string BundleFileName(const Bundle& bundle);

}  // namespace edgeward::bundle
