// Engine: owns the running rule set; Process is the hot path.
#include "edgeward/rules/engine.h"

#include <array>
#include <cstring>

#include "edgeward/base/file.h"
#include "rule_set.h"

namespace edgeward::rules {

std::string Diagnostic::ToString() const {
  // Appends rather than operator+ chains: GCC 12 -O3 reports a false
  // -Wrestrict inside libstdc++ for `"lit" + std::string` (GCC bug 105329).
  std::string s = file;
  if (line > 0) {
    s.append(":").append(std::to_string(line));
    if (column > 0) s.append(":").append(std::to_string(column));
  }
  s.append(": ").append(message);
  return s;
}

Engine::Engine() = default;
Engine::~Engine() = default;

Status Engine::Load(const std::vector<std::string>& paths, std::vector<Diagnostic>* diagnostics) {
  std::vector<RuleSource> sources;
  for (const auto& p : paths) {
    auto text = ReadFileToString(p, kMaxRuleFileBytes);
    if (!text.ok()) return text.status().WithContext("reading rule file " + p);
    sources.push_back(RuleSource{p, std::move(*text)});
  }
  return LoadSources(sources, diagnostics);
}

Status Engine::LoadSources(const std::vector<RuleSource>& sources, std::vector<Diagnostic>* diagnostics) {
  internal::Diagnostics diags;
  std::unique_ptr<RuleSet> set;
  bool ok = internal::LoadRuleSet(sources, &diags, &set);
  if (diagnostics != nullptr) *diagnostics = diags.list();
  if (!ok) {
    std::string msg;
    for (const auto& d : diags.list()) {
      if (!msg.empty()) msg.push_back('\n');
      msg.append(d.ToString());
    }
    if (msg.empty()) msg = "rule set rejected";
    return InvalidArgument(msg);
  }
  rules_ = std::move(set);
  stats_ = EngineStats();
  return Status::Ok();
}

size_t Engine::rule_count() const { return rules_ ? rules_->rules.size() : 0; }

std::vector<RuleSummary> Engine::Rules() const {
  std::vector<RuleSummary> out;
  if (!rules_) return out;
  for (const auto& r : rules_->rules) out.push_back(RuleSummary{r.name, r.priority, r.actions, r.file, r.line});
  return out;
}

namespace {

// The window key of an event: the `per` field's value as bytes. Ints and
// bools are keyed by their decimal text, so no allocation is needed.
std::string_view WindowKey(const RuleSet::Window& w, const Event& e, std::array<char, 24>& buf) {
  if (!w.has_per || !e.Has(w.per)) return {};
  switch (GetFieldInfo(w.per).type) {
    case FieldType::kString: return e.GetString(w.per);
    case FieldType::kInt:
    case FieldType::kBool: {
      int64_t v = e.GetInt(w.per);
      std::memcpy(buf.data(), &v, sizeof v);
      return std::string_view(buf.data(), sizeof v);
    }
    default: return {};
  }
}

}  // namespace

void Engine::Process(const Event& event, ActionSink& sink) {
  ++stats_.events;
  if (!rules_) return;
  std::array<char, kMaxOutputBytes> out;
  std::array<char, 24> key_buf;
  // Every rule of the event's type is evaluated (most through the matcher's
  // index); the matcher returns those whose condition holds, in file order,
  // so thresholds, rate limits and sink calls happen in the same order as
  // rule-by-rule evaluation would give.
  stats_.evaluations += rules_->by_type[static_cast<unsigned>(event.type())].size();
  const uint64_t candidates_before = rules_->matcher.candidates();
  const std::span<const uint32_t> matched = rules_->matcher.Match(event);
  stats_.candidates += rules_->matcher.candidates() - candidates_before;
  for (uint32_t index : matched) {
    RuleSet::Rule& r = rules_->rules[index];
    if (r.threshold.enabled &&
        !r.threshold.windows->Hit(WindowKey(r.threshold, event, key_buf), event.time_ms())) {
      ++stats_.threshold_held;
      continue;
    }
    if (r.rate_limit.enabled &&
        !r.rate_limit.windows->Allow(WindowKey(r.rate_limit, event, key_buf), event.time_ms())) {
      ++stats_.rate_limited;
      continue;
    }
    ++stats_.firings;
    size_t len = r.output.Format(event, out);
    Firing f{r.name, r.priority, std::string_view(out.data(), len), &event};
    sink.OnFiring(f);
    for (const Action& a : r.actions) {
      switch (a.kind) {
        case ActionKind::kLog: sink.Log(f); break;
        case ActionKind::kReport: sink.Report(f, a.priority); break;
        case ActionKind::kKillWorkload: sink.KillWorkload(f, event.GetString(FieldId::kWorkloadName)); break;
        case ActionKind::kRestartWorkload: sink.RestartWorkload(f, event.GetString(FieldId::kWorkloadName)); break;
        case ActionKind::kStopWorkloads: sink.StopWorkloads(f, a.names); break;
        case ActionKind::kQuarantine: sink.Quarantine(f, a.names); break;
        case ActionKind::kReattest: sink.Reattest(f); break;
        case ActionKind::kRunCommand: sink.RunCommand(f, a.command); break;
      }
    }
  }
}

}  // namespace edgeward::rules
