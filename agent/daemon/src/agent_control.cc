// Answers to control requests and the metrics collector: JSON views of the
// supervisor, the cloud worker and the bundle. The JSON shapes are the
// control protocol's (docs/agent.md).
#include <unistd.h>

#include <future>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "agent_internal.h"
#include "edgeward/rules/event_parser.h"
#include "net_quarantine.h"

namespace edgeward::daemon::internal {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  return rules::FormatRfc3339Ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

json CloudJson(const CloudStatus& c, const AgentConfig& config) {
  json j = {{"url", config.verifier ? config.verifier->url : ""},
            {"registered", c.registered},
            {"tpm_ok", c.tpm_ok},
            {"tpm_error", c.tpm_error},
            {"tpm_errors", c.tpm_errors},
            {"attestations_passed", c.attestations_passed},
            {"attestations_failed", c.attestations_failed},
            {"last_attest_error", c.last_attest_error},
            {"verifier_error", c.verifier_error},
            {"cert_not_after", c.cert_not_after},
            {"spool_messages", c.spool_messages},
            {"spool_bytes", c.spool_bytes},
            {"spool_dropped", c.spool_dropped},
            {"events_sent", c.events_sent},
            {"measurements", c.measurements},
            {"measurements_queued", c.measurements_queued}};
  if (c.last_verdict) {
    j["last_verdict"] = {{"pass", c.last_verdict->pass},
                         {"time", rules::FormatRfc3339Ms(c.last_verdict->time * 1000)},
                         {"reasons", c.last_verdict->reasons}};
  } else {
    j["last_verdict"] = nullptr;
  }
  if (c.bundle_version) j["bundle_version"] = *c.bundle_version;
  return j;
}

}  // namespace

StatusOr<std::string> Agent::HandleControl(const ControlRequest& request) {
  switch (request.kind) {
    case ControlRequest::Kind::kStatus: return StatusJson();
    case ControlRequest::Kind::kWorkloads: return WorkloadsJson();
    case ControlRequest::Kind::kPolicyShow: return PolicyJson();
    case ControlRequest::Kind::kAttestNow:
      if (cloud_ == nullptr || !config_.verifier) {
        return FailedPrecondition("no verifier configured: this agent runs local-only");
      }
      cloud_->AttestNow();
      return Dump({{"message", "queued; the verdict shows in `edgeward status` and `edgeward events`"}});
    case ControlRequest::Kind::kQuarantineRelease: return ReleaseNetworkQuarantine();
    case ControlRequest::Kind::kEvents: break;  // answered by the control server itself
  }
  return Unimplemented("request not handled by the agent");
}

std::string Agent::StatusJson() {
  json workloads = {{"total", 0}};
  if (supervisor_) {
    auto list = supervisor_->List();
    workloads["total"] = list.size();
    for (const auto& w : list) {
      const std::string state(WorkloadStateName(w.state));
      workloads[state] = workloads.value(state, 0) + 1;
    }
  }
  json j = {{"node", {{"id", config_.node_id}}},
            {"version", "0.1.0"},
            {"pid", ::getpid()},
            {"uptime_s", std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
                             .count()},
            {"mode", config_.verifier ? "verifier" : "local-only"},
            {"config", config_path_},
            {"stopping", stopping_},
            {"workloads", workloads},
            {"bundle", {{"version", bundle_.version}, {"source", bundle_.source.empty() ? "none" : bundle_.source}}},
            {"rules",
             {{"loaded", engine_.rule_count()}, {"files", rule_sources_}, {"firings", rule_firings_}}},
            {"events", {{"last_seq", control_ ? control_->last_event_seq() : 0}}}};
  if (!bundle_.digest.empty()) j["bundle"]["digest"] = bundle_.digest;
  if (metrics_) j["metrics"] = {{"url", "http://" + config_.metrics.host + ":" + std::to_string(metrics_->port()) + "/metrics"}};
  j["cloud"] = cloud_ ? CloudJson(cloud_->Snapshot(), config_) : json(nullptr);
  // The kernel's table is the truth: it outlives the agent and an operator
  // may have removed it with nft.
  json q = {{"table", "inet edgeward_quarantine"}};
  if (StatusOr<bool> active = NetQuarantineActive(); active.ok()) {
    q["active"] = *active;
  } else {
    q["active"] = nullptr;
    q["error"] = active.status().message();
  }
  if (!quarantine_rule_.empty()) q["rule"] = quarantine_rule_;
  if (!quarantine_since_.empty()) q["since"] = quarantine_since_;
  if (!quarantine_error_.empty()) q["last_error"] = quarantine_error_;
  j["quarantine"] = std::move(q);
  return Dump(j);
}

std::string Agent::WorkloadsJson() {
  json list = json::array();
  if (supervisor_) {
    std::map<std::string, std::string> policy_of;
    for (const auto& s : specs_) policy_of[s.name] = s.policy;
    for (const auto& w : supervisor_->List()) {
      json j = {{"name", w.name},
                {"state", std::string(WorkloadStateName(w.state))},
                {"pid", w.pid},
                {"restarts", w.restarts},
                {"since", Rfc3339(w.since)},
                {"policy", policy_of.count(w.name) ? policy_of[w.name] : ""},
                {"policy_digest", w.policy_digest},
                {"spec_digest", w.spec_digest}};
      if (w.last_exit_code) {
        j["last_exit"] = *w.last_exit_code;
      } else {
        j["last_exit"] = nullptr;
      }
      if (!w.last_exit_signal.empty()) j["last_exit_signal"] = w.last_exit_signal;
      if (!w.last_error.empty()) j["last_error"] = w.last_error;
      list.push_back(std::move(j));
    }
  }
  return Dump({{"workloads", list}});
}

std::string Agent::PolicyJson() {
  json policies = json::array();
  for (const auto& s : specs_) {
    policies.push_back({{"workload", s.name}, {"policy", s.policy}, {"path", s.policy_path}, {"digest", s.policy_digest}});
  }
  json rules_list = json::array();
  for (const auto& r : engine_.Rules()) {
    json actions = json::array();
    for (const auto& a : r.actions) actions.push_back(a.ToString());
    rules_list.push_back({{"name", r.name},
                          {"priority", std::string(rules::PriorityName(r.priority))},
                          {"actions", actions},
                          {"file", r.file},
                          {"line", r.line}});
  }
  json bundle = {{"version", bundle_.version}, {"source", bundle_.source.empty() ? "none" : bundle_.source}};
  if (!bundle_.digest.empty()) bundle["digest"] = bundle_.digest;
  json files = json::array();
  for (const auto& [path, text] : bundle_.files) files.push_back(path);
  bundle["files"] = files;
  return Dump({{"bundle", bundle},
               {"policies", policies},
               {"rules", {{"loaded", engine_.rule_count()}, {"files", rule_sources_}, {"list", rules_list}}}});
}

void Agent::CollectMetrics(MetricsSnapshot& s) {
  // Metrics thread. The cloud worker's snapshot is thread-safe; the rest
  // lives on the loop, so ask the loop and wait a little. A wedged loop
  // (the watchdog's business) leaves those figures at zero.
  if (cloud_) {
    const CloudStatus c = cloud_->Snapshot();
    s.attestations_passed = c.attestations_passed;
    s.attestations_failed = c.attestations_failed;
    s.last_verdict_timestamp_seconds = c.last_verdict ? static_cast<double>(c.last_verdict->time) : 0;
    s.spool_messages = c.spool_messages;
    s.spool_bytes = c.spool_bytes;
    s.tpm_errors = c.tpm_errors;
  }
  auto promise = std::make_shared<std::promise<MetricsSnapshot>>();
  std::future<MetricsSnapshot> future = promise->get_future();
  loop_->Post([this, promise] {
    MetricsSnapshot part;
    if (supervisor_) {
      for (const auto& w : supervisor_->List()) ++part.workloads_by_state[std::string(WorkloadStateName(w.state))];
    }
    part.violations_by_workload = violations_;
    part.events_by_type = events_by_type_;
    part.rule_firings = rule_firings_;
    part.bundle_version = bundle_.version;
    promise->set_value(std::move(part));
  });
  if (future.wait_for(std::chrono::seconds(2)) != std::future_status::ready) {
    spdlog::warn("metrics: the event loop did not answer within 2 s");
    return;
  }
  MetricsSnapshot part = future.get();
  s.workloads_by_state = std::move(part.workloads_by_state);
  s.violations_by_workload = std::move(part.violations_by_workload);
  s.events_by_type = std::move(part.events_by_type);
  s.rule_firings = part.rule_firings;
  if (part.bundle_version != 0) s.bundle_version = part.bundle_version;
}

}  // namespace edgeward::daemon::internal
