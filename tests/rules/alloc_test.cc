// Proves Engine::Process does not allocate: a counting global operator new.
// Only in builds without AddressSanitizer (ASan owns operator new there);
// the ASan build skips the test.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "bench_rules.h"
#include "test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define EW_COUNT_ALLOCS 0
#else
#define EW_COUNT_ALLOCS 1
namespace {
std::atomic<long> g_allocs{0};
}
void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// noinline: inlined into std::string code, GCC 12 pairs the free() with the
// allocation's operator new and warns (-Wmismatched-new-delete, false alarm).
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace edgeward::rules {
namespace {

using testing::Ev;
using testing::Violation;

// A sink that does nothing: what it costs is the agent's business.
class NullSink : public ActionSink {
 public:
  int calls = 0;
  void OnFiring(const Firing& f) override { calls += f.output.empty() ? 0 : 1; }
  void Log(const Firing&) override {}
  void Report(const Firing&, Priority) override {}
  void KillWorkload(const Firing&, std::string_view) override {}
  void RestartWorkload(const Firing&, std::string_view) override {}
  void StopWorkloads(const Firing&, std::span<const std::string>) override {}
  void Quarantine(const Firing&, std::span<const std::string>) override {}
  void Reattest(const Firing&) override {}
  void RunCommand(const Firing&, std::string_view) override {}
};

TEST(AllocTest, ProcessDoesNotAllocate) {
#if !EW_COUNT_ALLOCS
  GTEST_SKIP() << "operator new belongs to ASan in this build";
#else
  Engine engine;
  Status loaded = testing::LoadText(engine, R"(- list: sensitive
  items: [a, b, c, d, e, f, g, h, i, j, sensor-reader]
- macro: v
  condition: event.type = sandbox.violation
- rule: threshold
  condition: v and workload.name in (sensitive) and syscall.name glob "p*"
  threshold: {count: 3, within: 10s, per: workload.name}
  actions: [kill_workload, report(priority: high)]
  output: "%workload.name %syscall.name %syscall.args at %event.time"
- rule: rate limited
  condition: v and workload.name startswith sensor and not syscall.nr in (1, 2)
  rate_limit: {count: 2, within: 1s, per: workload.pid}
  actions: [stop_workloads(in: sensitive), log]
  exceptions:
    - name: e
      fields: [workload.name, syscall.name]
      values: [[x, y]]
- rule: verdict
  condition: event.type = attestation.verdict and verdict.reasons contains "pcr 7"
  actions: [quarantine(allow: sensitive), reattest, run_command(name: forensics)]
  output: "%verdict.reasons"
)");
  ASSERT_TRUE(loaded.ok()) << loaded.message();
  std::vector<Event> events;
  for (int i = 0; i < 200; ++i) {
    events.push_back(Violation(i % 3 ? std::string("sensor-reader") : std::string("k").append(std::to_string(i)), i % 2 ? "ptrace" : "bpf", i * 50));
  }
  events.push_back(Ev(R"({"type":"attestation.verdict","time":"2026-11-23T23:40:00Z","verdict":{"pass":false,"reasons":["pcr 7"]}})"));
  NullSink sink;
  long before = g_allocs.load();
  for (const auto& e : events) engine.Process(e, sink);
  long after = g_allocs.load();
  EXPECT_EQ(after - before, 0);
  EXPECT_GT(sink.calls, 10);  // rules did fire: firing paths were exercised too
#endif
}

// The matcher's paths (value index, memoised leaves and subtrees, many
// firings, thresholds) on the bench's 100 rules and event mix.
TEST(AllocTest, BenchRulesProcessWithoutAllocating) {
#if !EW_COUNT_ALLOCS
  GTEST_SKIP() << "operator new belongs to ASan in this build";
#else
  std::vector<std::pair<std::string, std::vector<std::string>>> lists;
  std::string list_yaml = bench::Lists(&lists);
  Engine engine;
  Status loaded = engine.LoadSources({RuleSource{"bench.yaml", bench::Yaml(list_yaml, bench::Rules())}});
  ASSERT_TRUE(loaded.ok()) << loaded.message();
  std::vector<Event> events;
  for (const auto& line : bench::EventLines(3000)) events.push_back(Ev(line));
  NullSink sink;
  long before = g_allocs.load();
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& e : events) engine.Process(e, sink);
  }
  long after = g_allocs.load();
  EXPECT_EQ(after - before, 0);
  EXPECT_GT(sink.calls, 1000);
  EXPECT_GT(engine.stats().candidates, 0u);
#endif
}

}  // namespace
}  // namespace edgeward::rules
