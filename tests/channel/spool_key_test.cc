#include "edgeward/channel/spool_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "swtpm.h"

namespace edgeward::channel {
namespace {

TEST(SpoolKeyTest, WithoutTpmTheKeyFileIsTheDegradedMode) {
  testing::TempDir tmp;
  auto a = LoadOrCreateSpoolKey(tmp.File("spool"), nullptr);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_FALSE(a->tpm_sealed);
  struct stat st{};
  ASSERT_EQ(::stat(tmp.File("spool/key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto b = LoadOrCreateSpoolKey(tmp.File("spool"), nullptr);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(std::equal(a->key.view().begin(), a->key.view().end(), b->key.view().begin()));
  ASSERT_EQ(::chmod(tmp.File("spool/key").c_str(), 0644), 0);
  auto loose = LoadOrCreateSpoolKey(tmp.File("spool"), nullptr);
  EXPECT_EQ(loose.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(loose.status().message().find("0600"), std::string::npos);
}

TEST(SpoolKeyTest, WithTpmTheKeyIsSealedAndModesNeverMix) {
  auto swtpm = testing::Swtpm::Start();
  ASSERT_TRUE(swtpm.ok()) << swtpm.status().ToString();
  auto tpm = tpm::Tpm::Open((*swtpm)->tcti());
  ASSERT_TRUE(tpm.ok());
  testing::TempDir tmp;
  auto a = LoadOrCreateSpoolKey(tmp.File("spool"), &*tpm);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(a->tpm_sealed);
  struct stat st{};
  EXPECT_NE(::stat(tmp.File("spool/key").c_str(), &st), 0);
  ASSERT_EQ(::stat(tmp.File("spool/key.sealed").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto b = LoadOrCreateSpoolKey(tmp.File("spool"), &*tpm);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE(std::equal(a->key.view().begin(), a->key.view().end(), b->key.view().begin()));
  auto no_tpm = LoadOrCreateSpoolKey(tmp.File("spool"), nullptr);
  EXPECT_EQ(no_tpm.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(no_tpm.status().message().find("no TPM"), std::string::npos);
  testing::TempDir clear;
  ASSERT_TRUE(LoadOrCreateSpoolKey(clear.File("spool"), nullptr).ok());
  auto mixed = LoadOrCreateSpoolKey(clear.File("spool"), &*tpm);
  EXPECT_EQ(mixed.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace edgeward::channel
