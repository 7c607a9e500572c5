// Rule files are outside input (written by people, shipped in bundles): the
// YAML loader, the condition parser and compiler, and — when a file loads —
// evaluation of a few events against it.
#include <cstddef>
#include <cstdint>
#include <string>

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
