#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include <gtest/gtest.h>

#include "child_runner.h"
#include "edgeward/base/file.h"
#include "swtpm.h"

namespace edgeward::seccomp {
namespace {

std::string OnlyEntry(const std::string& dir) {
  auto r = edgeward::testing::RunCommand("ls " + dir);
  std::string name = r.output.substr(0, r.output.find('\n'));
  return dir + "/" + name;
}

TEST(CacheTest, SecondPrepareIsACacheHitWithTheSameProgram) {
  edgeward::testing::TempDir tmp;
  PrepareOptions o;
  o.cache_dir = tmp.File("cache");
  auto policy = testing::MakePolicy(policy::SeccompProfileKind::kBaseline);
  auto first = PrepareFilter(policy, o);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->from_cache());
  auto second = PrepareFilter(policy, o);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->from_cache());
  EXPECT_EQ(first->hash_hex(), second->hash_hex());
  EXPECT_EQ(first->needs_supervisor(), second->needs_supervisor());

  struct stat st {};
  ASSERT_EQ(stat(o.cache_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(stat(OnlyEntry(o.cache_dir).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // Another policy is another entry (the key covers the mode; audit keeps
  // the dangerous set native, so its BPF differs from enforce's too).
  auto audit = testing::MakePolicy(policy::SeccompProfileKind::kBaseline, policy::Mode::kAudit);
  auto third = PrepareFilter(audit, o);
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(third->from_cache());
  auto strict = PrepareFilter(testing::MakePolicy(policy::SeccompProfileKind::kStrict), o);
  ASSERT_TRUE(strict.ok());
  EXPECT_FALSE(strict->from_cache());
  EXPECT_NE(strict->hash_hex(), first->hash_hex());
}

// Review finding 6: a cached BPF is trusted only from a directory that is
// ours and mode 0700 (anyone who can write the directory can swap entries).
TEST(CacheTest, EntriesInALooseOrForeignDirectoryAreNotTrusted) {
  edgeward::testing::TempDir tmp;
  PrepareOptions o;
  o.cache_dir = tmp.File("cache");
  auto policy = testing::MakePolicy(policy::SeccompProfileKind::kStrict);
  ASSERT_TRUE(PrepareFilter(policy, o).ok());
  ASSERT_EQ(chmod(o.cache_dir.c_str(), 0755), 0);
  auto loose = PrepareFilter(policy, o);
  ASSERT_TRUE(loose.ok());
  EXPECT_FALSE(loose->from_cache());
  // The store that followed restored 0700: trusted again.
  struct stat st {};
  ASSERT_EQ(stat(o.cache_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto again = PrepareFilter(policy, o);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->from_cache());
  // Not our directory (root runs the tests; nobody owns it now).
  if (geteuid() == 0) {
    ASSERT_EQ(chown(o.cache_dir.c_str(), 65534, 65534), 0);
    ASSERT_EQ(chmod(o.cache_dir.c_str(), 0700), 0);
    EXPECT_FALSE(PrepareFilter(policy, o)->from_cache());
  }
}

TEST(CacheTest, CorruptOrTruncatedEntriesAreIgnoredAndRecompiled) {
  edgeward::testing::TempDir tmp;
  PrepareOptions o;
  o.cache_dir = tmp.File("cache");
  auto policy = testing::MakePolicy(policy::SeccompProfileKind::kStrict);
  auto good = PrepareFilter(policy, o);
  ASSERT_TRUE(good.ok());
  const std::string entry = OnlyEntry(o.cache_dir);
  auto bytes = ReadFileToString(entry, 1 << 20);
  ASSERT_TRUE(bytes.ok());

  // One flipped bit in the program: the trailer hash catches it.
  std::string flipped = *bytes;
  flipped[100] = static_cast<char>(flipped[100] ^ 0x01);
  ASSERT_TRUE(WriteFileAtomic(entry, AsBytes(flipped), 0600).ok());
  auto after_flip = PrepareFilter(policy, o);
  ASSERT_TRUE(after_flip.ok());
  EXPECT_FALSE(after_flip->from_cache());
  EXPECT_EQ(after_flip->hash_hex(), good->hash_hex());
  EXPECT_EQ(*ReadFileToString(entry, 1 << 20), *bytes);  // rewritten

  ASSERT_TRUE(WriteFileAtomic(entry, AsBytes(bytes->substr(0, bytes->size() / 2)), 0600).ok());
  auto after_cut = PrepareFilter(policy, o);
  ASSERT_TRUE(after_cut.ok());
  EXPECT_FALSE(after_cut->from_cache());

  // World-writable entries are not trusted even when intact.
  ASSERT_TRUE(WriteFileAtomic(entry, AsBytes(*bytes), 0666).ok());
  ASSERT_EQ(chmod(entry.c_str(), 0666), 0);
  auto writable = PrepareFilter(policy, o);
  ASSERT_TRUE(writable.ok());
  EXPECT_FALSE(writable->from_cache());
}

}  // namespace
}  // namespace edgeward::seccomp
