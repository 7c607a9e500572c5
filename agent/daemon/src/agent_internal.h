// The Agent behind RunAgent() (daemon.h), split over daemon.cc (life
// cycle, signals, reload, bundles), agent_events.cc (the event pipeline and
// the rules engine's ActionSink) and agent_control.cc (answers to control
// requests, metrics). Everything here runs on the loop thread unless noted.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "edgeward/daemon/cloud_agent.h"
#include "edgeward/daemon/config.h"
#include "edgeward/daemon/control.h"
#include "edgeward/daemon/event_loop.h"
#include "edgeward/daemon/metrics.h"
#include "edgeward/daemon/sd_notify.h"
#include "edgeward/daemon/supervisor.h"
#include "edgeward/daemon/workload_spec.h"
#include "edgeward/rules/engine.h"

namespace edgeward::daemon::internal {

class Agent;

// The rules engine's hands: every action is deferred to the loop (Post), so
// that a supervisor call that emits events never re-enters the engine.
class AgentActionSink final : public rules::ActionSink {
 public:
  explicit AgentActionSink(Agent& agent) : agent_(agent) {}
  void OnFiring(const rules::Firing& f) override;
  void Log(const rules::Firing& f) override;
  void Report(const rules::Firing& f, rules::Priority p) override;
  void KillWorkload(const rules::Firing& f, std::string_view workload) override;
  void RestartWorkload(const rules::Firing& f, std::string_view workload) override;
  void StopWorkloads(const rules::Firing& f, std::span<const std::string> workloads) override;
  void Quarantine(const rules::Firing& f, std::span<const std::string> allow) override;
  void Reattest(const rules::Firing& f) override;
  void RunCommand(const rules::Firing& f, std::string_view name) override;

 private:
  Agent& agent_;
};

// What the running set of workloads and rules came from.
struct BundleInfo {
  uint64_t version = 0;  // 0: a local directory or nothing
  std::string digest;
  std::string source;  // "verifier", "local:/path", "none"
  std::map<std::string, std::string> files;  // path → bytes (rules/, workloads/, policies/)
};

class Agent {
 public:
  Agent(std::string config_path, AgentConfig config);
  ~Agent();

  // Start-up in the documented order; the returned exit code is non-zero
  // when the agent can't run.
  int Start();
  // The loop; returns the exit code.
  int Run();

  // ---- events (agent_events.cc) ----
  // One event line from a workload or the cloud worker.
  void OnEvent(const std::string& line);
  // A rule action's record in the history (and to the cloud with report()).
  void PublishRuleFiring(const std::string& line, bool to_cloud);
  void ReportToCloud(const std::string& line);
  void RunConfiguredCommand(const std::string& name, const std::string& rule, const std::string& workload);

  // ---- the quarantine's network part (agent_events.cc) ----
  // Installs the nftables table (net_quarantine.h) for `rule`. A failure is
  // logged and published as quarantine.failed; it never stops the
  // workload-stopping part.
  void QuarantineNetwork(const std::string& rule);
  // At start: a table left by an earlier run is reported (quarantine.detected).
  void DetectNetworkQuarantine();
  // `edgeward quarantine release`: removes the table; the result JSON.
  StatusOr<std::string> ReleaseNetworkQuarantine();

  // ---- control and metrics (agent_control.cc) ----
  StatusOr<std::string> HandleControl(const ControlRequest& request);
  void CollectMetrics(MetricsSnapshot& s);  // metrics thread

  WorkloadSupervisor* supervisor() { return supervisor_.get(); }
  CloudAgent* cloud() { return cloud_.get(); }
  EventLoop& loop() { return *loop_; }
  const AgentConfig& config() const { return config_; }

 private:
  friend class AgentActionSink;

  Status StartControl();
  void StartMetrics();
  Status StartCloud();
  Status StartSupervisor();
  // Loads rules: the bundle's rules/ (path order), then config rules.files.
  Status LoadRules();
  // Reads bundles.localFile (a directory, or a signed bundle file verified
  // like a fetched one) into a BundleInfo and applies it.
  Status LoadLocalBundle();
  void ApplyBundle(BundleInfo info);
  void OnCloudBundle(const bundle::Bundle& b);
  void Reload();
  void BeginStop(const char* why);
  void FinishStop();
  std::string StatusJson();
  std::string WorkloadsJson();
  std::string PolicyJson();
  void ProcessPending();

  std::string config_path_;
  AgentConfig config_;
  std::string edgeward_binary_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();

  // Member order is teardown order, reversed: the metrics thread goes
  // first (it reads the cloud worker), then control, the cloud worker,
  // the supervisor, and the loop last.
  std::unique_ptr<EventLoop> loop_;
  SdNotifier notifier_;
  rules::Engine engine_;
  rules::Event event_;  // reused for every event
  AgentActionSink sink_{*this};
  std::unique_ptr<WorkloadSupervisor> supervisor_;
  std::unique_ptr<CloudAgent> cloud_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<MetricsServer> metrics_;

  BundleInfo bundle_;
  std::vector<WorkloadSpec> specs_;
  std::vector<std::string> rule_sources_;  // names of the loaded rule files
  // The shipped rules (FindDefaultRulesDir), loaded when the bundle has no
  // rules/; resolved once at start.
  std::optional<std::string> default_rules_dir_;

  // The event pipeline is not re-entrant: lines arriving while one is in
  // the engine wait here.
  std::deque<std::string> pending_;
  bool processing_ = false;

  // Counters the metrics thread reads through MetricsServer::Update.
  uint64_t rule_firings_ = 0;
  std::map<std::string, uint64_t> violations_;
  std::map<std::string, uint64_t> events_by_type_;

  // The network quarantine as this agent knows it; the kernel's table is
  // the truth (StatusJson asks it), these only say why and since when.
  std::string quarantine_rule_;   // "" when found at start
  std::string quarantine_since_;  // RFC 3339
  std::string quarantine_error_;  // the last failure to install the table

  bool stopping_ = false;
  bool finished_ = false;
  int exit_code_ = 0;
};

}  // namespace edgeward::daemon::internal
