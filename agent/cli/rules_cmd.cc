// edgeward rules check FILE...            validate rule files (exit 2 with every located error)
// edgeward rules test FILE... --events F   replay recorded events; print what would fire (no action taken)
#include <nlohmann/json.hpp>

#include <iostream>
#include <iterator>
#include <sstream>

#include "cli/common.h"
#include "edgeward/base/file.h"
#include "edgeward/rules/engine.h"
#include "edgeward/rules/event_parser.h"

namespace edgeward::cli {
namespace {

using rules::Diagnostic;
using rules::Engine;

constexpr size_t kMaxEventsFileBytes = 256 * 1024 * 1024;

// Loads the rule files; prints every diagnostic to stderr on failure.
int LoadRules(Engine& engine, const std::vector<std::string>& files) {
  std::vector<Diagnostic> diags;
  Status s = engine.Load(files, &diags);
  if (s.ok()) return kExitOk;
  if (diags.empty()) return Fail(s);  // unreadable file: no diagnostics
  for (const auto& d : diags) std::cerr << d.ToString() << "\n";
  std::cerr << "edgeward: error: " << diags.size() << " error(s); rule set rejected\n";
  return kExitBadInput;
}

// A sink that records what each firing would do, taking no action.
class DryRunSink : public rules::ActionSink {
 public:
  struct Record {
    int line = 0;
    int64_t time_ms = 0;
    std::string event_type;
    std::string rule;
    rules::Priority priority = rules::Priority::kInfo;
    std::string output;
    std::vector<std::string> actions;
  };
  std::vector<Record> records;
  int line = 0;

  void OnFiring(const rules::Firing& f) override {
    records.push_back(Record{line, f.event->time_ms(), std::string(rules::EventTypeName(f.event->type())),
                             std::string(f.rule), f.priority, std::string(f.output), {}});
  }
  void Log(const rules::Firing&) override { Add("log"); }
  void Report(const rules::Firing&, rules::Priority p) override {
    Add("report(priority: " + std::string(rules::PriorityName(p)) + ")");
  }
  void KillWorkload(const rules::Firing&, std::string_view w) override {
    Add("kill_workload(" + std::string(w) + ")");
  }
  void RestartWorkload(const rules::Firing&, std::string_view w) override {
    Add("restart_workload(" + std::string(w) + ")");
  }
  void StopWorkloads(const rules::Firing&, std::span<const std::string> ws) override {
    Add("stop_workloads(" + Join(ws) + ")");
  }
  void Quarantine(const rules::Firing&, std::span<const std::string> allow) override {
    Add("quarantine(allow: [" + Join(allow) + "])");
  }
  void Reattest(const rules::Firing&) override { Add("reattest"); }
  void RunCommand(const rules::Firing&, std::string_view name) override {
    Add("run_command(" + std::string(name) + ")");
  }

 private:
  void Add(std::string a) { records.back().actions.push_back(std::move(a)); }
  static std::string Join(std::span<const std::string> v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s;
  }
};

struct CheckArgs {
  std::vector<std::string> files;
};

int RunCheck(const CheckArgs& a) {
  Engine engine;
  int rc = LoadRules(engine, a.files);
  if (rc != kExitOk) return rc;
  std::cout << "ok: " << engine.rule_count() << " rule(s) in " << a.files.size() << " file(s)\n";
  return kExitOk;
}

struct TestArgs {
  std::vector<std::string> files;
  std::string events;
  bool json = false;
};

int RunTest(const TestArgs& a) {
  Engine engine;
  int rc = LoadRules(engine, a.files);
  if (rc != kExitOk) return rc;
  std::string text;
  if (a.events == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    auto t = ReadFileToString(a.events, kMaxEventsFileBytes);
    if (!t.ok()) return Fail(t.status().WithContext("reading events " + a.events));
    text = std::move(*t);
  }
  // Parse everything first: a recording with bad lines is rejected whole,
  // with every bad line located, before anything is replayed.
  std::vector<std::pair<int, rules::Event>> events;
  std::vector<std::string> errors;
  std::string_view rest = text;
  int line = 0;
  while (!rest.empty()) {
    ++line;
    size_t nl = rest.find('\n');
    std::string_view l = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.find_first_not_of(" \t") == std::string_view::npos) continue;
    rules::Event ev;
    Status s = rules::ParseEventJson(l, a.events, line, &ev);
    if (!s.ok()) {
      errors.push_back(s.message());
      continue;
    }
    events.emplace_back(line, std::move(ev));
  }
  if (!errors.empty()) {
    for (const auto& e : errors) std::cerr << e << "\n";
    std::cerr << "edgeward: error: " << errors.size() << " bad event line(s); nothing replayed\n";
    return kExitBadInput;
  }
  DryRunSink sink;
  for (const auto& [l, ev] : events) {
    sink.line = l;
    engine.Process(ev, sink);
  }
  const auto& st = engine.stats();
  if (a.json) {
    nlohmann::json j;
    j["events"] = events.size();
    j["firings"] = nlohmann::json::array();
    for (const auto& r : sink.records) {
      j["firings"].push_back({{"line", r.line},
                              {"time", rules::FormatRfc3339Ms(r.time_ms)},
                              {"event", r.event_type},
                              {"rule", r.rule},
                              {"priority", rules::PriorityName(r.priority)},
                              {"output", r.output},
                              {"actions", r.actions}});
    }
    j["threshold_held"] = st.threshold_held;
    j["rate_limited"] = st.rate_limited;
    return Fail(Emit(j.dump(2) + "\n", ""));
  }
  std::ostringstream o;
  for (const auto& r : sink.records) {
    o << rules::FormatRfc3339Ms(r.time_ms) << "  " << a.events << ":" << r.line << "  " << r.event_type
      << "  rule \"" << r.rule << "\" fired (" << rules::PriorityName(r.priority) << ")\n"
      << "    output: " << r.output << "\n    would: ";
    for (size_t i = 0; i < r.actions.size(); ++i) o << (i ? ", " : "") << r.actions[i];
    o << "\n";
  }
  o << events.size() << " event(s), " << sink.records.size() << " firing(s), " << st.threshold_held
    << " match(es) below a threshold, " << st.rate_limited << " rate-limited; no action taken\n";
  return Fail(Emit(o.str(), ""));
}

}  // namespace

void AddRulesCommands(CLI::App& app, Globals& g) {
  CLI::App* rules = app.add_subcommand("rules", "Check rule files and replay recorded events through them");
  rules->require_subcommand(1);

  auto check = std::make_shared<CheckArgs>();
  CLI::App* c = rules->add_subcommand("check", "Validate rule files (exit 2 with every located error)");
  c->add_option("files", check->files, "rule files (YAML), loaded as one set")->required();
  c->callback([&g, check] { g.exit_code = RunCheck(*check); });

  auto test = std::make_shared<TestArgs>();
  CLI::App* t = rules->add_subcommand(
      "test", "Replay a recorded JSONL event stream through rule files; print what would fire (no action taken)");
  t->add_option("files", test->files, "rule files (YAML), loaded as one set")->required();
  t->add_option("--events", test->events, "events, one JSON object per line ('-' for stdin)")->required();
  t->add_flag("--json", test->json, "machine-readable output");
  t->callback([&g, test] { g.exit_code = RunTest(*test); });
}

}  // namespace edgeward::cli
