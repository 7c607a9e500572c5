#include "edgeward/base/file.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "swtpm.h"

namespace edgeward {
namespace {

TEST(FileTest, WriteFileAtomicSetsExactModeAndReplacesContent) {
  testing::TempDir dir;
  const std::string p = dir.File("key");
  ::umask(022);
  ASSERT_TRUE(WriteFileAtomic(p, AsBytes("one"), 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(p, AsBytes("two"), 0600).ok());
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(*ReadFileToString(p, 100), "two");
}

TEST(FileTest, ReadFileEnforcesTheSizeLimit) {
  testing::TempDir dir;
  const std::string p = dir.File("big");
  ASSERT_TRUE(WriteFileAtomic(p, AsBytes(std::string(1000, 'x')), 0644).ok());
  auto r = ReadFileToString(p, 999);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find(p), std::string::npos);
  EXPECT_EQ(ReadFileToString(dir.File("missing"), 10).status().code(), StatusCode::kNotFound);
}

TEST(FileTest, ReadRegularFileRefusesAFifoWithoutBlocking) {
  testing::TempDir dir;
  const std::string fifo = dir.File("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // No writer: an ordinary open would block here for ever.
  auto r = ReadRegularFileToString(fifo, 100);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("not a regular file"), std::string::npos) << r.status().message();
  const std::string p = dir.File("plain");
  ASSERT_TRUE(WriteFileAtomic(p, AsBytes("bundle"), 0600).ok());
  auto ok = ReadRegularFileToString(p, 100);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, "bundle");
  EXPECT_EQ(ReadRegularFileToString(p, 3).status().code(), StatusCode::kResourceExhausted);
}

TEST(FileTest, MakeDirsCreatesParentsAndEnforcesMode) {
  testing::TempDir dir;
  const std::string p = dir.File("a/b/state");
  ASSERT_TRUE(MakeDirs(p, 0700).ok());
  ::chmod(p.c_str(), 0755);
  ASSERT_TRUE(MakeDirs(p, 0700, /*enforce_mode=*/true).ok());
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

}  // namespace
}  // namespace edgeward
