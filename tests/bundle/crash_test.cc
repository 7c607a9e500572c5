// Crash safety: a child process applying a bundle is killed with SIGKILL at
// a random moment, 200 times. After every kill the active bundle is the old
// one or the new one, complete and verifying, and the next Recover()
// succeeds without help.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "bundle_test_util.h"
#include "edgeward/bundle/store.h"
#include "swtpm.h"

namespace edgeward::bundle::test {
namespace {

// Child: one apply through the real API, then exit. No gtest in here.
[[noreturn]] void ApplyInChild(const std::string& dir, const RootDocument& root, const Bytes& file) {
  auto store = BundleStore::Open(dir);
  if (!store.ok()) ::_exit(10);
  auto guard = RollbackGuard::Open(dir, nullptr);
  if (!guard.ok()) ::_exit(11);
  auto verdict = store->Apply(file, root, *guard, VerifyOptions{}, kNow);
  ::_exit(verdict.ok() && verdict->accepted() ? 0 : 12);
}

TEST(CrashTest, KilledApplyLeavesOldOrNewAndRecovers) {
  testing::TempDir dir;
  Keys keys = NewKeys();
  RootDocument root = MakeRoot(keys, 1);
  auto make = [&](uint64_t v) { return SignedBundle(MakeTestBundle(v, 20), {&keys.policy[0]}); };

  // Calibrate: how long a whole child apply takes here.
  auto start = std::chrono::steady_clock::now();
  pid_t first = ::fork();
  ASSERT_GE(first, 0);
  if (first == 0) ApplyInChild(dir.path(), root, make(1));
  int status = 0;
  ASSERT_EQ(::waitpid(first, &status, 0), first);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  auto apply_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();

  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<long> delay(0, apply_us * 3 / 2 + 1);
  uint64_t current = 1;
  int old_count = 0, new_count = 0, recovered_accepts = 0;
  for (int i = 0; i < 200; ++i) {
    Bytes next = make(current + 1);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) ApplyInChild(dir.path(), root, next);
    std::this_thread::sleep_for(std::chrono::microseconds(delay(rng)));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status)) {
      ASSERT_EQ(WEXITSTATUS(status), 0) << "child failed, iteration " << i;
    }

    auto store = BundleStore::Open(dir.path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto guard = RollbackGuard::Open(dir.path(), nullptr);
    ASSERT_TRUE(guard.ok()) << guard.status().ToString();
    auto active = store->Active();
    ASSERT_TRUE(active.ok()) << "iteration " << i << ": " << active.status().ToString();
    ASSERT_TRUE(active->has_value()) << "iteration " << i << ": no active bundle";
    const uint64_t v = (*active)->manifest.version;
    ASSERT_TRUE(v == current || v == current + 1) << "iteration " << i << ": active version " << v;
    // Fully the old or the new bundle: byte-identical to what was signed,
    // and it verifies against the root.
    Bytes expected = v == current + 1 ? next : make(v);
    Bytes on_disk = EncodeBundle(**active);
    auto again = DecodeBundle(expected);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->signed_bytes, (*active)->signed_bytes) << "iteration " << i;
    EXPECT_EQ(again->payload, (*active)->payload) << "iteration " << i;
    VerifyOptions o;
    o.trusted_now = kNow;
    o.highest_accepted = v - 1;
    Verdict verdict = VerifyBundle(on_disk, root, o);
    ASSERT_TRUE(verdict.accepted()) << "iteration " << i << ": " << verdict.message;

    auto report = store->Recover(*guard, kNow);
    ASSERT_TRUE(report.ok()) << "iteration " << i << ": " << report.status().ToString();
    ASSERT_EQ(guard->EffectiveHighest(), v);
    recovered_accepts += report->completed_accept;
    (v == current ? old_count : new_count)++;
    current = v;
  }
  std::cout << "200 kills (apply takes ~" << apply_us << " us): " << old_count << " left the old bundle active, "
            << new_count << " the new one; " << recovered_accepts << " accepts completed by Recover()\n";
}

}  // namespace
}  // namespace edgeward::bundle::test
