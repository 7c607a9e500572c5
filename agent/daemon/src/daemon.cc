// The agent's life cycle: start-up in the order the issue gives, SIGHUP
// reload, graceful stop. The parts are built and owned by Agent
// (agent_internal.h); this file only sequences them.
#include "edgeward/daemon/daemon.h"

#include <dirent.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <ctime>
#include <iostream>

#include "agent_internal.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/file.h"
#include "edgeward/bundle/bundle.h"
#include "edgeward/daemon/agent_log.h"
#include "edgeward/daemon/bundle_content.h"

namespace edgeward::daemon {
namespace internal {
namespace {

constexpr int kExitBadConfig = 2;
constexpr int kExitFailed = 3;
// Bounded reads of a local bundle directory (the same caps as a bundle).
constexpr size_t kMaxLocalFiles = 1000;

StatusOr<std::string> SelfExe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n < 0) return EW_ERRNO("readlink", "/proc/self/exe");
  return std::string(buf, static_cast<size_t>(n));
}

// Reads DIR/{workloads,policies,rules}/ (one level for workloads and rules,
// two for policies as in a bundle) into bundle path → bytes.
Status ReadTree(const std::string& root, const std::string& rel, int depth, std::map<std::string, std::string>& out) {
  const std::string dir = root + "/" + rel;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return Status::Ok();
    return EW_ERRNO("opendir", dir);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> closer(d, ::closedir);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || name.front() == '.') continue;
    names.push_back(std::move(name));
  }
  if (errno != 0) return EW_ERRNO("readdir", dir);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const std::string path = dir + "/" + name;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return EW_ERRNO("stat", path);
    if (S_ISDIR(st.st_mode)) {
      if (depth > 1) EW_RETURN_IF_ERROR(ReadTree(root, rel + "/" + name, depth - 1, out));
      continue;
    }
    if (!S_ISREG(st.st_mode)) continue;
    if (out.size() >= kMaxLocalFiles) return ResourceExhausted(root + ": more than 1000 files");
    EW_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, bundle::kMaxFileBytes));
    out.emplace(rel + "/" + name, std::move(text));
  }
  return Status::Ok();
}

}  // namespace

Agent::Agent(std::string config_path, AgentConfig config)
    : config_path_(std::move(config_path)), config_(std::move(config)) {}

Agent::~Agent() = default;

int Agent::Start() {
  auto loop = EventLoop::Create();
  if (!loop.ok()) {
    spdlog::critical("event loop: {}", loop.status().message());
    return kExitFailed;
  }
  loop_ = std::move(loop).value();

  auto notifier = SdNotifier::FromEnvironment();
  if (!notifier.ok()) {
    spdlog::warn("sd_notify: {} (continuing without)", notifier.status().message());
  } else {
    notifier_ = std::move(notifier).value();
  }

  // Signals first: OnSignal blocks them in this thread, and every thread
  // started later (cloud worker, metrics) inherits the blocked mask, so
  // they reach the loop's signalfd and nowhere else.
  for (int sig : {SIGTERM, SIGINT}) {
    Status s = loop_->OnSignal(sig, [this](const signalfd_siginfo& si) {
      BeginStop(si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
    });
    if (!s.ok()) {
      spdlog::critical("signals: {}", s.message());
      return kExitFailed;
    }
  }
  if (Status s = loop_->OnSignal(SIGHUP, [this](const signalfd_siginfo&) { Reload(); }); !s.ok()) {
    spdlog::critical("signals: {}", s.message());
    return kExitFailed;
  }
  // A control client that disappears mid-write must not kill the agent.
  ::signal(SIGPIPE, SIG_IGN);

  if (Status s = MakeDirs(config_.state_dir, 0700, /*enforce_mode=*/true); !s.ok()) {
    spdlog::critical("state directory: {}", s.message());
    return kExitFailed;
  }
  auto self = SelfExe();
  if (!self.ok()) {
    spdlog::critical("{}", self.status().message());
    return kExitFailed;
  }
  // Resolved once: after a package upgrade /proc/self/exe names a deleted
  // file, and the rules must still be found on SIGHUP.
  default_rules_dir_ = FindDefaultRulesDir(*self);
  if (config_.workloads.edgeward_binary.empty()) {
    // The lean runner next to us (agent/run_main.cc) takes the same
    // arguments and loads far fewer libraries per workload; else ourselves.
    std::string lean = self->substr(0, self->rfind('/') + 1) + "edgeward-run";
    edgeward_binary_ = ::access(lean.c_str(), X_OK) == 0 ? lean : *self;
  } else {
    edgeward_binary_ = config_.workloads.edgeward_binary;
  }

  if (Status s = StartControl(); !s.ok()) {
    spdlog::critical("control socket: {}", s.message());
    return kExitFailed;
  }
  DetectNetworkQuarantine();  // a quarantine table outlives the agent: say so (agent_events.cc)
  if (Status s = LoadRules(); !s.ok()) {
    // A bad local rules file must not leave the node unprotected by the
    // rest: start with what loaded (nothing) and say so loudly.
    spdlog::error("rules: {}", s.message());
  }
  if (Status s = StartSupervisor(); !s.ok()) {
    spdlog::critical("workloads: {}", s.message());
    return kExitFailed;
  }
  if (Status s = StartCloud(); !s.ok()) {
    spdlog::critical("cloud worker: {}", s.message());
    return kExitFailed;
  }
  if (!config_.bundles.local_file.empty()) {
    if (Status s = LoadLocalBundle(); !s.ok()) spdlog::error("local bundle: {}", s.message());
  }
  StartMetrics();

  const std::string ready = "node " + config_.node_id + ", " + std::to_string(specs_.size()) + " workload(s), " +
                            (config_.verifier ? "verifier " + config_.verifier->url : std::string("local-only"));
  if (Status s = notifier_.Ready(ready); !s.ok()) spdlog::warn("sd_notify: {}", s.message());
  notifier_.StartWatchdog(*loop_);
  spdlog::info("agent running: {}", ready);
  return 0;
}

int Agent::Run() {
  Status s = loop_->Run();
  if (!s.ok()) {
    spdlog::critical("event loop: {}", s.message());
    return kExitFailed;
  }
  return exit_code_;
}

Status Agent::StartControl() {
  ControlOptions o;
  o.socket_path = config_.control.socket;
  o.group = config_.control.group;
  EW_ASSIGN_OR_RETURN(control_, ControlServer::Start(*loop_, o, [this](const ControlRequest& r) {
                        return HandleControl(r);
                      }));
  spdlog::info("control socket: {}", config_.control.socket);
  return Status::Ok();
}

void Agent::StartMetrics() {
  if (config_.metrics.listen.empty()) return;
  auto m = MetricsServer::Start(config_.metrics.host, config_.metrics.port,
                                [this](MetricsSnapshot& s) { CollectMetrics(s); });
  if (!m.ok()) {
    // Metrics are for operators; enforcement goes on without them.
    spdlog::error("{}", m.status().message());
    return;
  }
  metrics_ = std::move(m).value();
  spdlog::info("metrics: http://{}:{}/metrics", config_.metrics.host, metrics_->port());
}

Status Agent::StartSupervisor() {
  SupervisorOptions o;
  o.edgeward_binary = edgeward_binary_;
  o.state_dir = config_.state_dir;
  o.node_id = config_.node_id;
  o.cgroup_root = config_.workloads.cgroup_root;
  o.stop_timeout = config_.workloads.stop_timeout;
  o.on_event = [this](const std::string& line) { OnEvent(line); };
  // Measurements go through the cloud worker (it owns the TPM); it is
  // created after the supervisor, so look it up at call time.
  o.measure = [this](const WorkloadSpec& spec, std::vector<std::string> files, std::function<void(Status)> done) {
    if (cloud_ == nullptr) {
      done(Status::Ok());
      return;
    }
    cloud_->Measure(spec.name, std::move(files), std::move(done));
  };
  supervisor_ = std::make_unique<WorkloadSupervisor>(*loop_, std::move(o));
  return supervisor_->Reattach();
}

Status Agent::StartCloud() {
  if (config_.tpm_tcti == "none" && !config_.verifier) {
    spdlog::info("local-only without a TPM: no attestation, no measurements");
    return Status::Ok();
  }
  if (config_.tpm_tcti == "none") return InvalidArgument("a verifier needs a TPM: tpm.tcti is \"none\"");
  CloudAgentOptions o;
  o.node_id = config_.node_id;
  o.state_dir = config_.state_dir;
  o.tcti = config_.tpm_tcti == "auto" ? "" : config_.tpm_tcti;
  if (config_.verifier) {
    o.verifier_url = config_.verifier->url;
    o.verifier_ca_file = config_.verifier->ca_file;
  }
  o.attestation_interval = config_.attestation_interval;
  o.fetch_interval = config_.bundles.fetch_interval;
  o.fetch_jitter = config_.bundles.jitter;
  // Signed is not enough: a bundle whose policies, workloads or rules
  // don't check is rejected before it replaces the running one.
  o.make_content_validator = MakeBundleContentValidator;
  struct stat st {};
  if (::stat(config_.bundles.root_file.c_str(), &st) == 0) o.bundle_root_file = config_.bundles.root_file;
  CloudAgentCallbacks cb;
  cb.on_event = [this](const std::string& line) { OnEvent(line); };
  cb.on_bundle = [this](const bundle::Bundle& b) { OnCloudBundle(b); };
  cloud_ = std::make_unique<CloudAgent>(*loop_, std::move(o), std::move(cb));
  return cloud_->Start();
}

Status Agent::LoadRules() {
  std::vector<rules::RuleSource> sources;
  std::vector<std::string> names;
  for (const auto& [path, text] : bundle_.files) {
    if (path.rfind("rules/", 0) != 0) continue;
    sources.push_back({bundle_.source + ":" + path, text});
    names.push_back(path);
  }
  std::string defaults;
  if (sources.empty()) {
    // A bundle without rules/ (or no bundle) still gets the shipped
    // response rules; a bundle that brings its own replaces them whole.
    if (!default_rules_dir_) {
      defaults = "no shipped default rules found (set EDGEWARD_RULES_DIR or install share/edgeward/rules)";
    } else {
      EW_ASSIGN_OR_RETURN(std::vector<std::string> files, ListRuleFiles(*default_rules_dir_));
      for (const auto& file : files) {
        EW_ASSIGN_OR_RETURN(std::string text, ReadFileToString(file, rules::kMaxRuleFileBytes));
        sources.push_back({file, std::move(text)});
        names.push_back(file);
      }
      defaults = "shipped defaults from " + *default_rules_dir_ + ": " + std::to_string(files.size()) + " file(s)";
    }
  }
  for (const auto& file : config_.rule_files) {
    EW_ASSIGN_OR_RETURN(std::string text, ReadFileToString(file, rules::kMaxRuleFileBytes));
    sources.push_back({file, std::move(text)});
    names.push_back(file);
  }
  if (sources.empty()) {
    rule_sources_.clear();
    spdlog::info("rules: none loaded ({})", defaults);
    return engine_.LoadSources({});
  }
  EW_RETURN_IF_ERROR(engine_.LoadSources(sources));
  rule_sources_ = std::move(names);
  spdlog::info("rules: {} rule(s) from {} file(s){}", engine_.rule_count(), rule_sources_.size(),
               defaults.empty() ? std::string() : " (" + defaults + ")");
  return Status::Ok();
}

Status Agent::LoadLocalBundle() {
  const std::string& path = config_.bundles.local_file;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return EW_ERRNO("stat", path);
  BundleInfo info;
  info.source = "local:" + path;
  if (S_ISDIR(st.st_mode)) {
    EW_RETURN_IF_ERROR(ReadTree(path, "workloads", 1, info.files));
    EW_RETURN_IF_ERROR(ReadTree(path, "policies", 3, info.files));
    EW_RETURN_IF_ERROR(ReadTree(path, "rules", 1, info.files));
  } else if (S_ISREG(st.st_mode)) {
    // A signed bundle file: held to the same root, anti-rollback record
    // and content checks as one from the verifier.
    LocalBundleOptions lo;
    lo.file = path;
    lo.state_dir = config_.state_dir;
    lo.root_file = config_.bundles.root_file;
    lo.install_root = cloud_ == nullptr;  // else the cloud worker owns root.json
    lo.node = bundle::NodeIdentity{config_.node_id, {}};
    EW_ASSIGN_OR_RETURN(bundle::Bundle b, VerifyLocalBundleFile(lo, static_cast<int64_t>(::time(nullptr))));
    info.version = b.manifest.version;
    info.digest = b.digest;
    for (const auto& f : b.manifest.files) info.files.emplace(f.path, std::string(b.Content(f)));
  } else {
    return InvalidArgument(path + ": bundles.localFile is neither a directory nor a regular file");
  }
  // Validate everything before anything changes.
  EW_ASSIGN_OR_RETURN(auto specs, LoadWorkloads(info.files));
  (void)specs;
  ApplyBundle(std::move(info));
  return Status::Ok();
}

void Agent::OnCloudBundle(const bundle::Bundle& b) {
  BundleInfo info;
  info.version = b.manifest.version;
  info.digest = b.digest;
  info.source = "verifier";
  for (const auto& f : b.manifest.files) info.files.emplace(f.path, std::string(b.Content(f)));
  ApplyBundle(std::move(info));
}

void Agent::ApplyBundle(BundleInfo info) {
  auto specs = LoadWorkloads(info.files);
  if (!specs.ok()) {
    spdlog::error("bundle from {}: workloads: {} (the running set stays)", info.source, specs.status().message());
    return;
  }
  BundleInfo previous = std::move(bundle_);
  bundle_ = std::move(info);
  if (Status s = LoadRules(); !s.ok()) {
    spdlog::error("bundle from {}: rules: {} (the previous rules stay)", bundle_.source, s.message());
  }
  if (Status s = supervisor_->Apply(*specs); !s.ok()) {
    spdlog::error("bundle from {}: {} (the running set stays)", bundle_.source, s.message());
    bundle_ = std::move(previous);
    return;
  }
  specs_ = std::move(specs).value();
  spdlog::info("bundle from {}{}: {} workload(s)", bundle_.source,
               bundle_.version ? " version " + std::to_string(bundle_.version) : std::string(), specs_.size());
  (void)notifier_.SetStatus(std::to_string(specs_.size()) + " workload(s), bundle " +
                            (bundle_.version ? std::to_string(bundle_.version) : bundle_.source));
}

void Agent::Reload() {
  if (stopping_) return;
  spdlog::info("SIGHUP: reloading {}", config_path_);
  auto next = LoadAgentConfig(config_path_);
  if (!next.ok()) {
    spdlog::error("reload: {} (keeping the running config)", next.status().message());
    return;
  }
  for (const auto& field : RestartRequiredChanges(config_, *next)) {
    spdlog::warn("reload: {} changed; it takes effect at the next restart", field);
  }
  if (next->log.format != config_.log.format || next->log.level != config_.log.level) {
    SetupAgentLogging(next->log.format, config_.log.target, next->log.level);
  }
  config_.log.format = next->log.format;
  config_.log.level = next->log.level;
  config_.workloads.stop_timeout = next->workloads.stop_timeout;
  config_.commands = next->commands;
  config_.rule_files = next->rule_files;
  // The local bundle is read again unless the verifier's is running (a
  // local file that was refused at start can be fixed and SIGHUPed in).
  if (!config_.bundles.local_file.empty() && bundle_.source != "verifier") {
    if (Status s = LoadLocalBundle(); !s.ok()) spdlog::error("reload: local bundle: {}", s.message());
  } else if (Status s = LoadRules(); !s.ok()) {
    spdlog::error("reload: rules: {} (the previous rules stay)", s.message());
  }
}

void Agent::BeginStop(const char* why) {
  if (stopping_) {
    spdlog::info("{}: already stopping", why);
    return;
  }
  stopping_ = true;
  spdlog::info("{}: stopping workloads (grace {})", why, FormatDuration(config_.workloads.stop_timeout));
  if (Status s = notifier_.Stopping(); !s.ok()) spdlog::warn("sd_notify: {}", s.message());
  // The supervisor kills after the grace; this is the backstop if even
  // that doesn't end a runner.
  loop_->After(config_.workloads.stop_timeout + std::chrono::seconds(5), [this] {
    spdlog::error("stop: workloads still not gone after the grace + 5s; exiting anyway");
    exit_code_ = kExitFailed;
    FinishStop();
  });
  supervisor_->StopAll(config_.workloads.stop_timeout, [this] { FinishStop(); });
}

void Agent::FinishStop() {
  if (finished_) return;  // the backstop timer and StopAll's done both lead here
  finished_ = true;
  metrics_.reset();
  if (cloud_) cloud_->Stop();  // flushes the spool, joins the worker
  control_.reset();
  spdlog::info("agent stopped");
  loop_->Stop();
}

}  // namespace internal

int RunAgent(const std::string& config_path_arg) {
  // SIGHUP re-reads the file: remember it absolutely.
  std::string config_path = config_path_arg;
  if (char* real = ::realpath(config_path_arg.c_str(), nullptr)) {
    config_path = real;
    std::free(real);
  }
  auto config = LoadAgentConfig(config_path);
  if (!config.ok()) {
    std::cerr << "edgeward: error: " << config.status().message() << "\n";
    return internal::kExitBadConfig;
  }
  SetupAgentLogging(config->log.format, config->log.target, config->log.level);
  internal::Agent agent(config_path, std::move(config).value());
  if (int rc = agent.Start(); rc != 0) return rc;
  return agent.Run();
}

}  // namespace edgeward::daemon
