// What a rule can make the node do, and the interface the agent implements to
// do it. The engine decides; an ActionSink acts. `edgeward rules test` uses a
// sink that only prints, so a rule can be tried before it is signed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/rules/event.h"

namespace edgeward::rules {

enum class Priority : uint8_t { kInfo, kLow, kMedium, kHigh, kCritical };
std::string_view PriorityName(Priority p);
// Accepts info|low|medium|high|critical and Falco's names (emergency, alert
// → critical; error → high; warning → medium; notice → low;
// informational, debug → info), any case. false when unknown.
bool ParsePriority(std::string_view s, Priority* out);

enum class ActionKind : uint8_t {
  kLog,              // log the rule's output line
  kReport,           // report(priority: P): send to the cloud (spooled offline)
  kKillWorkload,     // kill the event's workload (workload.name)
  kRestartWorkload,  // restart the event's workload
  kStopWorkloads,    // stop_workloads(in: LIST): stop every named workload
  kQuarantine,       // quarantine(allow: LIST): stop all but LIST, cut their network
  kReattest,         // attest again now
  kRunCommand,       // run_command(name: NAME): run a command configured on the node
};
std::string_view ActionKindName(ActionKind k);

// One action of a rule, resolved at load. `names` holds the expanded list
// for stop_workloads/quarantine; `command` the configured command's name.
struct Action {
  ActionKind kind = ActionKind::kLog;
  Priority priority = Priority::kInfo;  // kReport
  std::vector<std::string> names;       // kStopWorkloads, kQuarantine
  std::string command;                  // kRunCommand
  // "report(priority: high)" — canonical text, for printing.
  std::string ToString() const;
};

// What the sink learns about a firing. Views point into engine/event storage
// that is valid only during the call.
struct Firing {
  std::string_view rule;     // rule name
  Priority priority;         // the rule's priority
  std::string_view output;   // formatted output line (may be truncated)
  const Event* event;        // the event that fired the rule
};

// Implemented by the agent (later) and by the CLI's dry-run printer. Calls
// happen on the thread that called Engine::Process, in rule-file order, with
// OnFiring first and then one call per action of the rule. An implementation
// must not call back into the Engine. Returns nothing: a sink that fails logs
// and reports the failure itself (the engine cannot undo a decision).
class ActionSink {
 public:
  virtual ~ActionSink() = default;
  virtual void OnFiring(const Firing& f) = 0;
  virtual void Log(const Firing& f) = 0;
  virtual void Report(const Firing& f, Priority p) = 0;
  virtual void KillWorkload(const Firing& f, std::string_view workload) = 0;
  virtual void RestartWorkload(const Firing& f, std::string_view workload) = 0;
  virtual void StopWorkloads(const Firing& f, std::span<const std::string> workloads) = 0;
  virtual void Quarantine(const Firing& f, std::span<const std::string> allow) = 0;
  virtual void Reattest(const Firing& f) = 0;
  // `name` is the name of a command configured on the node, never a shell
  // string from the rule; the agent looks it up in its own configuration.
  virtual void RunCommand(const Firing& f, std::string_view name) = 0;
};

}  // namespace edgeward::rules
