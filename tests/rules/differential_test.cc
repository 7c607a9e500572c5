// Differential test: the optimised matcher (value index, interned and
// memoised leaves, hash-consed residuals) against the straightforward
// reference — Program::Eval of every rule of the event's type, in file
// order — on generated event streams over the shipped rules, the bench's
// 100 rules and a set written to hit the index's edge cases (negations,
// != and "not =" on absent fields, exists, or at the root, event-type
// tests, bools, lists, several tests on one field, contradictions).
// Then the whole Engine (thresholds, rate limits, sink order) against the
// reference evaluation plus the same windows.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <random>
#include <regex>
#include <map>
#include <set>
#include <sstream>

#include "bench_rules.h"
#include "edgeward/base/file.h"
#include "rule_set.h"  // rules/src: the reference path and the matcher
#include "test_util.h"

namespace edgeward::rules {
namespace {

using testing::RecordingSink;

std::vector<RuleSource> DefaultRules() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(EDGEWARD_SOURCE_DIR "/rules/default")) {
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<RuleSource> out;
  for (const auto& f : files) {
    auto text = ReadFileToString(f, kMaxRuleFileBytes);
    if (!text.ok()) {
      ADD_FAILURE() << text.status().message();
      return {};
    }
    out.push_back(RuleSource{f, *text});
  }
  return out;
}

std::vector<RuleSource> BenchRules() {
  std::vector<std::pair<std::string, std::vector<std::string>>> lists;
  std::string list_yaml = bench::Lists(&lists);
  return {RuleSource{"bench.yaml", bench::Yaml(list_yaml, bench::Rules())}};
}

constexpr const char* kEdgeCases = R"(- list: names
  items: [alpha, beta, "gamma delta", ""]
- list: nums
  items: [1, 2, 101]
- macro: v
  condition: event.type = sandbox.violation
- rule: neg_in
  condition: v and not workload.name in (names)
- rule: ne_absent
  condition: workload.name != alpha
- rule: not_eq
  condition: not workload.name = alpha
- rule: not_exists
  condition: not node.id exists
- rule: exists
  condition: node.id exists and v
- rule: or_root
  condition: event.type = tpm.fault or syscall.nr = 101
- rule: not_type
  condition: not event.type = tpm.fault and workload.pid > 100
- rule: int_in
  condition: syscall.nr in (nums) and not workload.pid in (1, 2, 3)
- rule: int_ne
  condition: syscall.nr != 1 and workload.pid != 1234
- rule: bools
  condition: verdict.pass = false or verdict.pass != true
- rule: bool_eq
  condition: verdict.pass = true and not verdict.verifier = alpha
- rule: lists
  condition: verdict.reasons contains alpha or verdict.reasons in (names) or syscall.args contains 16
- rule: strings
  condition: workload.name startswith al or workload.name endswith ta or workload.name contains "mm" or workload.name glob "*a?a*"
- rule: same_field_many
  condition: workload.name in (names) and workload.name != beta and workload.name exists and not workload.name = ""
- rule: contradiction
  condition: workload.name = alpha and workload.name = beta
- rule: type_in_and
  condition: event.type in (sandbox.violation, workload.exit) and workload.name = alpha
- rule: nested
  condition: (workload.name = alpha and (mode = enforce or not action startswith errno)) or (workload.name in (names) and not syscall.name = ptrace)
- rule: event_type_string
  condition: event.type startswith "workload." and workload.name exists
- rule: shared_a
  condition: v and mode = enforce and (syscall.name = ptrace or syscall.name = bpf)
- rule: shared_b
  condition: v and (syscall.name = ptrace or syscall.name = bpf) and mode = enforce
- rule: exceptions
  condition: v and mode = enforce
  exceptions:
    - name: e
      fields: [workload.name, syscall.name]
      comps: [startswith, in]
      values: [[al, [ptrace, bpf]], [be, [mount]]]
- rule: threshold
  condition: v and workload.name in (names)
  threshold: {count: 3, within: 1s, per: workload.name}
- rule: rate
  condition: event.type = workload.exit
  rate_limit: {count: 2, within: 1s, per: exit.code}
- rule: empty_eq
  condition: workload.name = "" or node.id = ""
- rule: disabled
  enabled: false
  condition: workload.name exists
)";

// Values for generated events: every word, quoted string and number in the
// rule texts, plus near misses of them.
struct Pool {
  std::vector<std::string> strings;
  std::vector<int64_t> ints;
  // Constants the conditions compare each field with (lists expanded).
  std::array<std::vector<std::string>, kFieldCount> field_strings;
  std::array<std::vector<int64_t>, kFieldCount> field_ints;
};

std::string Trim(std::string s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '"')) s.erase(s.begin());
  while (!s.empty() && (s.back() == ' ' || s.back() == '"')) s.pop_back();
  return s;
}

void HarvestFields(const std::string& text, Pool* p) {
  std::map<std::string, std::vector<std::string>> lists;
  const std::regex list_re(R"re(- list: (\S+)\s*\n\s*items: \[([^\]]*)\])re");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), list_re); it != std::sregex_iterator(); ++it) {
    std::vector<std::string>& items = lists[(*it)[1].str()];
    std::stringstream ss((*it)[2].str());
    for (std::string item; std::getline(ss, item, ',');) items.push_back(Trim(item));
  }
  auto add = [&](const std::string& field, const std::string& value) {
    FieldId id;
    if (FindField(field, &id) == nullptr) return;
    auto expand = lists.find(value);
    std::vector<std::string> values = expand != lists.end() ? expand->second : std::vector<std::string>{value};
    for (const auto& v : values) {
      p->field_strings[static_cast<unsigned>(id)].push_back(v);
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (!v.empty() && *end == '\0') p->field_ints[static_cast<unsigned>(id)].push_back(n);
    }
  };
  const std::regex cmp_re(
      R"re(([a-z_]+(?:\.[a-z_]+)*)\s+(?:=|!=|<=|>=|<|>|contains|startswith|endswith|glob)\s+("[^"]*"|[^\s()]+))re");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), cmp_re); it != std::sregex_iterator(); ++it) {
    add((*it)[1].str(), Trim((*it)[2].str()));
  }
  const std::regex in_re(R"re(([a-z_]+(?:\.[a-z_]+)*)\s+in\s+\(([^)]*)\))re");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), in_re); it != std::sregex_iterator(); ++it) {
    std::stringstream ss((*it)[2].str());
    for (std::string item; std::getline(ss, item, ',');) add((*it)[1].str(), Trim(item));
  }
}

Pool Harvest(const std::vector<RuleSource>& sources) {
  std::set<std::string> strs = {"", "errno(EPERM)", "enforce", "audit", "learn", "x86_64", "gamma delta"};
  std::set<int64_t> ints = {0, -1, 1, 16, 101, 1234, INT64_MAX, INT64_MIN};
  const std::regex token(R"re("([^"]*)"|([A-Za-z0-9_.\-]+))re");
  for (const auto& src : sources) {
    for (auto it = std::sregex_iterator(src.text.begin(), src.text.end(), token); it != std::sregex_iterator(); ++it) {
      std::string t = (*it)[1].matched ? (*it)[1].str() : (*it)[2].str();
      strs.insert(t);
      char* end = nullptr;
      long long v = std::strtoll(t.c_str(), &end, 10);
      if (!t.empty() && *end == '\0') {
        ints.insert(v);
        ints.insert(v - 1);
        ints.insert(v + 1);
      }
    }
  }
  Pool p;
  for (const auto& src : sources) HarvestFields(src.text, &p);
  for (const auto& s : strs) {
    p.strings.push_back(s);
    if (!s.empty()) {
      p.strings.push_back(s.substr(0, s.size() - 1));  // a prefix: equal hash prefix, different value
      p.strings.push_back(s + "x");
      p.strings.push_back("debug-" + s);
    }
  }
  p.ints.assign(ints.begin(), ints.end());
  return p;
}

class Generator {
 public:
  Generator(Pool pool, uint64_t seed) : pool_(std::move(pool)), rng_(seed) {}

  Event Next() {
    Event e;
    const EventType type =
        rng_() % 2 ? EventType::kSandboxViolation : static_cast<EventType>(rng_() % kEventTypeCount);
    e.set_type(type);
    time_ += static_cast<int64_t>(rng_() % 400);
    if (rng_() % 50 == 0) time_ -= 1000;  // now and then out of order
    e.set_time_ms(time_);
    for (int f = 1; f < kFieldCount; ++f) {
      const FieldId id = static_cast<FieldId>(f);
      const FieldInfo& info = GetFieldInfo(id);
      // Mostly the type's own fields, each absent now and then; rarely a
      // field of another type (setters don't check the schema).
      const bool carried = (info.carried_by >> static_cast<unsigned>(type)) & 1u;
      if (!carried && rng_() % 30 != 0) continue;
      if (rng_() % 6 == 0) continue;
      switch (info.type) {
        case FieldType::kString: e.SetString(id, FieldStr(id)); break;
        case FieldType::kInt: e.SetInt(id, FieldInt(id)); break;
        case FieldType::kBool: e.SetBool(id, rng_() % 2 == 0); break;
        case FieldType::kStringList: {
          std::vector<std::string> v;
          for (unsigned n = rng_() % 4; n > 0; --n) v.push_back(Str());
          e.SetStringList(id, v);
          break;
        }
        case FieldType::kIntList: {
          std::vector<int64_t> v;
          for (unsigned n = rng_() % 7; n > 0; --n) v.push_back(Int());
          e.SetIntList(id, v);
          break;
        }
      }
    }
    return e;
  }

 private:
  std::string Str() { return pool_.strings[rng_() % pool_.strings.size()]; }
  // Mostly a constant the rules compare this field with (sometimes a near
  // miss of it), else anything from the pool.
  std::string FieldStr(FieldId f) {
    const auto& v = pool_.field_strings[static_cast<unsigned>(f)];
    if (v.empty() || rng_() % 10 >= 7) return Str();
    std::string s = v[rng_() % v.size()];
    switch (rng_() % 8) {
      case 0: return s + Str();
      case 1: return s.empty() ? s : s.substr(0, s.size() - 1);
      default: return s;
    }
  }
  int64_t FieldInt(FieldId f) {
    const auto& v = pool_.field_ints[static_cast<unsigned>(f)];
    if (v.empty() || rng_() % 10 >= 7) return Int();
    return v[rng_() % v.size()] + static_cast<int64_t>(rng_() % 3) - 1;
  }
  int64_t Int() {
    return rng_() % 4 == 0 ? static_cast<int64_t>(rng_() % 5000) - 100 : pool_.ints[rng_() % pool_.ints.size()];
  }

  Pool pool_;
  std::mt19937_64 rng_;
  int64_t time_ = 1795477200000;
};

std::unique_ptr<RuleSet> Compile(const std::vector<RuleSource>& sources) {
  internal::Diagnostics diags;
  std::unique_ptr<RuleSet> set;
  bool ok = internal::LoadRuleSet(sources, &diags, &set);
  std::string msg;
  for (const auto& d : diags.list()) msg += d.ToString() + "\n";
  EXPECT_TRUE(ok) << msg;
  return set;
}

// The reference: every rule of the event's type, Program::Eval, in order.
std::vector<uint32_t> ReferenceMatch(const RuleSet& set, const Event& e) {
  std::vector<uint32_t> out;
  for (uint32_t i : set.by_type[static_cast<unsigned>(e.type())]) {
    if (set.rules[i].condition.Eval(e)) out.push_back(i);
  }
  return out;
}

struct Coverage {
  size_t events = 0, matches = 0;
  std::set<uint32_t> rules_matched;
};

Coverage CompareMatches(const std::vector<RuleSource>& sources, const std::vector<Event>& events) {
  Coverage c;
  std::unique_ptr<RuleSet> set = Compile(sources);
  if (!set) return c;
  for (const Event& e : events) {
    std::vector<uint32_t> want = ReferenceMatch(*set, e);
    std::span<const uint32_t> got = set->matcher.Match(e);
    EXPECT_EQ(std::vector<uint32_t>(got.begin(), got.end()), want)
        << "event " << c.events << " of type " << EventTypeName(e.type());
    if (::testing::Test::HasFailure()) return c;  // one mismatch is enough to read
    ++c.events;
    c.matches += want.size();
    c.rules_matched.insert(want.begin(), want.end());
  }
  return c;
}

std::vector<Event> Generate(const std::vector<RuleSource>& sources, size_t n, uint64_t seed) {
  Generator g(Harvest(sources), seed);
  std::vector<Event> v;
  for (size_t i = 0; i < n; ++i) v.push_back(g.Next());
  return v;
}

TEST(DifferentialTest, ShippedRules) {
  auto sources = DefaultRules();
  ASSERT_FALSE(sources.empty());
  Coverage c = CompareMatches(sources, Generate(sources, 30000, 1));
  EXPECT_EQ(c.events, 30000u);
  // Not vacuous: most shipped rules matched some generated event.
  std::unique_ptr<RuleSet> set = Compile(sources);
  EXPECT_GE(c.rules_matched.size() * 4, set->rules.size() * 3) << c.rules_matched.size() << " of " << set->rules.size();
}

TEST(DifferentialTest, BenchRulesOnGeneratedAndBenchEvents) {
  auto sources = BenchRules();
  std::vector<Event> events = Generate(sources, 30000, 2);
  for (const auto& line : bench::EventLines(20000)) events.push_back(testing::Ev(line));
  Coverage c = CompareMatches(sources, events);
  EXPECT_EQ(c.events, events.size());
  EXPECT_GE(c.rules_matched.size(), 90u);
  EXPECT_GT(c.matches, 10000u);
}

TEST(DifferentialTest, EdgeCaseRules) {
  std::vector<RuleSource> sources = {RuleSource{"edge.yaml", kEdgeCases}};
  Coverage c = CompareMatches(sources, Generate(sources, 50000, 3));
  EXPECT_EQ(c.events, 50000u);
  std::unique_ptr<RuleSet> set = Compile(sources);
  // Every rule but the contradiction and the disabled one matched something.
  std::string unmatched;
  for (uint32_t i = 0; i < set->rules.size(); ++i) {
    if (c.rules_matched.count(i) == 0) unmatched += set->rules[i].name + " ";
  }
  EXPECT_EQ(unmatched, "contradiction disabled ");
  // The index did its job here: some conjuncts were absorbed by it.
  EXPECT_GT(set->matcher.indexed_field_count(EventType::kSandboxViolation), 0u);
}

// The window key as the engine forms it (engine.cc): the per field's bytes.
std::string_view Key(const RuleSet::Window& w, const Event& e, std::array<char, 8>& buf) {
  if (!w.has_per || !e.Has(w.per)) return {};
  if (GetFieldInfo(w.per).type == FieldType::kString) return e.GetString(w.per);
  int64_t v = e.GetInt(w.per);
  std::memcpy(buf.data(), &v, sizeof v);
  return std::string_view(buf.data(), sizeof v);
}

void CompareEngine(const std::vector<RuleSource>& sources, const std::vector<Event>& events, size_t min_fires) {
  Engine engine;
  ASSERT_TRUE(engine.LoadSources(sources).ok());
  std::unique_ptr<RuleSet> ref = Compile(sources);
  ASSERT_TRUE(ref);
  size_t fires = 0;
  std::array<char, 8> buf;
  for (size_t n = 0; n < events.size(); ++n) {
    const Event& e = events[n];
    std::vector<std::string> want;
    for (uint32_t i : ReferenceMatch(*ref, e)) {
      RuleSet::Rule& r = ref->rules[i];
      if (r.threshold.enabled && !r.threshold.windows->Hit(Key(r.threshold, e, buf), e.time_ms())) continue;
      if (r.rate_limit.enabled && !r.rate_limit.windows->Allow(Key(r.rate_limit, e, buf), e.time_ms())) continue;
      want.push_back(r.name);
    }
    RecordingSink sink;
    engine.Process(e, sink);
    ASSERT_EQ(sink.RuleNames(), want) << "event " << n;
    fires += want.size();
  }
  EXPECT_GE(fires, min_fires);
}

TEST(DifferentialTest, EngineFiresLikeTheReference) {
  auto def = DefaultRules();
  CompareEngine(def, Generate(def, 20000, 4), 1000);
  auto edge = std::vector<RuleSource>{RuleSource{"edge.yaml", kEdgeCases}};
  CompareEngine(edge, Generate(edge, 20000, 5), 1000);
  auto bench_src = BenchRules();
  std::vector<Event> events;
  for (const auto& line : bench::EventLines(5000)) events.push_back(testing::Ev(line));
  CompareEngine(bench_src, events, 1000);
}

// Event's string storage: values replaced in place or appended, compacted
// when dead bytes pile up; values and hashes stay right throughout, also
// when a value is taken from the event itself.
TEST(EventStorageTest, RepeatedSetsStayCorrect) {
  Event e;
  std::mt19937 rng(9);
  std::array<std::string, kFieldCount> want;
  for (int i = 0; i < 20000; ++i) {
    const FieldId f = static_cast<FieldId>(1 + rng() % (kFieldCount - 1));
    std::string v(rng() % 300, static_cast<char>('a' + rng() % 26));
    e.SetString(f, v);
    want[static_cast<unsigned>(f)] = v;
    if (i % 97 == 0) {  // a value taken from the event itself
      const FieldId g = static_cast<FieldId>(1 + rng() % (kFieldCount - 1));
      if (e.Has(g)) {
        e.SetString(f, e.GetString(g));
        want[static_cast<unsigned>(f)] = want[static_cast<unsigned>(g)];
      }
    }
  }
  for (int f = 1; f < kFieldCount; ++f) {
    const FieldId id = static_cast<FieldId>(f);
    if (!e.Has(id)) continue;
    EXPECT_EQ(e.GetString(id), want[f]) << f;
    EXPECT_EQ(e.GetStringHash(id), HashString(want[f])) << f;
  }
  Event copy = e;
  e.Clear();
  EXPECT_FALSE(e.Has(FieldId::kWorkloadName));
  EXPECT_EQ(e.GetString(FieldId::kWorkloadName), "");
  for (int f = 1; f < kFieldCount; ++f) {
    if (copy.Has(static_cast<FieldId>(f))) {
      EXPECT_EQ(copy.GetString(static_cast<FieldId>(f)), want[f]);
    }
  }
}

}  // namespace
}  // namespace edgeward::rules
