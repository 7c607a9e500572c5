// Test helpers for the rules engine: a sink that records what fired, and
// event builders. The sink is the real ActionSink interface, recording
// instead of acting (the agent side is another module).
#pragma once

#include <string>
#include <vector>

#include "edgeward/rules/engine.h"
#include "edgeward/rules/event_parser.h"

namespace edgeward::rules::testing {

class RecordingSink : public ActionSink {
 public:
  struct Fire {
    std::string rule;
    std::string output;
    std::vector<std::string> actions;
  };
  std::vector<Fire> fires;

  void OnFiring(const Firing& f) override { fires.push_back({std::string(f.rule), std::string(f.output), {}}); }
  void Log(const Firing&) override { Add("log"); }
  void Report(const Firing&, Priority p) override { Add("report:" + std::string(PriorityName(p))); }
  void KillWorkload(const Firing&, std::string_view w) override { Add("kill:" + std::string(w)); }
  void RestartWorkload(const Firing&, std::string_view w) override { Add("restart:" + std::string(w)); }
  void StopWorkloads(const Firing&, std::span<const std::string> w) override { Add("stop:" + Join(w)); }
  void Quarantine(const Firing&, std::span<const std::string> w) override { Add("quarantine:" + Join(w)); }
  void Reattest(const Firing&) override { Add("reattest"); }
  void RunCommand(const Firing&, std::string_view n) override { Add("run:" + std::string(n)); }

  std::vector<std::string> RuleNames() const {
    std::vector<std::string> v;
    for (const auto& f : fires) v.push_back(f.rule);
    return v;
  }

 private:
  void Add(std::string s) { fires.back().actions.push_back(std::move(s)); }
  static std::string Join(std::span<const std::string> v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + v[i];
    return s;
  }
};

// Parses one JSON event; aborts the test binary on a malformed fixture.
inline Event Ev(const std::string& json) {
  Event e;
  Status s = ParseEventJson(json, "fixture", 1, &e);
  if (!s.ok()) {
    fprintf(stderr, "bad fixture event: %s\n", s.message().c_str());
    abort();
  }
  return e;
}

// A sandbox.violation at `ms` milliseconds past 2026-11-23T23:40:00Z.
inline Event Violation(const std::string& workload, const std::string& syscall, int64_t ms,
                       const std::string& mode = "enforce") {
  Event e = Ev(R"({"type":"sandbox.violation","time":"2026-11-23T23:40:00.000Z","node":{"id":"n1"},
      "workload":{"name":")" + workload + R"(","pid":1234},
      "syscall":{"name":")" + syscall + R"J(","nr":101,"arch":"x86_64","args":[16,0,0,0,0,0]},
      "action":"errno(EPERM)","mode":")J" + mode + R"("})");
  e.set_time_ms(e.time_ms() + ms);
  return e;
}

// Loads YAML text as one rule file named "r.yaml".
inline Status LoadText(Engine& engine, const std::string& yaml, std::vector<Diagnostic>* diags = nullptr) {
  return engine.LoadSources({RuleSource{"r.yaml", yaml}}, diags);
}

}  // namespace edgeward::rules::testing
