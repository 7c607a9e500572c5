// Disk full (issue 6, "Faults it survives"): the agent's durable state —
// the spool and the bundle store — on a real, deliberately tiny tmpfs.
// Running out of space must give a clear error (naming the call, the file
// and "No space left on device") and leave every earlier good state intact:
// no message the spool accepted is lost or corrupted, and the active
// bundle stays the one that was running.
#include <fcntl.h>
#include <cstring>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bundle_test_util.h"
#include "edgeward/base/fd.h"
#include "edgeward/bundle/store.h"
#include "edgeward/channel/spool.h"
#include "swtpm.h"

namespace edgeward {
namespace {

using bundle::test::kDay;
using bundle::test::kNow;

// A tmpfs of `bytes` mounted on a fresh temp dir; unmounted at the end.
class TinyDisk {
 public:
  explicit TinyDisk(size_t bytes) {
    std::string opts = "size=" + std::to_string(bytes) + ",mode=0700";
    mounted_ = ::mount("edgeward-test", dir_.path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) == 0;
    if (!mounted_) error_ = std::string("mount(tmpfs): ") + std::strerror(errno);
  }
  ~TinyDisk() {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  std::string File(const std::string& name) const { return dir_.File(name); }

  // Writes a filler file until the disk has about `leave` bytes left.
  void FillLeaving(size_t leave) {
    UniqueFd fd(::open(File("filler").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    ASSERT_TRUE(fd.valid());
    std::vector<char> block(4096, 'x');
    size_t written = 0;
    for (;;) {
      ssize_t n = ::write(fd.get(), block.data(), block.size());
      if (n <= 0) break;
      written += static_cast<size_t>(n);
    }
    ASSERT_EQ(errno, ENOSPC);
    // Give back `leave` bytes.
    ASSERT_EQ(::ftruncate(fd.get(), static_cast<off_t>(written > leave ? written - leave : 0)), 0);
  }
  void FreeFiller() { ASSERT_EQ(::unlink(File("filler").c_str()), 0); }

 private:
  testing::TempDir dir_;
  bool mounted_ = false;
  std::string error_;
};

crypto::GuardedBytes SpoolKey() {
  Bytes k(channel::kSpoolKeyBytes, 0x5a);
  return std::move(crypto::GuardedBytes::CopyOf(k).value());
}

Bytes Payload(int i) {
  std::string s = "{\"type\":\"workload.exit\",\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(200, 'p') + "\"}";
  return Bytes(s.begin(), s.end());
}

TEST(DiskFullTest, SpoolRefusesWithENOSPCAndKeepsEveryAcceptedMessage) {
  TinyDisk disk(1 << 20);
  ASSERT_TRUE(disk.mounted()) << disk.error();
  channel::SpoolOptions options;
  options.dir = disk.File("spool");
  options.fsync_every_records = 1;
  int accepted = 0;
  Status failure;
  {
    auto spool = channel::Spool::Open(options, SpoolKey());
    ASSERT_TRUE(spool.ok()) << spool.status().ToString();
    disk.FillLeaving(16 * 1024);
    for (int i = 0; i < 10'000; ++i) {
      auto m = (*spool)->Append(channel::Priority::kEvent, Payload(i));
      if (!m.ok()) {
        failure = m.status();
        break;
      }
      ++accepted;
    }
  }
  ASSERT_FALSE(failure.ok()) << "a 16 KiB remainder absorbed 10,000 appends";
  EXPECT_EQ(failure.code(), StatusCode::kResourceExhausted) << failure.ToString();
  EXPECT_NE(failure.message().find("No space left on device"), std::string::npos) << failure.ToString();
  EXPECT_GT(accepted, 10);

  // Space comes back (an operator cleans up); the spool reopens with every
  // message it accepted, intact and in order.
  disk.FreeFiller();
  auto spool = channel::Spool::Open(options, SpoolKey());
  ASSERT_TRUE(spool.ok()) << spool.status().ToString();
  auto msgs = (*spool)->Peek(100'000);
  ASSERT_TRUE(msgs.ok()) << msgs.status().ToString();
  ASSERT_GE(msgs->size(), static_cast<size_t>(accepted));
  for (int i = 0; i < accepted; ++i) {
    EXPECT_EQ((*msgs)[static_cast<size_t>(i)].payload, Payload(i)) << "message " << i;
  }
  // And it accepts new messages again.
  EXPECT_TRUE((*spool)->Append(channel::Priority::kEvent, Payload(-1)).ok());
}

TEST(DiskFullTest, BundleApplyFailsCleanlyAndTheRunningBundleStays) {
  TinyDisk disk(2 << 20);
  ASSERT_TRUE(disk.mounted()) << disk.error();
  const std::string state = disk.File("state");
  auto keys = bundle::test::NewKeys();
  auto root = bundle::test::MakeRoot(keys, 1);
  auto apply = [&](const Bytes& file) -> StatusOr<bundle::Verdict> {
    auto store = bundle::BundleStore::Open(state);
    if (!store.ok()) return store.status();
    auto guard = bundle::RollbackGuard::Open(state, nullptr);
    if (!guard.ok()) return guard.status();
    bundle::VerifyOptions o;
    o.node = bundle::NodeIdentity{"edge-1", {}};
    return store->Apply(file, root, *guard, o, kNow);
  };
  auto active_version = [&]() -> uint64_t {
    auto store = bundle::BundleStore::Open(state);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return 0;
    auto active = store->Active();
    EXPECT_TRUE(active.ok()) << active.status().ToString();
    return active.ok() && *active ? (*active)->manifest.version : 0;
  };
  auto v1 = apply(bundle::test::SignedBundle(bundle::test::MakeTestBundle(1, 2, kNow - kDay, kNow + 30 * kDay),
                                             {&keys.policy[0]}));
  ASSERT_TRUE(v1.ok() && v1->accepted()) << (v1.ok() ? v1->message : v1.status().ToString());

  // A bigger bundle than the space left.
  disk.FillLeaving(8 * 1024);
  auto v2_file = bundle::test::SignedBundle(bundle::test::MakeTestBundle(2, 200, kNow - kDay, kNow + 30 * kDay),
                                            {&keys.policy[0]});
  ASSERT_GT(v2_file.size(), 16u * 1024) << "the test bundle must not fit in the space left";
  auto v2 = apply(v2_file);
  ASSERT_FALSE(v2.ok()) << "applied a bundle onto a full disk: " << (v2.ok() ? v2->message : "");
  EXPECT_EQ(v2.status().code(), StatusCode::kResourceExhausted) << v2.status().ToString();
  EXPECT_NE(v2.status().message().find("No space left on device"), std::string::npos) << v2.status().ToString();
  EXPECT_EQ(active_version(), 1u) << "the running bundle changed after a failed apply";

  // With space back, recovery removes the partial file and v2 applies.
  disk.FreeFiller();
  {
    auto store = bundle::BundleStore::Open(state);
    ASSERT_TRUE(store.ok());
    auto guard = bundle::RollbackGuard::Open(state, nullptr);
    ASSERT_TRUE(guard.ok());
    auto report = store->Recover(*guard, kNow);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->active_version, 1u);
  }
  auto retry = apply(v2_file);
  ASSERT_TRUE(retry.ok() && retry->accepted()) << (retry.ok() ? retry->message : retry.status().ToString());
  EXPECT_EQ(active_version(), 2u);
}

}  // namespace
}  // namespace edgeward
