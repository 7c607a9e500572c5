// Rules engine throughput: 100 rules of the kinds (comparisons,
// in-lists, macros, startswith/contains/endswith/glob, thresholds,
// exceptions) over a pre-built, realistic event mix, on one core.
// The peer, in the same run: a Falco-style naive evaluator written here that
// walks the condition tree for every rule and event, looks fields, macros
// and lists up by name in maps, and compares strings on the fly. Both sides
// must fire the same number of times (checked), so they do the same work.
//
//   rules_bench [seconds-per-side [events-in-mix]]     prints one JSON object
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "../tests/rules/bench_rules.h"  // the rules and events (shared with the differential test)
#include "condition_ast.h"  // rules/src: the naive side parses with the same parser
#include "edgeward/rules/engine.h"
#include "edgeward/rules/event_parser.h"

namespace {

using namespace edgeward::rules;
using edgeward::rules::internal::Ast;
using edgeward::rules::internal::CmpOp;
using edgeward::rules::internal::Literal;
using namespace edgeward::rules::bench;

// ---------------------------------------------------------------- naive peer
struct NVal {
  bool is_int = false;
  int64_t i = 0;
  std::string s;
};
struct NEvent {
  std::map<std::string, NVal> fields;  // looked up by name for every test
  int64_t time_ms = 0;
};

NEvent ToNaive(const Event& e) {
  NEvent n;
  n.time_ms = e.time_ms();
  for (auto name : AllFieldNames()) {
    FieldId id;
    const FieldInfo* info = FindField(name, &id);
    if (!e.Has(id)) continue;
    NVal v;
    if (info->type == FieldType::kInt || info->type == FieldType::kBool) {
      v.is_int = true;
      v.i = e.GetInt(id);
    } else if (info->type == FieldType::kString) {
      v.s = std::string(e.GetString(id));
    } else {
      continue;  // lists: unused by the bench rules
    }
    n.fields[std::string(name)] = v;
  }
  return n;
}

struct NRule {
  std::string name;
  std::unique_ptr<Ast> cond;
  bool threshold = false;
  std::map<std::string, std::deque<int64_t>> windows;
  bool exception = false;
};

struct Naive {
  std::map<std::string, std::vector<std::string>> lists;
  std::map<std::string, std::unique_ptr<Ast>> macros;
  std::vector<NRule> rules;

  bool Glob(const std::string& p, size_t pi, const std::string& t, size_t ti) const {
    if (pi == p.size()) return ti == t.size();
    if (p[pi] == '*') return Glob(p, pi + 1, t, ti) || (ti < t.size() && Glob(p, pi, t, ti + 1));
    return ti < t.size() && (p[pi] == '?' || p[pi] == t[ti]) && Glob(p, pi + 1, t, ti + 1);
  }

  bool Eval(const Ast& n, const NEvent& e) const {
    switch (n.kind) {
      case Ast::Kind::kAnd: return Eval(*n.lhs, e) && Eval(*n.rhs, e);
      case Ast::Kind::kOr: return Eval(*n.lhs, e) || Eval(*n.rhs, e);
      case Ast::Kind::kNot: return !Eval(*n.lhs, e);
      case Ast::Kind::kMacro: return Eval(*macros.at(n.name), e);
      case Ast::Kind::kCompare: break;
    }
    auto it = e.fields.find(n.name);
    if (n.op == CmpOp::kExists) return it != e.fields.end();
    if (it == e.fields.end()) return false;
    const NVal& v = it->second;
    auto str_eq = [&](const Literal& l) { return v.is_int ? v.i == l.number : v.s == l.text; };
    switch (n.op) {
      case CmpOp::kEq: return str_eq(n.values[0]);
      case CmpOp::kNe: return !str_eq(n.values[0]);
      case CmpOp::kLt: return v.i < n.values[0].number;
      case CmpOp::kLe: return v.i <= n.values[0].number;
      case CmpOp::kGt: return v.i > n.values[0].number;
      case CmpOp::kGe: return v.i >= n.values[0].number;
      case CmpOp::kContains: return v.s.find(n.values[0].text) != std::string::npos;
      case CmpOp::kStartsWith: return v.s.rfind(n.values[0].text, 0) == 0;
      case CmpOp::kEndsWith: {
        const std::string& x = n.values[0].text;
        return v.s.size() >= x.size() && v.s.compare(v.s.size() - x.size(), x.size(), x) == 0;
      }
      case CmpOp::kGlob: return Glob(n.values[0].text, 0, v.s, 0);
      case CmpOp::kIn:
        for (const Literal& l : n.values) {
          auto li = lists.find(l.text);
          if (li != lists.end()) {
            for (const auto& item : li->second) {
              if (v.s == item) return true;
            }
          } else if (str_eq(l)) {
            return true;
          }
        }
        return false;
      default: return false;
    }
  }

  bool Excepted(const NEvent& e) const {
    auto w = e.fields.find("workload.name");
    auto s = e.fields.find("syscall.name");
    if (w == e.fields.end() || s == e.fields.end()) return false;
    return (w->second.s.rfind("wl-1", 0) == 0 && s->second.s == "ptrace") ||
           (w->second.s.rfind("wl-2", 0) == 0 && s->second.s == "bpf");
  }

  uint64_t Process(const NEvent& e) {
    uint64_t fired = 0;
    for (auto& r : rules) {
      if (!Eval(*r.cond, e)) continue;
      if (r.exception && Excepted(e)) continue;
      if (r.threshold) {
        auto& q = r.windows[e.fields.at("workload.name").s];
        while (!q.empty() && q.front() <= e.time_ms - 10000) q.pop_front();
        q.push_back(e.time_ms);
        if (q.size() < 5) continue;
        q.clear();
      }
      ++fired;
    }
    return fired;
  }
};

class CountingSink : public ActionSink {
 public:
  uint64_t firings = 0;
  void OnFiring(const Firing&) override { ++firings; }
  void Log(const Firing&) override {}
  void Report(const Firing&, Priority) override {}
  void KillWorkload(const Firing&, std::string_view) override {}
  void RestartWorkload(const Firing&, std::string_view) override {}
  void StopWorkloads(const Firing&, std::span<const std::string>) override {}
  void Quarantine(const Firing&, std::span<const std::string>) override {}
  void Reattest(const Firing&) override {}
  void RunCommand(const Firing&, std::string_view) override {}
};

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  std::vector<std::pair<std::string, std::vector<std::string>>> lists;
  std::string list_yaml = Lists(&lists);
  std::vector<BenchRule> rules = Rules();
  const std::string yaml = Yaml(list_yaml, rules);

  Engine engine;
  edgeward::Status s = engine.LoadSources({RuleSource{"bench.yaml", yaml}});
  if (!s.ok()) {
    fprintf(stderr, "rules did not load:\n%s\n", s.message().c_str());
    return 1;
  }
  const size_t kEvents = argc > 2 ? static_cast<size_t>(std::atol(argv[2])) : 20000;
  std::vector<Event> events;
  for (const auto& l : EventLines(kEvents)) {
    Event e;
    s = ParseEventJson(l, "bench", 1, &e);
    if (!s.ok()) {
      fprintf(stderr, "%s\n", s.message().c_str());
      return 1;
    }
    events.push_back(std::move(e));
  }

  Naive naive;
  for (auto& [name, items] : lists) naive.lists[name] = items;
  edgeward::rules::internal::Diagnostics diags;
  for (const auto& [name, cond] : Macros()) naive.macros[name] = internal::ParseCondition(cond, nullptr, &diags);
  for (const auto& r : rules) {
    NRule n;
    n.name = r.name;
    n.cond = internal::ParseCondition(r.condition, nullptr, &diags);
    n.threshold = r.threshold;
    n.exception = r.exception;
    naive.rules.push_back(std::move(n));
  }
  if (!diags.empty()) {
    fprintf(stderr, "naive parse failed\n");
    return 1;
  }
  std::vector<NEvent> nevents;
  for (const auto& e : events) nevents.push_back(ToNaive(e));

  // One pass each first: both sides must agree on what fires.
  CountingSink check_sink;
  for (const auto& e : events) engine.Process(e, check_sink);
  uint64_t naive_fired = 0;
  for (const auto& e : nevents) naive_fired += naive.Process(e);
  if (naive_fired != check_sink.firings) {
    fprintf(stderr, "disagreement: engine fired %llu times, naive %llu\n",
            static_cast<unsigned long long>(check_sink.firings), static_cast<unsigned long long>(naive_fired));
    return 1;
  }

  // Timed passes. Event times keep increasing across passes (an offset per
  // pass would cost the engine a copy): windows see a time reset as "the
  // latest time", which only makes thresholds fire a little differently.
  CountingSink sink;
  uint64_t done = 0;
  double t0 = CpuSeconds(), t1 = t0;
  while (t1 - t0 < seconds) {
    for (const auto& e : events) engine.Process(e, sink);
    done += events.size();
    t1 = CpuSeconds();
  }
  const double ours = static_cast<double>(done) / (t1 - t0);

  uint64_t ndone = 0, nfired = 0;
  double n0 = CpuSeconds(), n1 = n0;
  while (n1 - n0 < seconds) {
    for (const auto& e : nevents) nfired += naive.Process(e);
    ndone += nevents.size();
    n1 = CpuSeconds();
  }
  const double theirs = static_cast<double>(ndone) / (n1 - n0);

  printf("{\"rules\": %zu, \"events_in_mix\": %zu, \"firings_per_pass\": %llu, "
         "\"engine_events_per_s\": %.0f, \"naive_events_per_s\": %.0f, \"ratio\": %.1f, "
         "\"engine_evaluations_per_event\": %.1f, \"engine_candidates_per_event\": %.1f}\n",
         engine.rule_count(), events.size(), static_cast<unsigned long long>(check_sink.firings), ours, theirs,
         ours / theirs,
         static_cast<double>(engine.stats().evaluations) / static_cast<double>(engine.stats().events),
         static_cast<double>(engine.stats().candidates) / static_cast<double>(engine.stats().events));
  return 0;
}
