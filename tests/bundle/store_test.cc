// BundleStore and RollbackGuard on disk (no TPM): apply, last-known-good,
// rejection and failure leave the active bundle alone, Recover cleans up
// and refuses a rolled-back active bundle, and trusted time beats a 1970
// wall clock.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include "bundle_test_util.h"
#include "edgeward/base/file.h"
#include "edgeward/bundle/store.h"
#include "edgeward/bundle/time.h"
#include "swtpm.h"

namespace edgeward::bundle::test {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  StatusOr<Verdict> Apply(const Bytes& file, int64_t wall = kNow) {
    auto store = BundleStore::Open(dir_.path());
    if (!store.ok()) return store.status();
    auto guard = RollbackGuard::Open(dir_.path(), nullptr);
    if (!guard.ok()) return guard.status();
    VerifyOptions o;
    o.node = NodeIdentity{"edge-1", {}};
    return store->Apply(file, root_, *guard, o, wall);
  }
  uint64_t ActiveVersion() {
    auto store = BundleStore::Open(dir_.path());
    EXPECT_TRUE(store.ok());
    auto active = store->Active();
    EXPECT_TRUE(active.ok()) << active.status().ToString();
    return active.ok() && *active ? (*active)->manifest.version : 0;
  }
  Bytes Signed(uint64_t version, int64_t issued = kNow - kDay, int64_t expires = kNow + 30 * kDay) {
    return SignedBundle(MakeTestBundle(version, 2, issued, expires), {&keys_.policy[0]});
  }

  testing::TempDir dir_;
  Keys keys_ = NewKeys();
  RootDocument root_ = MakeRoot(keys_, 1);
};

TEST_F(StoreTest, ApplyMakesActiveAndKeepsLastKnownGood) {
  auto v1 = Apply(Signed(1));
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  ASSERT_TRUE(v1->accepted()) << v1->message;
  EXPECT_EQ(ActiveVersion(), 1u);
  auto v2 = Apply(Signed(2));
  ASSERT_TRUE(v2.ok() && v2->accepted());
  {
    auto store = BundleStore::Open(dir_.path());
    ASSERT_TRUE(store.ok());
    auto lkg = store->LastKnownGood();
    ASSERT_TRUE(lkg.ok() && *lkg);
    EXPECT_EQ((*lkg)->manifest.version, 1u);
    EXPECT_EQ((*store->Active())->manifest.version, 2u);
  }  // releases the directory lock
  struct stat st {};
  ASSERT_EQ(::stat((dir_.path() + "/state.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_.path() + "/bundles").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // Only active and last-known-good remain on disk.
  auto v3 = Apply(Signed(3));
  ASSERT_TRUE(v3.ok() && v3->accepted());
  int bundle_files = 0;
  {
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir((dir_.path() + "/bundles").c_str()), &::closedir);
    ASSERT_TRUE(d);
    while (dirent* e = ::readdir(d.get())) bundle_files += std::string_view(e->d_name).ends_with(".ewb");
  }
  EXPECT_EQ(bundle_files, 2);
  auto guard = RollbackGuard::Open(dir_.path(), nullptr);
  ASSERT_TRUE(guard.ok());
  EXPECT_EQ(guard->disk_highest(), 3u);
  auto store = BundleStore::Open(dir_.path());
  ASSERT_TRUE(store.ok());
  auto report = store->Recover(*guard, kNow);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->active_version, 3u);
  EXPECT_EQ(report->last_known_good_version, 2u);
}

TEST_F(StoreTest, RejectedBundleNeverTouchesActive) {
  ASSERT_TRUE(Apply(Signed(2))->accepted());
  auto older = Apply(Signed(1));
  ASSERT_TRUE(older.ok());
  EXPECT_EQ(older->reason, Reason::kVersionNotGreater);
  auto garbage = Apply(Bytes{'E', 'W', 'B', 'U', 'N', 'D', 'L', '1', 0xff});
  ASSERT_TRUE(garbage.ok());
  EXPECT_EQ(garbage->reason, Reason::kMalformed);
  auto stranger = NewKey();
  auto forged = Apply(SignedBundle(MakeTestBundle(3), {&stranger}));
  EXPECT_EQ(forged->reason, Reason::kUnknownKey);
  EXPECT_EQ(ActiveVersion(), 2u);
}

TEST_F(StoreTest, FailedApplyLeavesThePreviousBundleActive) {
  ASSERT_TRUE(Apply(Signed(1))->accepted());
  // state.json can't be replaced: a directory sits in its place (a real
  // rename(2) failure, EISDIR) — the accept step fails after the links moved.
  auto store = BundleStore::Open(dir_.path());
  ASSERT_TRUE(store.ok());
  auto guard = RollbackGuard::Open(dir_.path(), nullptr);
  ASSERT_TRUE(guard.ok());
  ASSERT_EQ(::unlink((dir_.path() + "/state.json").c_str()), 0);
  ASSERT_EQ(::mkdir((dir_.path() + "/state.json").c_str(), 0700), 0);
  auto guard_dir_blocked = store->Apply(Signed(2), root_, *guard, VerifyOptions{}, kNow);
  ASSERT_FALSE(guard_dir_blocked.ok());
  EXPECT_NE(guard_dir_blocked.status().message().find("recording version 2"), std::string::npos)
      << guard_dir_blocked.status().ToString();
  auto active = store->Active();
  ASSERT_TRUE(active.ok() && *active);
  EXPECT_EQ((*active)->manifest.version, 1u);
  auto lkg = store->LastKnownGood();
  ASSERT_TRUE(lkg.ok());
  EXPECT_FALSE(lkg->has_value());
}

TEST_F(StoreTest, RecoverRemovesTempAndUnreferencedFiles) {
  ASSERT_TRUE(Apply(Signed(1))->accepted());
  std::string bundles = dir_.path() + "/bundles";
  std::ofstream(bundles + "/bundle-9-deadbeef.ewb.tmp.123.456") << "half";
  std::ofstream(bundles + "/bundle-5-00000000.ewb") << "stray";
  ASSERT_EQ(::symlink("bundle-5-00000000.ewb", (bundles + "/.active.tmp.1.2").c_str()), 0);
  auto store = BundleStore::Open(dir_.path());
  ASSERT_TRUE(store.ok());
  auto guard = RollbackGuard::Open(dir_.path(), nullptr);
  ASSERT_TRUE(guard.ok());
  auto report = store->Recover(*guard, kNow);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->removed.size(), 3u);
  EXPECT_EQ(report->active_version, 1u);
  EXPECT_FALSE(report->completed_accept);
  // A second store user is locked out while this one is open.
  auto second = BundleStore::Open(dir_.path());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
}

TEST_F(StoreTest, RecoverRefusesRolledBackActiveBundle) {
  ASSERT_TRUE(Apply(Signed(1))->accepted());
  ASSERT_TRUE(Apply(Signed(2))->accepted());
  std::string bundles = dir_.path() + "/bundles";
  // Someone points `active` back at version 1 (an old backup of the links).
  auto v1 = DecodeBundle(Signed(1));
  ASSERT_TRUE(v1.ok());
  char target[256] = {};
  ASSERT_GT(::readlink((bundles + "/last-known-good").c_str(), target, sizeof target - 1), 0);
  ASSERT_EQ(::unlink((bundles + "/active").c_str()), 0);
  ASSERT_EQ(::symlink(target, (bundles + "/active").c_str()), 0);
  auto store = BundleStore::Open(dir_.path());
  ASSERT_TRUE(store.ok());
  auto guard = RollbackGuard::Open(dir_.path(), nullptr);
  ASSERT_TRUE(guard.ok());
  auto report = store->Recover(*guard, kNow);
  EXPECT_EQ(report.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(report.status().message().find("active bundle version 1 is below the highest accepted version 2"),
            std::string::npos) << report.status().ToString();
}

TEST_F(StoreTest, RecoverCompletesAnAcceptInterruptedAfterTheSwitch) {
  ASSERT_TRUE(Apply(Signed(1))->accepted());
  // What a crash right after `active` moved looks like: file and link for
  // version 2, state.json still at 1.
  Bytes v2 = Signed(2);
  auto b2 = DecodeBundle(v2);
  ASSERT_TRUE(b2.ok());
  std::string bundles = dir_.path() + "/bundles";
  ASSERT_TRUE(WriteFileAtomic(bundles + "/" + BundleFileName(*b2), v2, 0600).ok());
  ASSERT_EQ(::unlink((bundles + "/active").c_str()), 0);
  ASSERT_EQ(::symlink(BundleFileName(*b2).c_str(), (bundles + "/active").c_str()), 0);
  auto store = BundleStore::Open(dir_.path());
  ASSERT_TRUE(store.ok());
  auto guard = RollbackGuard::Open(dir_.path(), nullptr);
  ASSERT_TRUE(guard.ok());
  EXPECT_EQ(guard->EffectiveHighest(), 1u);
  auto report = store->Recover(*guard, kNow);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->completed_accept);
  EXPECT_EQ(guard->EffectiveHighest(), 2u);
  auto reopened = RollbackGuard::Open(dir_.path(), nullptr);
  EXPECT_EQ(reopened->disk_highest(), 2u);
}

TEST_F(StoreTest, WallClockIn1970StillRejectsAnExpiredBundle) {
  ASSERT_TRUE(Apply(Signed(1))->accepted());  // floor moves to 2026-11-23
  // Issued and expired in mid 2026; the node's clock says 1970.
  auto old = Apply(Signed(2, kNow - 180 * kDay, kNow - 150 * kDay), /*wall=*/0);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->reason, Reason::kExpired);
  EXPECT_NE(old->message.find("trusted time 2026-11-23T00:00:00Z"), std::string::npos) << old->message;
  auto guard = RollbackGuard::Open(dir_.path(), nullptr);
  ASSERT_TRUE(guard.ok());
  EXPECT_EQ(*guard->TrustedNow(0), kNow);
  EXPECT_EQ(*guard->TrustedNow(kNow + 5), kNow + 5);
  // A current bundle is still accepted at wall time 1970, and its issued_at
  // moves the floor.
  auto fresh = Apply(Signed(3, kNow + kDay, kNow + 30 * kDay), /*wall=*/0);
  ASSERT_TRUE(fresh.ok() && fresh->accepted()) << fresh->message;
  EXPECT_EQ(RollbackGuard::Open(dir_.path(), nullptr)->time_floor(), kNow + kDay);
}

TEST_F(StoreTest, WipedStateWithoutTpmForgetsTheHighestVersion) {
  // The documented limit of a TPM-less node: the disk is its only memory.
  ASSERT_TRUE(Apply(Signed(2))->accepted());
  ASSERT_EQ(::unlink((dir_.path() + "/state.json").c_str()), 0);
  EXPECT_EQ(RollbackGuard::Open(dir_.path(), nullptr)->EffectiveHighest(), 0u);
}

TEST_F(StoreTest, InstallRootAndRotate) {
  std::string v1 = SerializeRootDocument(root_);
  auto installed = InstallRoot(dir_.path(), v1, "root.json", kNow);
  ASSERT_TRUE(installed.ok()) << installed.status().ToString();
  EXPECT_TRUE(InstallRoot(dir_.path(), v1, "root.json", kNow).ok());
  // Rotation by a threshold of the current root keys.
  auto next = MakeRootDocument(RootContentFor(keys_, 2));
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(SignRootDocument(*next, keys_.root[0]).ok());
  ASSERT_TRUE(SignRootDocument(*next, keys_.root[2]).ok());
  auto rotated = InstallRoot(dir_.path(), SerializeRootDocument(*next), "new-root.json", kNow);
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(LoadInstalledRoot(dir_.path())->content.version, 2u);
  // Back to version 1: refused.
  auto back = InstallRoot(dir_.path(), v1, "root.json", kNow);
  EXPECT_EQ(back.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(back.status().message().find("not greater"), std::string::npos);
  // A root signed by strangers, claiming a higher version: refused.
  Keys other = NewKeys();
  auto hostile = InstallRoot(dir_.path(), SerializeRootDocument(MakeRoot(other, 9)), "evil.json", kNow);
  EXPECT_EQ(hostile.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(hostile.status().message().find("0 of 2 required root signatures by the currently trusted"),
            std::string::npos) << hostile.status().ToString();
}

}  // namespace
}  // namespace edgeward::bundle::test
