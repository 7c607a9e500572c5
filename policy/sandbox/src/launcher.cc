// The launcher's one fixed sequence. Parent side: plan every step (allocation
// allowed here, none after clone), create the cgroup, clone3() into the
// namespaces, move the child into the cgroup, let it go, then serve it
// (failure pipe, seccomp listener, signals) until it exits.
#include "edgeward/sandbox/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>

#include "cgroup.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/file.h"
#include "edgeward/sandbox/child_failure.h"
#include "events.h"
#include "init.h"

#include "edgeward/policy/explain.h"
#include "edgeward/policy/node_features.h"
#include "edgeward/sandbox/landlock.h"
#include "edgeward/seccomp/filter.h"
#include "edgeward/seccomp/supervisor.h"

namespace edgeward::sandbox {
namespace {

constexpr int kForwardedSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

Status StepError(const char* step, Status s) {
  return s.WithContext(std::string("sandbox step '") + step + "'");
}

Status FromChildFailure(const ChildFailure& f) {
  ChildFailure c = f;  // force termination of strings from the pipe
  c.step[sizeof(c.step) - 1] = c.call[sizeof(c.call) - 1] = c.what[sizeof(c.what) - 1] = '\0';
  return ErrnoStatus(c.call, c.what, c.err).WithContext(std::string("sandbox step '") + c.step + "'");
}

// The signal mask of the calling thread while the workload runs: forwarded
// signals and SIGCHLD arrive through a signalfd instead of handlers.
class SignalMaskGuard {
 public:
  SignalMaskGuard() = default;
  SignalMaskGuard(const SignalMaskGuard&) = delete;
  SignalMaskGuard& operator=(const SignalMaskGuard&) = delete;
  ~SignalMaskGuard() {
    if (active_) (void)::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  Status Block(const sigset_t& set) {
    int rc = ::pthread_sigmask(SIG_BLOCK, &set, &old_);
    if (rc != 0) return ErrnoStatus("pthread_sigmask", "SIG_BLOCK", rc);
    active_ = true;
    return Status::Ok();
  }
  const sigset_t& old() const { return old_; }

 private:
  sigset_t old_;
  bool active_ = false;
};

// Kills and reaps the child if the launcher returns before it was waited
// for (an error path): nothing keeps running after an error.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  ~ChildGuard() {
    if (pid_ <= 0) return;
    (void)::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  void Reaped() { pid_ = -1; }

 private:
  pid_t pid_;
};

struct CloneArgs {  // struct clone_args, CLONE_ARGS_SIZE_VER0 (Linux >= 5.3)
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

// The workload's pid as seen from here: init's only child. Linux lists
// children in /proc/<pid>/task/<pid>/children (CONFIG_PROC_CHILDREN).
pid_t FindWorkloadPid(pid_t init) {
  std::string path = "/proc/" + std::to_string(init) + "/task/" + std::to_string(init) + "/children";
  auto text = ReadFileToString(path, 4096);
  if (!text.ok()) return init;
  pid_t pid = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), pid);
  return ec == std::errc() && pid > 0 ? pid : init;
}

// Owns the NULL-terminated char* arrays the child hands to execve.
struct ExecArgs {
  std::vector<std::string> argv_store, env_store;
  std::vector<char*> argv, envp;
  std::string path_search;
};

// A sandbox.violation line with "node":{"id":...} added.
std::string WithNodeId(const std::string& line, const std::string& node_id) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return line;
  j["node"] = {{"id", node_id}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ExecArgs MakeExecArgs(const LaunchSpec& spec) {
  ExecArgs a;
  a.argv_store = spec.argv;
  a.env_store = spec.env;
  if (a.env_store.empty()) {
    a.env_store.push_back(std::string("PATH=") + kDefaultPath);
    a.env_store.push_back("HOME=/");
    if (const char* term = ::getenv("TERM")) a.env_store.push_back(std::string("TERM=") + term);
  }
  a.path_search = kDefaultPath;
  for (const std::string& e : a.env_store) {
    if (e.rfind("PATH=", 0) == 0) a.path_search = e.substr(5);
  }
  for (std::string& s : a.argv_store) a.argv.push_back(s.data());
  a.argv.push_back(nullptr);
  for (std::string& s : a.env_store) a.envp.push_back(s.data());
  a.envp.push_back(nullptr);
  return a;
}

}  // namespace

StatusOr<RunResult> Run(const LaunchSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) return InvalidArgument("run: no command given");
  const policy::WorkloadPolicy& pol = spec.policy;
  const std::string name = spec.name.empty() ? pol.name : spec.name;
  RunResult result;
  auto warn = [&](const std::string& w) {
    result.degraded.push_back(w);
    if (spec.on_warning) {
      spec.on_warning(w);
    } else {
      spdlog::warn("sandbox '{}': degraded: {}", name, w);
    }
  };

  // ---- 1. plans (parent; the child only reads them) ------------------------
  ChildContext ctx;
  {
    auto ns = MakeNamespacePlan(pol.namespaces, pol.network);
    if (!ns.ok()) return StepError("namespaces", ns.status());
    ctx.ns = *ns;
  }
  {
    auto mounts = MakeMountPlan(pol.filesystem, ctx.ns.mount);
    if (!mounts.ok()) return StepError("mounts", mounts.status());
    ctx.mounts = std::move(*mounts);
    if (!ctx.ns.mount && (!pol.filesystem.read_only.empty() || !pol.filesystem.read_write.empty() ||
                          !pol.filesystem.tmpfs.empty())) {
      warn("no mount namespace: filesystem.readOnly/readWrite/tmpfs are not mounted; the workload sees the host's filesystem");
    }
  }
  ctx.user = MakeUserPlan(pol.user);
  {
    bool nonroot = ctx.user.change ? ctx.user.uid != 0 : ::geteuid() != 0;
    auto caps = MakeCapabilityPlan(pol.capabilities, nonroot);
    if (!caps.ok()) return StepError("capabilities", caps.status());
    ctx.caps = *caps;
  }
  ctx.rlimits.nofile = pol.limits.nofile;
  ctx.hostname = name.c_str();

  // What this kernel can't enforce of this policy is said out loud, once,
  // before launch: a degraded node is visible, never silent.
  const policy::NodeFeatures node = policy::ProbeNodeFeatures();
  for (const std::string& gap : policy::Explain(pol, node).node_gaps) warn(gap);

  // Landlock: rules decided here, applied by the workload child.
  std::optional<LandlockPlan> landlock;
  {
    auto plan = LandlockPlan::ForPolicy(pol, node.landlock_abi);
    if (!plan.ok()) return StepError("landlock", plan.status());
    landlock.emplace(std::move(*plan));
    for (const std::string& d : landlock->degraded()) {
      if (std::find(result.degraded.begin(), result.degraded.end(), d) == result.degraded.end()) warn(d);
    }
    ctx.landlock = &*landlock;
  }

  // seccomp: compiled (or loaded from the BPF cache) here, installed last
  // by the workload child, supervised from the loop below.
  std::optional<seccomp::PreparedFilter> filter;
  {
    seccomp::PrepareOptions options;
    if (!spec.state_dir.empty()) options.cache_dir = spec.state_dir + "/seccomp-cache";
    auto f = seccomp::PrepareFilter(pol, options);
    if (!f.ok()) return StepError("seccomp", f.status());
    filter.emplace(std::move(*f));
    ctx.filter = &*filter;
  }

  ExecArgs exec = MakeExecArgs(spec);
  ctx.argv = exec.argv.data();
  ctx.envp = exec.envp.data();
  ctx.path_search = exec.path_search.c_str();
  ctx.stdin_fd = spec.stdin_fd;
  ctx.stdout_fd = spec.stdout_fd;
  ctx.stderr_fd = spec.stderr_fd;

  // ---- 2. cgroup -------------------------------------------------------------
  std::string leaf = name + "-" + std::to_string(::getpid());
  auto cgroup = Cgroup::Create(spec.cgroup_root, leaf, pol.limits);
  if (!cgroup.ok()) return StepError("cgroup", cgroup.status());

  // ---- 3. channels and signals ----------------------------------------------
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return EW_ERRNO("pipe2", "failure pipe");
  UniqueFd fail_rd(p[0]), fail_wr(p[1]);
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return EW_ERRNO("socketpair", "control");
  }
  UniqueFd control(sv[0]), control_child(sv[1]);
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return EW_ERRNO("socketpair", "seccomp handoff");
  }
  UniqueFd handoff(sv[0]), handoff_child(sv[1]);
  ctx.fail_fd = fail_wr.get();
  ctx.control_fd = control_child.get();
  ctx.handoff_fd = handoff_child.get();

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGCHLD);
  for (int s : kForwardedSignals) sigaddset(&signals, s);
  SignalMaskGuard mask;
  EW_RETURN_IF_ERROR(mask.Block(signals));
  ctx.workload_mask = mask.old();
  ctx.init_signals = signals;
  UniqueFd sigfd(::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sigfd.valid()) return EW_ERRNO("signalfd", "SIGCHLD and forwarded signals");

  // ---- 4. clone into the namespaces -----------------------------------------
  CloneArgs args = {};
  args.flags = ctx.ns.clone_flags;
  args.exit_signal = SIGCHLD;
  auto start_time = std::chrono::steady_clock::now();
  pid_t init = static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof(args)));
  if (init == 0) RunInit(ctx);  // never returns
  if (init < 0) return StepError("namespaces", EW_ERRNO("clone3", "namespace flags"));
  ChildGuard guard(init);
  fail_wr.Reset();
  control_child.Reset();
  handoff_child.Reset();

  // Without a user namespace init builds the mounts while we attach it (see
  // RunInit), so it may have failed and exited meanwhile, making the attach
  // or the "go" fail (ESRCH, EPIPE). Its own report says why; prefer it.
  auto setup_error = [&](Status s) -> Status {
    (void)::kill(init, SIGKILL);
    while (::waitpid(init, nullptr, 0) < 0 && errno == EINTR) {
    }
    guard.Reaped();
    ChildFailure f;
    // Every write end is gone now (init was the only child): a record or EOF.
    if (::read(fail_rd.get(), &f, sizeof(f)) == static_cast<ssize_t>(sizeof(f))) return FromChildFailure(f);
    return s;
  };
  if (ctx.ns.user) {
    Status s = WriteIdMaps(init);
    if (!s.ok()) return StepError("namespaces", s);
  }
  {
    Status s = cgroup->Attach(init);
    if (!s.ok()) return setup_error(StepError("cgroup", s));
  }
  const char go = 'g';
  if (::send(control.get(), &go, 1, MSG_NOSIGNAL) != 1) return setup_error(EW_ERRNO("send", "control: go"));

  // ---- 5. serve the sandbox until init exits --------------------------------
  std::optional<ChildFailure> failure;
  bool started = false;
  bool init_reaped = false;
  int init_status = 0;
  std::optional<int> workload_status;
  result.pid = init;

  auto on_fail_pipe = [&]() -> Status {
    ChildFailure f;
    ssize_t n = ::read(fail_rd.get(), &f, sizeof(f));
    if (n < 0) return errno == EINTR || errno == EAGAIN ? Status::Ok() : EW_ERRNO("read", "failure pipe");
    if (n == static_cast<ssize_t>(sizeof(f))) {
      failure = f;
    } else if (n == 0 && !failure) {
      // Every copy of the write end is gone: init has closed its copy and
      // the workload's closed at execve. The workload is running.
      started = true;
      result.pid = FindWorkloadPid(init);
      if (spec.on_event) spec.on_event(WorkloadStartEvent(name, result.pid, spec.node_id));
    }
    fail_rd.Reset();
    return Status::Ok();
  };

  // The seccomp listener arrives over the handoff socket just before the
  // workload's execve; from then on the supervisor answers its notified
  // syscalls (execve itself may be one, so this runs in the same loop that
  // waits for the failure pipe's EOF).
  bool want_listener = filter->needs_supervisor();
  std::optional<seccomp::Supervisor> supervisor;
  auto on_violation = [&](const seccomp::ViolationEvent& ev) {
    if (!spec.on_event) return;
    std::string line = seccomp::ViolationEventJson(ev);
    spec.on_event(spec.node_id.empty() ? line : WithNodeId(line, spec.node_id));
  };

  while (!init_reaped) {
    struct pollfd fds[5];
    int nfds = 0;
    fds[nfds++] = {sigfd.get(), POLLIN, 0};
    int fail_idx = -1, control_idx = -1, handoff_idx = -1, supervisor_idx = -1;
    if (fail_rd.valid()) {
      fail_idx = nfds;
      fds[nfds++] = {fail_rd.get(), POLLIN, 0};
    }
    if (control.valid()) {
      control_idx = nfds;
      fds[nfds++] = {control.get(), POLLIN, 0};
    }
    if (want_listener && handoff.valid()) {
      handoff_idx = nfds;
      fds[nfds++] = {handoff.get(), POLLIN, 0};
    }
    if (supervisor) {
      supervisor_idx = nfds;
      fds[nfds++] = {supervisor->fd(), POLLIN, 0};
    }
    int timeout = -1;
    if (!started && !failure) {
      auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - start_time)
                         .count();
      if (elapsed >= spec.setup_timeout_ms) {
        return StepError("init", Unavailable("the sandbox did not start within " +
                                             std::to_string(spec.setup_timeout_ms) + " ms"));
      }
      timeout = static_cast<int>(spec.setup_timeout_ms - elapsed);
    }
    int ready = ::poll(fds, static_cast<nfds_t>(nfds), timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return EW_ERRNO("poll", "launcher");
    }
    if (supervisor_idx >= 0 && fds[supervisor_idx].revents != 0) {
      if (fds[supervisor_idx].revents & POLLIN) {
        Status s = supervisor->HandleReady();
        if (!s.ok()) return StepError("seccomp", s);
      } else {
        // POLLHUP/POLLERR: no task uses the filter any more. Keep what it
        // learned; stop polling it.
        if (pol.mode == policy::Mode::kLearn) result.learned = supervisor->learned();
        supervisor.reset();
      }
    }
    if (handoff_idx >= 0 && fds[handoff_idx].revents != 0) {
      auto listener = seccomp::ReceiveListener(handoff.get(), 1000);
      handoff.Reset();
      // Without a listener the child failed before seccomp: the failure
      // pipe says why.
      if (listener.ok()) {
        supervisor.emplace(std::move(*listener), *filter, pol.mode, name, on_violation);
        supervisor->set_sandbox_init(init);
      } else {
        spdlog::debug("sandbox '{}': no seccomp listener: {}", name, listener.status().message());
      }
    }
    if (fail_idx >= 0 && fds[fail_idx].revents != 0) EW_RETURN_IF_ERROR(on_fail_pipe());
    if (control_idx >= 0 && fds[control_idx].revents != 0) {
      int st = 0;
      ssize_t n = ::recv(control.get(), &st, sizeof(st), MSG_DONTWAIT);
      if (n == static_cast<ssize_t>(sizeof(st))) workload_status = st;
      if (n == 0 || n == static_cast<ssize_t>(sizeof(st))) control.Reset();
    }
    if (fds[0].revents != 0) {
      struct signalfd_siginfo si;
      while (::read(sigfd.get(), &si, sizeof(si)) == static_cast<ssize_t>(sizeof(si))) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig != SIGCHLD) {
          (void)::kill(init, sig);
          continue;
        }
        int st = 0;
        pid_t r = ::waitpid(init, &st, WNOHANG);
        if (r == init) {
          init_reaped = true;
          init_status = st;
          guard.Reaped();
        }
      }
    }
  }
  // Init is gone: whatever it or the workload wrote is in the pipes.
  if (fail_rd.valid()) EW_RETURN_IF_ERROR(on_fail_pipe());
  if (control.valid()) {
    int st = 0;
    if (::recv(control.get(), &st, sizeof(st), MSG_DONTWAIT) == static_cast<ssize_t>(sizeof(st))) {
      workload_status = st;
    }
  }
  if (supervisor) {
    // Drain what the last tasks asked before they died.
    if (Status s = supervisor->HandleReady(); !s.ok()) spdlog::debug("seccomp supervisor: {}", s.message());
    if (pol.mode == policy::Mode::kLearn) result.learned = supervisor->learned();
  }
  if (failure) return FromChildFailure(*failure);
  if (!started) {
    return StepError("init", Internal("init exited (status " + std::to_string(init_status) +
                                      ") before the workload started"));
  }

  // The workload's status as init saw it; if init itself was killed (say, by
  // the OOM killer or SIGKILL from outside), that is the sandbox's status.
  int st = workload_status ? *workload_status : init_status;
  if (WIFSIGNALED(st)) {
    result.signal = WTERMSIG(st);
    result.exit_status = 128 + WTERMSIG(st);
  } else {
    result.exit_status = WEXITSTATUS(st);
  }
  if (spec.on_event) {
    spec.on_event(WorkloadExitEvent(name, result.pid, result.exit_status,
                                    result.signal, spec.node_id));
  }
  {
    Status s = cgroup->Destroy();
    if (!s.ok()) spdlog::warn("sandbox '{}': cgroup cleanup: {}", name, s.message());
  }
  return result;
}

}  // namespace edgeward::sandbox
