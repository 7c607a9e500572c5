// The rules engine: loads Falco-style YAML rule files (docs/rules.md),
// compiles them once, and evaluates each event against them without
// allocating, telling an ActionSink what to do when a rule fires.
//
// Ownership: the Engine owns its compiled rule set and the threshold / rate
// limit state. Not thread-safe: one thread calls Load and Process (the agent
// serialises events through one queue). Process never throws.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edgeward/base/status.h"
#include "edgeward/rules/actions.h"
#include "edgeward/rules/event.h"

namespace edgeward::rules {

// A rule file's text and the name that labels its errors (usually its path).
struct RuleSource {
  std::string name;
  std::string text;
};

// One located problem in a rule file. line and column are 1-based (0 when
// unknown).
struct Diagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;
  // "file:line:col: message"
  std::string ToString() const;
};

// Largest rule file accepted (bounded memory for outside input).
inline constexpr size_t kMaxRuleFileBytes = 4 * 1024 * 1024;

// What a loaded rule looks like from outside (for listing and the CLI).
struct RuleSummary {
  std::string name;
  Priority priority;
  std::vector<Action> actions;
  std::string file;
  int line = 0;
};

struct EngineStats {
  uint64_t events = 0;           // events processed
  uint64_t evaluations = 0;      // rule conditions evaluated (rules of the event's type)
  uint64_t candidates = 0;       // of those, rules the value index could not settle
                                 // (their remaining tests were run)
  uint64_t firings = 0;          // rules that fired (sink called)
  uint64_t threshold_held = 0;   // matches not (yet) reaching a threshold
  uint64_t rate_limited = 0;     // firings suppressed by a rate limit
};

class RuleSet;  // compiled rules (internal)

class Engine {
 public:
  Engine();
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Compiles the given files as one rule set (lists and macros are shared
  // across them; names must be unique). On success the new set replaces the
  // current one and threshold/rate-limit state starts afresh. On any error
  // the current set keeps running unchanged and kInvalidArgument comes back
  // whose message lists every error, one "file:line:col: message" per line;
  // `diagnostics` (optional) receives them one by one. A file that can't be
  // read gives kNotFound/kResourceExhausted for that file.
  Status Load(const std::vector<std::string>& paths, std::vector<Diagnostic>* diagnostics = nullptr);
  Status LoadSources(const std::vector<RuleSource>& sources,
                     std::vector<Diagnostic>* diagnostics = nullptr);

  // Evaluates `event` against every enabled rule that can match its type, in
  // file order; for each rule that fires, calls sink.OnFiring and then one
  // sink call per action. Does not allocate (the output line is formatted
  // into a fixed buffer of kMaxOutputBytes, truncated with "..." if longer).
  // Event times drive thresholds and rate limits; a time earlier than one
  // already seen by a key counts as that latest time. Not re-entrant: a
  // sink must not call Process from inside a callback.
  void Process(const Event& event, ActionSink& sink);

  size_t rule_count() const;
  std::vector<RuleSummary> Rules() const;
  const EngineStats& stats() const { return stats_; }

 private:
  std::unique_ptr<RuleSet> rules_;
  EngineStats stats_;
};

inline constexpr size_t kMaxOutputBytes = 2048;

}  // namespace edgeward::rules
