// The event pipeline (every line through the rules engine, into the control
// history, the metrics and the cloud) and the ActionSink that turns rule
// decisions into supervisor and cloud-worker calls.
#include <fcntl.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "agent_internal.h"
#include "edgeward/daemon/agent_log.h"
#include "edgeward/rules/event_parser.h"
#include "net_quarantine.h"

namespace edgeward::daemon::internal {
namespace {

using nlohmann::json;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A rule firing as a line of its own: what `edgeward events` shows and what
// report() sends to the cloud. Not one of the engine's event types (it never
// goes back through the engine).
std::string FiringLine(const rules::Firing& f, const std::string& node_id, std::string_view action) {
  json j = {{"type", "rule.fired"},
            {"time", rules::FormatRfc3339Ms(NowMs())},
            {"node", {{"id", node_id}}},
            {"rule", {{"name", std::string(f.rule)}, {"priority", std::string(rules::PriorityName(f.priority))}}},
            {"output", std::string(f.output)},
            {"event", {{"type", std::string(rules::EventTypeName(f.event->type()))}}}};
  if (!action.empty()) j["action"] = std::string(action);
  if (f.event->Has(rules::FieldId::kWorkloadName)) {
    j["workload"] = {{"name", std::string(f.event->GetString(rules::FieldId::kWorkloadName))}};
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string WorkloadOf(const rules::Firing& f) {
  return f.event->Has(rules::FieldId::kWorkloadName) ? std::string(f.event->GetString(rules::FieldId::kWorkloadName))
                                                     : std::string();
}

}  // namespace

void Agent::OnEvent(const std::string& line) {
  pending_.push_back(line);
  if (processing_) return;  // the outer call drains the queue
  processing_ = true;
  ProcessPending();
  processing_ = false;
}

void Agent::ProcessPending() {
  while (!pending_.empty()) {
    std::string line = std::move(pending_.front());
    pending_.pop_front();
    Status parsed = rules::ParseEventJson(line, "event", 0, &event_);
    if (!parsed.ok()) {
      // Still recorded and forwarded: a producer newer than our schema must
      // not lose events, it only can't fire rules.
      spdlog::warn("event not understood by the rules engine: {}", parsed.message());
    } else {
      const std::string type(rules::EventTypeName(event_.type()));
      ++events_by_type_[type];
      if (event_.type() == rules::EventType::kSandboxViolation && event_.Has(rules::FieldId::kWorkloadName)) {
        ++violations_[std::string(event_.GetString(rules::FieldId::kWorkloadName))];
      }
      engine_.Process(event_, sink_);
    }
    if (control_) control_->PublishEvent(line);
    if (cloud_ && config_.verifier) cloud_->Report(line);
  }
}

void Agent::PublishRuleFiring(const std::string& line, bool to_cloud) {
  if (control_) control_->PublishEvent(line);
  if (to_cloud) ReportToCloud(line);
}

void Agent::ReportToCloud(const std::string& line) {
  if (cloud_ && config_.verifier) cloud_->Report(line);
}

void Agent::RunConfiguredCommand(const std::string& name, const std::string& rule, const std::string& workload) {
  auto it = config_.commands.find(name);
  if (it == config_.commands.end()) {
    spdlog::error("rule '{}': run_command '{}' is not configured in actions.commands", rule, name);
    return;
  }
  std::vector<std::string> env_strings = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "EDGEWARD_RULE=" + rule,
                                          "EDGEWARD_WORKLOAD=" + workload, "EDGEWARD_NODE=" + config_.node_id};
  std::vector<char*> argv, envp;
  for (auto& a : it->second) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  // posix_spawn, not fork: the agent is multi-threaded. Our descriptors are
  // all O_CLOEXEC; stdin is /dev/null, output goes to our log stream.
  posix_spawn_file_actions_t fa;
  if (posix_spawn_file_actions_init(&fa) != 0) {
    spdlog::error("run_command '{}': posix_spawn_file_actions_init failed", name);
    return;
  }
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  // The loop's signals are blocked in this thread; the command must start
  // with a clean mask and default handlers.
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    spdlog::error("rule '{}': run_command '{}': posix_spawn({}): {}", rule, name, argv[0], std::strerror(rc));
    return;
  }
  spdlog::info("rule '{}': run_command '{}' started (pid {})", rule, name, pid);
  // Reap it from the loop when it exits.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    spdlog::warn("run_command '{}': pidfd_open: {}; reaping it blocking", name, std::strerror(errno));
    return;
  }
  auto fd = std::make_shared<UniqueFd>(pidfd);
  Status w = loop_->Watch(pidfd, EPOLLIN, [this, fd, pid, name](uint32_t) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        spdlog::info("run_command '{}' (pid {}) exited 0", name, pid);
      } else {
        spdlog::warn("run_command '{}' (pid {}) failed: status {:#x}", name, pid, status);
      }
    }
    loop_->Unwatch(fd->get());
  });
  if (!w.ok()) spdlog::warn("run_command '{}': {}", name, w.message());
}

// ---- the quarantine's network part -----------------------------------------

namespace {

// quarantine.applied / .failed / .released / .detected: published to the
// history and the cloud directly, not through the rules engine (a rule on
// them could quarantine again in a loop).
std::string QuarantineLine(std::string_view type, const std::string& node_id, json detail) {
  json j = {{"type", std::string(type)},
            {"time", rules::FormatRfc3339Ms(NowMs())},
            {"node", {{"id", node_id}}},
            {"quarantine", std::move(detail)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

void Agent::QuarantineNetwork(const std::string& rule) {
  const std::string url = config_.verifier ? config_.verifier->url : std::string();
  // Fail closed: a verifier that doesn't resolve right now (an outage, or
  // an attacker dropping DNS to keep the node connected) still gets the
  // table, without the verifier.
  Status plan_error;
  const NetQuarantinePlan plan = PlanNetQuarantineFailClosed(url, &plan_error);
  if (!plan_error.ok()) {
    spdlog::critical("rule '{}': quarantine: {}; cutting the network without the verifier (release with "
                     "`edgeward quarantine release`)",
                     rule, plan_error.message());
  }
  Status applied = ApplyNetQuarantine(plan);
  if (!applied.ok()) {
    // Loud: the node believes itself contained and is not.
    quarantine_error_ = applied.message();
    spdlog::critical("rule '{}': quarantine: the network is NOT cut: {}", rule, applied.message());
    PublishRuleFiring(QuarantineLine("quarantine.failed", config_.node_id,
                                     {{"rule", rule}, {"table", "inet edgeward_quarantine"},
                                      {"error", applied.message()}}),
                      true);
    return;
  }
  quarantine_error_.clear();
  quarantine_rule_ = rule;
  if (quarantine_since_.empty()) quarantine_since_ = rules::FormatRfc3339Ms(NowMs());
  json tcp = json::array(), dns = json::array();
  for (const auto& e : plan.tcp_allow) {
    tcp.push_back((e.address.find(':') != std::string::npos ? "[" + e.address + "]" : e.address) + ":" +
                  std::to_string(e.port));
  }
  for (const auto& d : plan.dns_servers) dns.push_back(d);
  spdlog::warn("rule '{}': quarantine: network cut (table inet edgeward_quarantine; open: loopback, verifier {}, "
               "DNS {})",
               rule, tcp.dump(), dns.dump());
  PublishRuleFiring(QuarantineLine("quarantine.applied", config_.node_id,
                                   {{"rule", rule}, {"table", "inet edgeward_quarantine"},
                                    {"allowed", {{"loopback", true}, {"verifier", tcp}, {"dns", dns}}},
                                    {"verifier_error", plan_error.ok() ? std::string() : plan_error.message()}}),
                    true);
}

void Agent::DetectNetworkQuarantine() {
  StatusOr<bool> active = NetQuarantineActive();
  if (!active.ok()) {
    spdlog::error("quarantine: can't tell whether the node is quarantined: {}", active.status().message());
    return;
  }
  if (!*active) return;
  spdlog::warn("quarantine: the node is quarantined (table inet edgeward_quarantine from an earlier run); "
               "`edgeward quarantine release` lifts it");
  PublishRuleFiring(QuarantineLine("quarantine.detected", config_.node_id, {{"table", "inet edgeward_quarantine"}}),
                    true);
}

StatusOr<std::string> Agent::ReleaseNetworkQuarantine() {
  StatusOr<bool> released = edgeward::daemon::ReleaseNetQuarantine();
  if (!released.ok()) {
    spdlog::error("quarantine release: {}", released.status().message());
    return released.status();
  }
  const std::string rule = quarantine_rule_;
  quarantine_rule_.clear();
  quarantine_since_.clear();
  quarantine_error_.clear();
  if (*released) {
    spdlog::warn("quarantine released on request: table inet edgeward_quarantine removed");
    PublishRuleFiring(QuarantineLine("quarantine.released", config_.node_id,
                                     {{"table", "inet edgeward_quarantine"}, {"by", "control"}, {"rule", rule}}),
                      true);
  }
  // Only the network: workloads the quarantine stopped stay stopped here;
  // starting them again is a decision of its own.
  return json({{"released", *released},
               {"message", *released ? "network quarantine lifted" : "the node was not quarantined"}})
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

// ---- the sink: decisions are deferred to the loop --------------------------

void AgentActionSink::OnFiring(const rules::Firing& f) {
  ++agent_.rule_firings_;
  spdlog::debug("rule '{}' fired on {}", f.rule, rules::EventTypeName(f.event->type()));
  // Every firing shows in `edgeward events`; only report() sends it on.
  agent_.loop_->Post([a = &agent_, line = FiringLine(f, agent_.config_.node_id, "")] {
    a->PublishRuleFiring(line, false);
  });
}

void AgentActionSink::Log(const rules::Firing& f) {
  spdlog::warn("rule '{}' ({}): {}", f.rule, rules::PriorityName(f.priority), f.output);
}

void AgentActionSink::Report(const rules::Firing& f, rules::Priority p) {
  std::string line = FiringLine(f, agent_.config_.node_id, "report(priority: " + std::string(rules::PriorityName(p)) + ")");
  agent_.loop_->Post([a = &agent_, line] { a->ReportToCloud(line); });
}

void AgentActionSink::KillWorkload(const rules::Firing& f, std::string_view workload) {
  spdlog::warn("rule '{}': kill workload '{}'", f.rule, workload);
  agent_.loop_->Post([a = &agent_, name = std::string(workload), rule = std::string(f.rule)] {
    if (a->supervisor_ == nullptr) return;
    if (Status s = a->supervisor_->Kill(name); !s.ok()) spdlog::error("rule '{}': kill: {}", rule, s.message());
  });
}

void AgentActionSink::RestartWorkload(const rules::Firing& f, std::string_view workload) {
  spdlog::warn("rule '{}': restart workload '{}'", f.rule, workload);
  agent_.loop_->Post([a = &agent_, name = std::string(workload), rule = std::string(f.rule)] {
    if (a->supervisor_ == nullptr) return;
    if (Status s = a->supervisor_->Restart(name); !s.ok()) spdlog::error("rule '{}': restart: {}", rule, s.message());
  });
}

void AgentActionSink::StopWorkloads(const rules::Firing& f, std::span<const std::string> workloads) {
  std::set<std::string> stop(workloads.begin(), workloads.end());
  spdlog::warn("rule '{}': stop {} workload(s)", f.rule, stop.size());
  agent_.loop_->Post([a = &agent_, stop] {
    if (a->supervisor_ == nullptr) return;
    // Quarantine stops gracefully every workload it doesn't allow: allow
    // all the others.
    std::set<std::string> allow;
    for (const auto& w : a->supervisor_->List()) {
      if (!stop.count(w.name)) allow.insert(w.name);
    }
    a->supervisor_->Quarantine(std::move(allow));
  });
}

void AgentActionSink::Quarantine(const rules::Firing& f, std::span<const std::string> allow) {
  std::set<std::string> keep(allow.begin(), allow.end());
  spdlog::warn("rule '{}': quarantine (keeping {} workload(s))", f.rule, keep.size());
  agent_.loop_->Post([a = &agent_, keep, rule = std::string(f.rule)] {
    // Network first: the stopping workloads get up to stopTimeout before
    // SIGKILL, and must not talk to anyone meanwhile. Its failure is
    // reported inside and doesn't keep the workloads running.
    a->QuarantineNetwork(rule);
    if (a->supervisor_ != nullptr) a->supervisor_->Quarantine(keep);
  });
}

void AgentActionSink::Reattest(const rules::Firing& f) {
  spdlog::info("rule '{}': attest now", f.rule);
  if (agent_.cloud_ != nullptr && agent_.config_.verifier) agent_.cloud_->AttestNow();  // thread-safe, no re-entry
}

void AgentActionSink::RunCommand(const rules::Firing& f, std::string_view name) {
  agent_.loop_->Post([a = &agent_, name = std::string(name), rule = std::string(f.rule), workload = WorkloadOf(f)] {
    a->RunConfiguredCommand(name, rule, workload);
  });
}

}  // namespace edgeward::daemon::internal
