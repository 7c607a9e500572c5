// The supervisor's state machine: start (measure → files → spawn → pidfd),
// exit (restart rule, backoff, crash loop), stop (SIGTERM, grace, SIGKILL),
// Apply's diff, and Reattach after the agent was killed.
#include "edgeward/daemon/supervisor.h"

#include <dirent.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>

#include "edgeward/base/bytes.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/file.h"
#include "runner_state.h"
#include "supervisor_internal.h"

namespace edgeward::daemon {
namespace {

using std::chrono::milliseconds;

// After the cgroup got SIGKILL, how long the runner may take to report.
constexpr milliseconds kRunnerKillWait{2000};

bool ValidWorkloadName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

bool Active(WorkloadState s) { return s == WorkloadState::kRunning || s == WorkloadState::kStopping; }

}  // namespace

std::string_view WorkloadStateName(WorkloadState state) {
  switch (state) {
    case WorkloadState::kStarting: return "starting";
    case WorkloadState::kRunning: return "running";
    case WorkloadState::kBackoff: return "backoff";
    case WorkloadState::kCrashLoop: return "crash_loop";
    case WorkloadState::kStopping: return "stopping";
    case WorkloadState::kStopped: return "stopped";
    case WorkloadState::kExited: return "exited";
  }
  return "?";
}

WorkloadSupervisor::WorkloadSupervisor(EventLoop& loop, SupervisorOptions options)
    : loop_(loop), options_(std::move(options)), alive_(std::make_shared<int>(0)) {
  if (options_.edgeward_binary.empty()) {
    // Our own binary, resolved now: /proc/self/exe would name a replaced
    // file after an upgrade.
    char buf[4096];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) options_.edgeward_binary.assign(buf, static_cast<size_t>(n));
  }
}

WorkloadSupervisor::~WorkloadSupervisor() {
  for (auto& [name, w] : workloads_) {
    CancelTimers(*w);
    if (w->pidfd.valid()) loop_.Unwatch(w->pidfd.get());
  }
  if (inotify_.valid()) loop_.Unwatch(inotify_.get());
}

std::string WorkloadSupervisor::Dir(const std::string& name) const {
  return options_.state_dir + "/workloads/" + name;
}

Status WorkloadSupervisor::EnsureInotify() {
  if (inotify_.valid()) return Status::Ok();
  UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd.valid()) return EW_ERRNO("inotify_init1", "workload events");
  EW_RETURN_IF_ERROR(loop_.Watch(fd.get(), EPOLLIN, [this](uint32_t) { OnInotify(); }));
  inotify_ = std::move(fd);
  return Status::Ok();
}

WorkloadSupervisor::Workload* WorkloadSupervisor::Find(const std::string& name) {
  auto it = workloads_.find(name);
  return it == workloads_.end() ? nullptr : it->second.get();
}

WorkloadSupervisor::Workload& WorkloadSupervisor::Create(const std::string& name) {
  auto w = std::make_unique<Workload>();
  w->name = name;
  Workload& ref = *w;
  workloads_[name] = std::move(w);
  return ref;
}

void WorkloadSupervisor::SetState(Workload& w, WorkloadState s) {
  if (w.state != s) {
    spdlog::debug("workload {}: {} -> {}", w.name, WorkloadStateName(w.state), WorkloadStateName(s));
    w.since = std::chrono::system_clock::now();
  }
  w.state = s;
}

void WorkloadSupervisor::CancelTimers(Workload& w) {
  for (EventLoop::TimerId* t : {&w.restart_timer, &w.kill_timer, &w.final_kill_timer}) {
    if (*t != 0) loop_.Cancel(*t);
    *t = 0;
  }
}

// ---- start ---------------------------------------------------------------

void WorkloadSupervisor::StartWorkload(Workload& w) {
  CancelTimers(w);
  SetState(w, WorkloadState::kStarting);
  w.generation = next_generation_++;
  w.last_error.clear();
  if (Status s = MakeDirs(Dir(w.name), 0700, /*enforce_mode=*/true); !s.ok()) {
    w.last_error = s.message();
  } else if (Status o = OpenEvents(w); !o.ok()) {
    w.last_error = o.message();
  } else if (Status r = RotateEventsIfLarge(w); !r.ok()) {
    spdlog::warn("workload {}: rotating events: {}", w.name, r.message());
  }
  if (!w.last_error.empty()) {
    spdlog::error("workload {}: {}", w.name, w.last_error);
    HandleExit(w, std::nullopt, "");
    return;
  }
  if (!options_.measure) {
    AfterMeasure(w.name, w.generation, Status::Ok());
    return;
  }
  std::vector<std::string> files;
  const std::string binary = workload_internal::ResolveBinary(w.spec);
  files.push_back(binary.empty() ? w.spec.command[0] : binary);
  for (const std::string& m : w.spec.measure) files.push_back(m);
  std::weak_ptr<int> alive = alive_;
  const std::string name = w.name;
  const uint64_t generation = w.generation;
  EventLoop* loop = &loop_;
  // done may come from the cloud worker's thread: always through the loop.
  options_.measure(w.spec, std::move(files), [alive, loop, this, name, generation](Status st) {
    loop->Post([alive, this, name, generation, st] {
      if (alive.expired()) return;
      AfterMeasure(name, generation, st);
    });
  });
}

void WorkloadSupervisor::AfterMeasure(const std::string& name, uint64_t generation, const Status& measured) {
  Workload* w = Find(name);
  if (w == nullptr || w->generation != generation || w->state != WorkloadState::kStarting) return;
  if (!measured.ok()) {
    spdlog::warn("workload {}: measurement failed, starting anyway: {}", name, measured.message());
    w->last_error = "measurement: " + measured.message();
  }
  if (Status s = Spawn(*w); !s.ok()) {
    spdlog::error("workload {}: {}", name, s.message());
    w->last_error = s.message();
    HandleExit(*w, std::nullopt, "");
  }
}

Status WorkloadSupervisor::Spawn(Workload& w) {
  const std::string dir = Dir(w.name);
  EW_RETURN_IF_ERROR(WriteFileAtomic(dir + "/policy.yaml", AsBytes(w.spec.policy_text), 0600));
  EW_RETURN_IF_ERROR(WriteFileAtomic(dir + "/spec.json", AsBytes(workload_internal::SpecToJson(w.spec)), 0600));
  workload_internal::SpawnRequest req;
  req.argv = {options_.edgeward_binary, "run"};
  // --env first: CLI11 lets a vector option swallow a "--" right after it.
  for (const std::string& e : w.spec.env) {
    req.argv.push_back("--env");
    req.argv.push_back(e);
  }
  for (const std::string& a : {std::string("--policy"), dir + "/policy.yaml", std::string("--name"), w.name,
                               std::string("--events"), dir + "/events.jsonl", std::string("--state-dir"),
                               options_.state_dir, std::string("--cgroup-root"), options_.cgroup_root,
                               std::string("--start-gate-fd"), std::string("3")}) {
    req.argv.push_back(a);
  }
  if (!options_.node_id.empty()) {
    req.argv.push_back("--node-id");
    req.argv.push_back(options_.node_id);
  }
  req.argv.push_back("--");
  for (const std::string& a : w.spec.command) req.argv.push_back(a);
  req.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  req.log_path = dir + "/runner.log";

  // The start gate: the runner waits for one byte on its fd 3 and gives
  // up on EOF. The byte goes only once runner.json names the runner, so an
  // agent killed in between leaves no unrecorded runner behind (its end
  // closes with the agent, the runner exits without starting anything).
  int gate[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, gate) != 0) return EW_ERRNO("socketpair", "start gate");
  UniqueFd gate_ours(gate[0]);
  UniqueFd gate_theirs(gate[1]);
  req.start_gate_fd = gate_theirs.get();
  EW_ASSIGN_OR_RETURN(pid_t pid, workload_internal::SpawnRunner(req));
  gate_theirs.Reset();
  // Our child can't be reaped behind our back (we don't wait for it
  // elsewhere), so the pid is still ours to open.
  auto pidfd = workload_internal::OpenPidfd(pid);
  if (!pidfd.ok()) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return pidfd.status();
  }
  w.pid = pid;
  w.pidfd = std::move(*pidfd);
  w.own_child = true;
  w.run_started = loop_.Now();
  w.event_exit_code.reset();
  w.event_exit_signal.clear();
  auto start_time = workload_internal::ProcessStartTime(pid);
  w.start_time = start_time.ok() ? *start_time : 0;
  workload_internal::RunnerRecord rec{pid, w.start_time, w.spec.spec_digest, w.spec.policy_digest};
  w.record_spec_digest = rec.spec_digest;
  w.record_policy_digest = rec.policy_digest;
  if (Status s = workload_internal::WriteRunnerRecord(dir + "/runner.json", rec); !s.ok()) {
    // An unrecorded runner must not run (a restarted agent would start a
    // second instance): keep the gate shut — the runner exits on its EOF —
    // and make this a failed start, retried by the restart rule.
    gate_ours.Reset();
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    w.pid = 0;
    w.pidfd.Reset();
    return s.WithContext("runner not started");
  }
  // Open the gate. A runner that died already makes this fail (EPIPE, no
  // signal); its exit arrives through the pidfd like any other.
  const char go = 'g';
  if (::send(gate_ours.get(), &go, 1, MSG_NOSIGNAL) != 1) {
    spdlog::warn("workload {}: start gate: {}", w.name, std::strerror(errno));
  }
  gate_ours.Reset();
  const std::string name = w.name;
  Status ws = loop_.Watch(w.pidfd.get(), EPOLLIN, [this, name](uint32_t) { OnRunnerExit(name); });
  if (!ws.ok()) {
    (void)workload_internal::SignalPidfd(w.pidfd.get(), SIGKILL);
    return ws;
  }
  SetState(w, WorkloadState::kRunning);
  spdlog::info("workload {}: started runner {}", w.name, pid);
  return Status::Ok();
}

// ---- exit ----------------------------------------------------------------

void WorkloadSupervisor::OnRunnerExit(const std::string& name) {
  Workload* w = Find(name);
  if (w == nullptr || !w->pidfd.valid()) return;
  loop_.Unwatch(w->pidfd.get());
  std::optional<int> code;
  std::string signal;
  if (w->own_child) {
    siginfo_t si{};
    if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(w->pidfd.get()), &si, WEXITED) == 0) {
      if (si.si_code == CLD_EXITED) {
        code = si.si_status;
      } else {
        code = 128 + si.si_status;
        signal = workload_internal::SignalName(si.si_status);
      }
    }
  }
  // The runner's last lines (workload.exit) are in the file by now.
  DrainEvents(*w);
  // The workload's own exit as the runner reported it is more exact than the
  // runner's status (which is 2/3 for a setup failure).
  if (w->event_exit_code) {
    code = w->event_exit_code;
    signal = w->event_exit_signal;
  }
  // A runner that was SIGKILLed couldn't remove its cgroup: do it now.
  if (auto left = workload_internal::WorkloadCgroupDirs(options_.cgroup_root, name, w->pid); !left.empty()) {
    if (Status s = workload_internal::CleanCgroups(left); !s.ok()) spdlog::warn("workload {}: {}", name, s.message());
  }
  w->pidfd.Reset();
  w->pid = 0;
  if (::unlink((Dir(name) + "/runner.json").c_str()) != 0 && errno != ENOENT) {
    spdlog::warn("workload {}: unlink runner.json: {}", name, std::strerror(errno));
  }
  if (w->kill_timer != 0) loop_.Cancel(w->kill_timer);
  if (w->final_kill_timer != 0) loop_.Cancel(w->final_kill_timer);
  w->kill_timer = w->final_kill_timer = 0;
  spdlog::info("workload {}: runner exited ({})", name,
               code ? "code " + std::to_string(*code) + (signal.empty() ? "" : ", " + signal) : "status unknown");
  HandleExit(*w, code, signal);  // may erase *w: nothing after this
}

void WorkloadSupervisor::HandleExit(Workload& w, std::optional<int> code, const std::string& signal) {
  w.last_exit_code = code;
  w.last_exit_signal = signal;
  if (w.state == WorkloadState::kStopping) {
    if (w.remove_after_stop) {
      const std::string name = w.name;
      if (w.inotify_wd >= 0) {
        ::inotify_rm_watch(inotify_.get(), w.inotify_wd);
        inotify_watches_.erase(w.inotify_wd);
      }
      CancelTimers(w);
      workloads_.erase(name);
      CheckStopAllDone();
      return;
    }
    if (w.start_after_stop && !stopping_all_) {
      w.start_after_stop = false;
      if (w.next_spec) {
        w.spec = std::move(*w.next_spec);
        w.next_spec.reset();
        w.has_spec = true;
      }
      StartWorkload(w);
      return;
    }
    w.start_after_stop = false;
    SetState(w, w.after_stop);
    CheckStopAllDone();
    return;
  }
  if (stopping_all_) {
    SetState(w, WorkloadState::kStopped);
    CheckStopAllDone();
    return;
  }
  if (!w.has_spec) {
    // Reattached without spec.json: Apply() decides.
    w.awaiting_spec = true;
    SetState(w, WorkloadState::kExited);
    return;
  }
  const RestartRule& rule = w.spec.restart;
  const bool success = code && *code == 0 && signal.empty();
  if (rule.policy == RestartPolicy::kNever || (rule.policy == RestartPolicy::kOnFailure && success)) {
    SetState(w, WorkloadState::kExited);
    return;
  }
  const auto now = loop_.Now();
  const bool ran = w.run_started != EventLoop::Clock::time_point{};
  if (ran && now - w.run_started >= rule.crash_loop_within) {
    // A run that lasted a whole window: it was healthy; start counting afresh.
    w.backoff_step = 0;
    w.exits.clear();
  }
  w.exits.push_back(now);
  while (!w.exits.empty() && now - w.exits.front() > rule.crash_loop_within) w.exits.pop_front();
  if (w.exits.size() >= rule.crash_loop_count) {
    spdlog::warn("workload {}: crash loop ({} exits within {} ms); not restarting", w.name, w.exits.size(),
                 rule.crash_loop_within.count());
    SetState(w, WorkloadState::kCrashLoop);
    EmitCrashLoop(w);
    return;
  }
  ScheduleRestart(w);
}

void WorkloadSupervisor::ScheduleRestart(Workload& w) {
  const RestartRule& rule = w.spec.restart;
  milliseconds delay = rule.backoff_initial;
  for (uint32_t i = 0; i < w.backoff_step && delay < rule.backoff_max; ++i) delay *= 2;
  delay = std::min(delay, rule.backoff_max);
  ++w.backoff_step;
  SetState(w, WorkloadState::kBackoff);
  std::weak_ptr<int> alive = alive_;
  const std::string name = w.name;
  w.restart_timer = loop_.After(delay, [this, alive, name] {
    if (alive.expired()) return;
    Workload* x = Find(name);
    if (x == nullptr || x->state != WorkloadState::kBackoff) return;
    x->restart_timer = 0;
    ++x->restarts;
    StartWorkload(*x);
  });
  spdlog::info("workload {}: restart in {} ms", w.name, delay.count());
}

// ---- stop ----------------------------------------------------------------

void WorkloadSupervisor::StopWorkload(Workload& w, milliseconds grace, WorkloadState after) {
  w.after_stop = after;
  if (w.state == WorkloadState::kRunning || w.state == WorkloadState::kStopping) {
    const bool first = w.state == WorkloadState::kRunning;
    SetState(w, WorkloadState::kStopping);
    if (first) {
      if (Status s = workload_internal::SignalPidfd(w.pidfd.get(), SIGTERM); !s.ok()) {
        spdlog::warn("workload {}: {}", w.name, s.message());
      }
    }
    // A later stop with a shorter grace (StopAll during Apply) wins.
    if (w.kill_timer != 0) loop_.Cancel(w.kill_timer);
    std::weak_ptr<int> alive = alive_;
    const std::string name = w.name;
    w.kill_timer = loop_.After(grace, [this, alive, name] {
      if (alive.expired()) return;
      if (Workload* x = Find(name); x != nullptr && x->state == WorkloadState::kStopping) {
        x->kill_timer = 0;
        spdlog::warn("workload {}: still running after the grace period; SIGKILL", name);
        KillNow(*x);
      }
    });
    return;
  }
  // Nothing runs: the stop completes now.
  CancelTimers(w);
  w.generation = 0;  // a measurement in flight is dropped
  SetState(w, WorkloadState::kStopping);
  HandleExit(w, w.last_exit_code, w.last_exit_signal);
}

void WorkloadSupervisor::KillNow(Workload& w) {
  if (w.pidfd.valid()) {
    // Everything in the sandbox first: the runner then reports the exit
    // and removes the cgroup itself.
    size_t killed = 0;
    for (const std::string& dir : workload_internal::WorkloadCgroupDirs(options_.cgroup_root, w.name, w.pid)) {
      killed += workload_internal::KillCgroupProcs(dir);
    }
    if (killed == 0) {
      if (Status s = workload_internal::SignalPidfd(w.pidfd.get(), SIGKILL); !s.ok()) spdlog::warn("workload {}: {}", w.name, s.message());
      return;
    }
    std::weak_ptr<int> alive = alive_;
    const std::string name = w.name;
    if (w.final_kill_timer != 0) loop_.Cancel(w.final_kill_timer);
    w.final_kill_timer = loop_.After(kRunnerKillWait, [this, alive, name] {
      if (alive.expired()) return;
      Workload* x = Find(name);
      if (x == nullptr || !x->pidfd.valid()) return;
      x->final_kill_timer = 0;
      (void)workload_internal::SignalPidfd(x->pidfd.get(), SIGKILL);
    });
  }
}

void WorkloadSupervisor::CheckStopAllDone() {
  if (!stopping_all_ || !stop_all_done_) return;
  for (const auto& [name, w] : workloads_) {
    if (w->state == WorkloadState::kStopping || w->state == WorkloadState::kRunning) return;
  }
  auto done = std::move(stop_all_done_);
  stop_all_done_ = nullptr;
  std::weak_ptr<int> alive = alive_;
  loop_.Post([alive, done = std::move(done)] {
    if (!alive.expired()) done();
  });
}

// ---- public --------------------------------------------------------------

Status WorkloadSupervisor::Apply(std::vector<WorkloadSpec> specs) {
  std::set<std::string> names;
  for (const WorkloadSpec& s : specs) {
    if (!ValidWorkloadName(s.name)) return InvalidArgument("workload name '" + s.name.substr(0, 80) + "' is not valid");
    if (s.command.empty()) return InvalidArgument("workload " + s.name + ": empty command");
    if (!names.insert(s.name).second) return InvalidArgument("workload '" + s.name + "' is declared twice");
  }
  EW_RETURN_IF_ERROR(MakeDirs(options_.state_dir + "/workloads", 0700, /*enforce_mode=*/true));
  EW_RETURN_IF_ERROR(EnsureInotify());
  stopping_all_ = false;
  stop_all_done_ = nullptr;
  std::vector<std::string> removed;
  for (const auto& [name, w] : workloads_) {
    if (!names.contains(name)) removed.push_back(name);
  }
  for (const std::string& name : removed) {
    Workload& w = *workloads_[name];
    spdlog::info("workload {}: removed; stopping", name);
    w.remove_after_stop = true;
    w.start_after_stop = false;
    StopWorkload(w, options_.stop_timeout, WorkloadState::kStopped);
  }
  std::stable_sort(specs.begin(), specs.end(), [](const WorkloadSpec& a, const WorkloadSpec& b) {
    return a.start_order != b.start_order ? a.start_order < b.start_order : a.name < b.name;
  });
  for (WorkloadSpec& spec : specs) {
    Workload* w = Find(spec.name);
    if (w == nullptr) {
      Workload& n = Create(spec.name);
      n.spec = std::move(spec);
      n.has_spec = true;
      StartWorkload(n);
      continue;
    }
    const std::string& have_spec = w->has_spec ? w->spec.spec_digest : w->record_spec_digest;
    const std::string& have_policy = w->has_spec ? w->spec.policy_digest : w->record_policy_digest;
    const bool same = have_spec == spec.spec_digest && have_policy == spec.policy_digest;
    if (same && !w->remove_after_stop) {
      w->spec = std::move(spec);
      w->has_spec = true;
      if (w->awaiting_spec) {
        w->awaiting_spec = false;
        HandleExit(*w, w->last_exit_code, w->last_exit_signal);
      }
      continue;
    }
    spdlog::info("workload {}: {} changed; restarting", w->name, same ? "state" : (have_policy != spec.policy_digest ? "policy" : "spec"));
    w->remove_after_stop = false;
    w->awaiting_spec = false;
    w->restarts = 0;
    w->backoff_step = 0;
    w->exits.clear();
    if (Active(w->state)) {
      w->next_spec = std::move(spec);
      w->start_after_stop = true;
      StopWorkload(*w, options_.stop_timeout, WorkloadState::kStopped);
    } else {
      w->spec = std::move(spec);
      w->has_spec = true;
      StartWorkload(*w);
    }
  }
  return Status::Ok();
}

Status WorkloadSupervisor::Kill(const std::string& name) {
  Workload* w = Find(name);
  if (w == nullptr) return NotFound("no workload named '" + name + "'");
  w->start_after_stop = false;
  if (Active(w->state)) {
    w->after_stop = WorkloadState::kStopped;
    SetState(*w, WorkloadState::kStopping);
    if (w->kill_timer != 0) loop_.Cancel(w->kill_timer);
    w->kill_timer = 0;
    KillNow(*w);
  } else {
    StopWorkload(*w, milliseconds(0), WorkloadState::kStopped);
  }
  return Status::Ok();
}

Status WorkloadSupervisor::Restart(const std::string& name) {
  Workload* w = Find(name);
  if (w == nullptr) return NotFound("no workload named '" + name + "'");
  if (!w->has_spec) return FailedPrecondition("workload '" + name + "' has no spec yet (reattached; Apply first)");
  w->restarts = 0;
  w->backoff_step = 0;
  w->exits.clear();
  w->remove_after_stop = false;
  if (Active(w->state)) {
    w->start_after_stop = true;
    if (w->state == WorkloadState::kRunning) StopWorkload(*w, options_.stop_timeout, WorkloadState::kStopped);
  } else {
    StartWorkload(*w);
  }
  return Status::Ok();
}

void WorkloadSupervisor::Quarantine(std::set<std::string> allow) {
  std::vector<std::string> names;
  for (const auto& [name, w] : workloads_) {
    if (!allow.contains(name)) names.push_back(name);
  }
  for (const std::string& name : names) {
    if (Workload* w = Find(name)) {
      spdlog::warn("workload {}: quarantine; stopping", name);
      w->start_after_stop = false;
      StopWorkload(*w, options_.stop_timeout, WorkloadState::kStopped);
    }
  }
}

void WorkloadSupervisor::StopAll(milliseconds grace, std::function<void()> done) {
  stopping_all_ = true;
  stop_all_done_ = std::move(done);
  std::vector<std::string> names;
  for (const auto& [name, w] : workloads_) names.push_back(name);
  for (const std::string& name : names) {
    if (Workload* w = Find(name)) {
      w->start_after_stop = false;
      StopWorkload(*w, grace, WorkloadState::kStopped);
    }
  }
  CheckStopAllDone();
}

std::vector<WorkloadStatus> WorkloadSupervisor::List() const {
  std::vector<const Workload*> all;
  for (const auto& [name, w] : workloads_) all.push_back(w.get());
  std::sort(all.begin(), all.end(), [](const Workload* a, const Workload* b) {
    return a->spec.start_order != b->spec.start_order ? a->spec.start_order < b->spec.start_order : a->name < b->name;
  });
  std::vector<WorkloadStatus> out;
  for (const Workload* w : all) {
    WorkloadStatus s;
    s.name = w->name;
    s.state = w->state;
    s.pid = w->pid;
    s.restarts = w->restarts;
    s.last_exit_code = w->last_exit_code;
    s.last_exit_signal = w->last_exit_signal;
    s.policy_digest = w->has_spec ? w->spec.policy_digest : w->record_policy_digest;
    s.spec_digest = w->has_spec ? w->spec.spec_digest : w->record_spec_digest;
    s.since = w->since;
    s.last_error = w->last_error;
    out.push_back(std::move(s));
  }
  return out;
}

// ---- reattach ------------------------------------------------------------

Status WorkloadSupervisor::Reattach() {
  const std::string root = options_.state_dir + "/workloads";
  EW_RETURN_IF_ERROR(MakeDirs(root, 0700, /*enforce_mode=*/true));
  EW_RETURN_IF_ERROR(EnsureInotify());
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(root.c_str()), &::closedir);
  if (!d) return EW_ERRNO("opendir", root);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (ValidWorkloadName(name)) names.push_back(std::move(name));
    errno = 0;
  }
  if (errno != 0) return EW_ERRNO("readdir", root);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    if (Find(name) == nullptr) ReattachOne(name);
  }
  return Status::Ok();
}

void WorkloadSupervisor::ReattachOne(const std::string& name) {
  const std::string dir = Dir(name);
  auto rec = workload_internal::ReadRunnerRecord(dir + "/runner.json");
  if (!rec.ok()) {
    if (rec.status().code() != StatusCode::kNotFound) {
      spdlog::warn("workload {}: {}; treating as stale", name, rec.status().message());
    } else {
      return;  // no runner was running: Apply() decides
    }
  }
  Workload& w = Create(name);
  if (auto text = ReadFileToString(dir + "/spec.json", 1 << 20); text.ok()) {
    auto spec = workload_internal::SpecFromJson(*text, dir + "/spec.json");
    auto policy = ReadFileToString(dir + "/policy.yaml", 1 << 20);
    if (spec.ok() && spec->name == name && policy.ok()) {
      w.spec = std::move(*spec);
      w.spec.policy_text = std::move(*policy);
      w.has_spec = true;
    } else {
      spdlog::warn("workload {}: spec.json unusable; waiting for the bundle", name);
    }
  }
  if (rec.ok()) {
    w.record_spec_digest = rec->spec_digest;
    w.record_policy_digest = rec->policy_digest;
  }
  if (Status s = OpenEvents(w); !s.ok()) spdlog::warn("workload {}: {}", name, s.message());

  bool alive = false;
  if (rec.ok()) {
    auto st = workload_internal::ProcessStartTime(rec->pid);
    if (st.ok() && *st == rec->start_time) {
      auto pidfd = workload_internal::OpenPidfd(rec->pid);
      // Check again through the pidfd: the pid could have been reused
      // between the two calls.
      auto st2 = workload_internal::ProcessStartTime(rec->pid);
      if (pidfd.ok() && st2.ok() && *st2 == rec->start_time) {
        w.pid = rec->pid;
        w.start_time = rec->start_time;
        w.pidfd = std::move(*pidfd);
        w.own_child = false;
        w.run_started = loop_.Now();
        alive = true;
      }
    }
  }
  // Events the runner wrote while we were gone, from the saved offset.
  DrainEvents(w);
  // Leftover groups of earlier runners of this workload (the agent died
  // between spawning one and recording it, or a runner was SIGKILLed).
  std::vector<std::string> leftovers;
  for (const std::string& g : workload_internal::WorkloadCgroupDirs(options_.cgroup_root, name, std::nullopt)) {
    if (alive && g.ends_with("/" + name + "-" + std::to_string(w.pid))) continue;
    leftovers.push_back(g);
  }
  if (!leftovers.empty()) {
    spdlog::warn("workload {}: removing {} leftover cgroup(s)", name, leftovers.size());
    if (Status s = workload_internal::CleanCgroups(leftovers); !s.ok()) spdlog::warn("workload {}: {}", name, s.message());
  }
  if (alive) {
    Status ws = loop_.Watch(w.pidfd.get(), EPOLLIN, [this, name](uint32_t) { OnRunnerExit(name); });
    if (ws.ok()) {
      SetState(w, WorkloadState::kRunning);
      spdlog::info("workload {}: reattached to runner {}", name, w.pid);
      return;
    }
    spdlog::error("workload {}: {}", name, ws.message());
    (void)workload_internal::SignalPidfd(w.pidfd.get(), SIGKILL);
    w.pidfd.Reset();
    w.pid = 0;
  }
  // Stale: the runner is gone. Its exit (from events, if it got to write
  // one) goes through the restart rule like any other.
  if (::unlink((dir + "/runner.json").c_str()) != 0 && errno != ENOENT) {
    spdlog::warn("workload {}: unlink runner.json: {}", name, std::strerror(errno));
  }
  spdlog::warn("workload {}: runner {} is gone; applying the restart rule", name, rec.ok() ? rec->pid : 0);
  SetState(w, WorkloadState::kRunning);
  std::optional<int> code = w.event_exit_code;
  std::string signal = w.event_exit_signal;
  HandleExit(w, code, signal);
}

}  // namespace edgeward::daemon
