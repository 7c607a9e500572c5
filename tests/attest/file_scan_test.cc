#include "edgeward/attest_node/file_scan.h"

#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "edgeward/base/file.h"
#include "swtpm.h"

namespace edgeward::attest_node {
namespace {

// SHA-256("hello\n"), as printed by sha256sum.
constexpr char kHelloSha256[] = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

void Write(const std::string& p, std::string_view s) { ASSERT_TRUE(WriteFileAtomic(p, AsBytes(s), 0644).ok()); }

// Makes the file's last change older than the scan cache's racily-clean
// slack (2 s), so a hash taken after this may be reused.
void Age() { std::this_thread::sleep_for(std::chrono::milliseconds(2100)); }

TEST(FileScanTest, HashFileMatchesSha256sum) {
  testing::TempDir dir;
  Write(dir.File("a"), "hello\n");
  auto d = HashFile(dir.File("a"), nullptr);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(HexEncode(d->sha256), kHelloSha256);
  auto r = testing::RunCommand("sha256sum " + dir.File("a"));
  EXPECT_EQ(r.output.substr(0, 64), kHelloSha256);
}

TEST(FileScanTest, SecondScanOfUnchangedFileComesFromCache) {
  testing::TempDir dir;
  Write(dir.File("a"), "hello\n");
  Age();
  ScanCache cache;
  auto first = HashFile(dir.File("a"), &cache);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->from_cache);
  auto second = HashFile(dir.File("a"), &cache);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->from_cache);
  EXPECT_EQ(second->sha256, first->sha256);
}

TEST(FileScanTest, ChangedContentWithForgedMtimeIsRehashed) {
  testing::TempDir dir;
  const std::string p = dir.File("a");
  Write(p, "hello\n");
  Age();
  ScanCache cache;
  auto first = HashFile(p, &cache);
  ASSERT_TRUE(first.ok());
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  // Same size, same inode (overwrite in place), mtime put back: only ctime
  // can tell.
  {
    FILE* f = std::fopen(p.c_str(), "r+");
    ASSERT_NE(f, nullptr);
    std::fputs("HELLO\n", f);
    std::fclose(f);
  }
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
  auto second = HashFile(p, &cache);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->from_cache);
  EXPECT_NE(second->sha256, first->sha256);
}

TEST(FileScanTest, RacilyCleanFileIsNotTrustedFromCache) {
  testing::TempDir dir;
  const std::string p = dir.File("a");
  Write(p, "hello\n");
  ScanCache cache;
  // An entry hashed before the file's last change must never be reused.
  auto first = HashFile(p, &cache);
  ASSERT_TRUE(first.ok());
  ScanCache::Entry e = *cache.Find(p);
  e.hashed_at_ns = e.identity.ctime_ns + 1'000'000'000;  // hashed 1 s after the change: within the slack
  cache.Put(p, e);
  auto second = HashFile(p, &cache);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->from_cache);
}

TEST(FileScanTest, CacheSurvivesSaveAndLoadAndCorruptionIsIgnored) {
  testing::TempDir dir;
  Write(dir.File("a"), "hello\n");
  Age();
  ScanCache cache;
  ASSERT_TRUE(HashFile(dir.File("a"), &cache).ok());
  ASSERT_TRUE(cache.Save(dir.File("cache")).ok());
  struct stat st {};
  ASSERT_EQ(::stat(dir.File("cache").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ScanCache loaded = ScanCache::Load(dir.File("cache"));
  ASSERT_EQ(loaded.size(), 1u);
  auto d = HashFile(dir.File("a"), &loaded);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->from_cache);

  std::string bytes = *ReadFileToString(dir.File("cache"), 1 << 20);
  bytes.resize(bytes.size() - 5);
  Write(dir.File("cache"), bytes);
  EXPECT_EQ(ScanCache::Load(dir.File("cache")).size(), 0u);
}

TEST(FileScanTest, HashPathsWalksDirectoriesSorted) {
  testing::TempDir dir;
  ASSERT_TRUE(MakeDirs(dir.File("t/sub"), 0755).ok());
  Write(dir.File("t/b"), "b");
  Write(dir.File("t/sub/a"), "a");
  auto r = HashPaths({dir.File("t")}, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].path, dir.File("t/b"));
  EXPECT_EQ((*r)[1].path, dir.File("t/sub/a"));
  auto missing = HashPaths({dir.File("nope")}, nullptr);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(dir.File("nope")), std::string::npos);
}

// Replacing a measured file with a link to another file must change what is
// recorded for that path: the link is measured as the content it leads to.
TEST(FileScanTest, ALinkIsMeasuredAsItsTargetUnderItsOwnPath) {
  testing::TempDir dir;
  ASSERT_TRUE(MakeDirs(dir.File("t"), 0755).ok());
  Write(dir.File("elsewhere"), "hello\n");
  ASSERT_EQ(::symlink(dir.File("elsewhere").c_str(), dir.File("t/sensor").c_str()), 0);
  ASSERT_EQ(::symlink(dir.File("gone").c_str(), dir.File("t/dangling").c_str()), 0);
  auto r = HashPaths({dir.File("t")}, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].path, dir.File("t/sensor"));
  EXPECT_EQ(HexEncode((*r)[0].sha256), kHelloSha256);
}

TEST(FileScanTest, LinkedDirectoriesAreWalkedOnceAndLoopsEnd) {
  testing::TempDir dir;
  ASSERT_TRUE(MakeDirs(dir.File("t/real"), 0755).ok());
  Write(dir.File("t/real/f"), "f");
  ASSERT_EQ(::symlink(dir.File("t").c_str(), dir.File("t/real/loop").c_str()), 0);
  ASSERT_TRUE(MakeDirs(dir.File("other"), 0755).ok());
  Write(dir.File("other/g"), "g");
  ASSERT_EQ(::symlink(dir.File("other").c_str(), dir.File("t/linked").c_str()), 0);
  auto r = HashPaths({dir.File("t")}, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].path, dir.File("t/linked/g"));
  EXPECT_EQ((*r)[1].path, dir.File("t/real/f"));
}

}  // namespace
}  // namespace edgeward::attest_node
