// Rule files are outside input (written by people, shipped in bundles): the
// YAML loader, the condition parser and compiler, and — when a file loads —
// evaluation of a few events against it. Also differential: events built
// from the input's own words go through the optimised matcher and the
// reference (Program::Eval per rule); any disagreement traps.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <string>
#include <vector>

#include "../rules/src/rule_set.h"  // internal: the matcher and the reference path
#include "edgeward/rules/engine.h"
#include "edgeward/rules/event_parser.h"

namespace {
class NullSink : public edgeward::rules::ActionSink {
 public:
  void OnFiring(const edgeward::rules::Firing&) override {}
  void Log(const edgeward::rules::Firing&) override {}
  void Report(const edgeward::rules::Firing&, edgeward::rules::Priority) override {}
  void KillWorkload(const edgeward::rules::Firing&, std::string_view) override {}
  void RestartWorkload(const edgeward::rules::Firing&, std::string_view) override {}
  void StopWorkloads(const edgeward::rules::Firing&, std::span<const std::string>) override {}
  void Quarantine(const edgeward::rules::Firing&, std::span<const std::string>) override {}
  void Reattest(const edgeward::rules::Firing&) override {}
  void RunCommand(const edgeward::rules::Firing&, std::string_view) override {}
};

const char* kEvents[] = {
    R"({"type":"sandbox.violation","time":"2026-11-23T23:40:00.123Z","node":{"id":"n"},"workload":{"name":"model-server","pid":1},"syscall":{"name":"ptrace","nr":101,"arch":"x86_64","args":[1,2]},"action":"log","mode":"enforce"})",
    R"({"type":"attestation.verdict","time":"2026-11-23T23:40:01Z","verdict":{"pass":false,"reasons":["a","b"]}})",
    R"({"type":"workload.exit","time":"2026-11-23T23:40:02Z","workload":{"name":"a","pid":2},"exit":{"code":1}})",
};
// Events whose string fields are words of the input (so they hit the
// rules' constants), ints its numbers, in every event type.
std::vector<edgeward::rules::Event> WordEvents(const std::string& text) {
  using namespace edgeward::rules;
  std::vector<std::string> words = {""};
  std::vector<int64_t> ints = {0, 1, -1};
  std::string cur;
  for (size_t i = 0; i <= text.size() && words.size() < 64; ++i) {
    const char c = i < text.size() ? text[i] : ' ';
    if (c == ' ' || c == ',' || c == '(' || c == ')' || c == '[' || c == ']' || c == '\n' || c == '"' || c == ':') {
      if (!cur.empty()) {
        words.push_back(cur);
        int64_t v = 0;
        bool num = cur.size() < 18;
        for (char d : cur) {
          if (d < '0' || d > '9') num = false;
          v = v * 10 + (d - '0');
        }
        if (num) ints.push_back(v);
      }
      cur.clear();
    } else {
      cur += c;
    }
  }
  std::vector<Event> out;
  for (size_t round = 0; round < 16; ++round) {
    for (int t = 0; t < kEventTypeCount; ++t) {
      Event e;
      e.set_type(static_cast<EventType>(t));
      e.set_time_ms(static_cast<int64_t>(round) * 100);
      for (int f = 1; f < kFieldCount; ++f) {
        const FieldId id = static_cast<FieldId>(f);
        const size_t k = round * 7 + static_cast<size_t>(f) * 3 + static_cast<size_t>(t);
        if (k % 5 == 0) continue;  // absent
        switch (GetFieldInfo(id).type) {
          case FieldType::kString: e.SetString(id, words[k % words.size()]); break;
          case FieldType::kInt: e.SetInt(id, ints[k % ints.size()]); break;
          case FieldType::kBool: e.SetBool(id, k % 2 == 0); break;
          case FieldType::kStringList: e.AddToStringList(id, words[(k + 1) % words.size()]); break;
          case FieldType::kIntList: e.SetIntList(id, std::vector<int64_t>{ints[(k + 1) % ints.size()]}); break;
        }
      }
      out.push_back(std::move(e));
    }
  }
  return out;
}

void Differential(const std::vector<edgeward::rules::RuleSource>& sources, const std::string& text) {
  using namespace edgeward::rules;
  internal::Diagnostics diags;
  std::unique_ptr<RuleSet> set;
  if (!internal::LoadRuleSet(sources, &diags, &set)) __builtin_trap();  // the engine loaded it
  for (const Event& e : WordEvents(text)) {
    std::vector<uint32_t> want;
    for (uint32_t i : set->by_type[static_cast<unsigned>(e.type())]) {
      if (set->rules[i].condition.Eval(e)) want.push_back(i);
    }
    std::span<const uint32_t> got = set->matcher.Match(e);
    if (got.size() != want.size() || !std::equal(got.begin(), got.end(), want.begin())) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  edgeward::rules::Engine engine;
  std::string text(reinterpret_cast<const char*>(data), size);
  // A NUL byte splits the input into two files loaded as one set, so
  // cross-file lists, macros and duplicate names are exercised too.
  std::vector<edgeward::rules::RuleSource> sources;
  size_t nul = text.find('\0');
  if (nul == std::string::npos) {
    sources.push_back({"a.yaml", text});
  } else {
    sources.push_back({"a.yaml", text.substr(0, nul)});
    sources.push_back({"b.yaml", text.substr(nul + 1)});
  }
  std::vector<edgeward::rules::Diagnostic> diags;
  if (!engine.LoadSources(sources, &diags).ok()) {
    for (const auto& d : diags) (void)d.ToString();
    return 0;
  }
  Differential(sources, text);
  NullSink sink;
  edgeward::rules::Event e;
  for (int round = 0; round < 3; ++round) {
    for (const char* j : kEvents) {
      if (edgeward::rules::ParseEventJson(j, "seed", 1, &e).ok()) {
        e.set_time_ms(e.time_ms() + round * 1000);
        engine.Process(e, sink);
      }
    }
  }
  return 0;
}
