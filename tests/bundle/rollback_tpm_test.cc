// Anti-rollback anchored in a (software) TPM: the NV counter and its
// write-once base record keep a node from accepting an older bundle after
// its state directory is wiped or restored from a backup, across power
// cycles; the TPM Clock carries trusted time forward.
#include <unistd.h>

#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "bundle_test_util.h"
#include "edgeward/base/file.h"
#include "edgeward/bundle/store.h"
#include "edgeward/tpm/nv.h"
#include "edgeward/tpm/nv_counter.h"
#include "edgeward/tpm/nv_write.h"
#include "swtpm.h"

namespace edgeward::bundle::test {
namespace {

constexpr uint32_t kTpmaNvWriteLocked = 0x00000800;

class RollbackTpmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = testing::Swtpm::Start();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    swtpm_ = std::move(*s);
    Reopen();
  }
  void Reopen() {
    tpm_.reset();
    auto t = tpm::Tpm::Open(swtpm_->tcti());
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tpm_.emplace(std::move(*t));
  }
  StatusOr<Verdict> Apply(uint64_t version, int64_t wall = kNow) {
    auto store = BundleStore::Open(dir_.path());
    if (!store.ok()) return store.status();
    auto guard = RollbackGuard::Open(dir_.path(), &*tpm_);
    if (!guard.ok()) return guard.status();
    return store->Apply(SignedBundle(MakeTestBundle(version), {&keys_.policy[0]}), root_, *guard, VerifyOptions{},
                        wall);
  }
  void WipeStateDir() {
    ASSERT_EQ(testing::RunCommand("rm -rf '" + dir_.path() + "'/*").exit_code, 0);
  }

  std::unique_ptr<testing::Swtpm> swtpm_;
  std::optional<tpm::Tpm> tpm_;
  testing::TempDir dir_;
  Keys keys_ = NewKeys();
  RootDocument root_ = MakeRoot(keys_, 1);
};

TEST_F(RollbackTpmTest, WipedStateDirStillRejectsAnOlderBundle) {
  for (uint64_t v : {3, 4, 7}) {
    auto r = Apply(v);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(r->accepted()) << r->message;
  }
  WipeStateDir();
  auto guard = RollbackGuard::Open(dir_.path(), &*tpm_);
  ASSERT_TRUE(guard.ok()) << guard.status().ToString();
  EXPECT_EQ(guard->disk_highest(), 0u);
  EXPECT_EQ(guard->tpm_highest(), 7u);
  auto older = Apply(6);
  ASSERT_TRUE(older.ok());
  EXPECT_EQ(older->reason, Reason::kVersionNotGreater);
  EXPECT_NE(older->message.find("highest accepted version 7"), std::string::npos) << older->message;
  EXPECT_TRUE(Apply(8)->accepted());
}

TEST_F(RollbackTpmTest, RestoredOldBackupStillRejectsAnOlderBundle) {
  ASSERT_TRUE(Apply(1)->accepted());
  ASSERT_TRUE(Apply(2)->accepted());
  auto backup = ReadFileToString(dir_.path() + "/state.json", 4096);
  ASSERT_TRUE(backup.ok());
  ASSERT_TRUE(Apply(5)->accepted());
  ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/state.json", AsBytes(*backup), 0600).ok());
  auto guard = RollbackGuard::Open(dir_.path(), &*tpm_);
  ASSERT_TRUE(guard.ok());
  EXPECT_EQ(guard->disk_highest(), 2u);
  EXPECT_EQ(guard->EffectiveHighest(), 5u);
  EXPECT_EQ(Apply(3)->reason, Reason::kVersionNotGreater);
  EXPECT_EQ(Apply(5)->reason, Reason::kVersionNotGreater);
}

TEST_F(RollbackTpmTest, PowerCycleKeepsTheHighestVersion) {
  ASSERT_TRUE(Apply(10)->accepted());
  ASSERT_TRUE(Apply(12)->accepted());
  tpm_.reset();
  ASSERT_TRUE(swtpm_->Restart().ok());
  Reopen();
  WipeStateDir();
  auto guard = RollbackGuard::Open(dir_.path(), &*tpm_);
  ASSERT_TRUE(guard.ok()) << guard.status().ToString();
  EXPECT_EQ(guard->tpm_highest(), 12u);
  EXPECT_EQ(Apply(11)->reason, Reason::kVersionNotGreater);
}

TEST_F(RollbackTpmTest, AnchorRecordIsWriteLockedAndCounterAdvancesPerVersion) {
  ASSERT_TRUE(Apply(4)->accepted());
  auto c0 = tpm::ReadNvCounter(*tpm_, kRollbackCounterIndex);
  ASSERT_TRUE(c0.ok());
  ASSERT_TRUE(Apply(9)->accepted());
  auto c1 = tpm::ReadNvCounter(*tpm_, kRollbackCounterIndex);
  EXPECT_EQ(*c1 - *c0, 5u);
  auto pub = tpm::ReadNvPublic(*tpm_, kRollbackBaseIndex);
  ASSERT_TRUE(pub.ok());
  EXPECT_NE(pub->attributes & kTpmaNvWriteLocked, 0u);
  auto base = tpm::ReadNv(*tpm_, kRollbackBaseIndex);
  ASSERT_TRUE(base.ok());
  ASSERT_EQ(base->size(), 16u);
  EXPECT_EQ((*base)[15], 4);  // first accepted version
  // Nobody can rewrite the anchor to claim an older first version.
  Bytes forged(16, 0);
  EXPECT_EQ(tpm::WriteNvIndex(*tpm_, kRollbackBaseIndex, forged).code(), StatusCode::kFailedPrecondition);
}

TEST_F(RollbackTpmTest, RemovedCounterIsRefusedNotGuessed) {
  ASSERT_TRUE(Apply(2)->accepted());
  ASSERT_TRUE(tpm::UndefineNvIndex(*tpm_, kRollbackCounterIndex).ok());
  auto guard = RollbackGuard::Open(dir_.path(), &*tpm_);
  EXPECT_EQ(guard.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(guard.status().message().find("missing or below its anchor"), std::string::npos);
}

TEST_F(RollbackTpmTest, TpmClockCarriesTrustedTimeForward) {
  ASSERT_TRUE(Apply(1)->accepted());  // floor = kNow, TPM Clock recorded
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  auto guard = RollbackGuard::Open(dir_.path(), &*tpm_);
  ASSERT_TRUE(guard.ok());
  auto now = guard->TrustedNow(/*wall_now=*/0);  // 1970 wall clock
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_GE(*now, kNow + 2);
  EXPECT_LT(*now, kNow + 60);
}

}  // namespace
}  // namespace edgeward::bundle::test
