// The compiled rule set an Engine runs, and the loader that builds it from
// rule files (YAML → typed, validated rules; every error located).
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "edgeward/rules/engine.h"
#include "key_windows.h"
#include "locator.h"
#include "matcher.h"
#include "output_template.h"
#include "program.h"

namespace edgeward {
namespace rules {

class RuleSet {
 public:
  struct Window {
    bool enabled = false;
    bool has_per = false;
    FieldId per = FieldId::kEventType;
    std::unique_ptr<internal::KeyWindows> windows;
  };
  struct Rule {
    std::string name;
    std::string file;
    int line = 0;
    Priority priority = Priority::kMedium;
    std::vector<Action> actions;
    internal::Program condition;
    internal::OutputTemplate output;
    Window threshold;
    Window rate_limit;
  };

  std::vector<Rule> rules;
  // Enabled rule indexes (file order) that can match each event type.
  std::array<std::vector<uint32_t>, kEventTypeCount> by_type;
  // Decides which of by_type[t] match an event (built from the rules'
  // conditions once they are all loaded); the Programs remain the
  // reference semantics.
  internal::Matcher matcher;
};

namespace internal {
// Builds a rule set from all sources; false with diagnostics on any error.
bool LoadRuleSet(const std::vector<RuleSource>& sources, Diagnostics* diags, std::unique_ptr<RuleSet>* out);
// Parses an action written as "name" or "name(key: value)"; for the CLI
// docs and tests. Errors go to diags at pos.
bool ParseAction(std::string_view text, const std::map<std::string, ListDef, std::less<>>& lists,
                 Priority rule_priority, const Pos& pos, Diagnostics* diags, Action* out);
// "10s", "500ms", "5m", "1h", "1d" → milliseconds; false when malformed.
bool ParseDuration(std::string_view s, int64_t* ms);
}  // namespace internal

}  // namespace rules
}  // namespace edgeward
