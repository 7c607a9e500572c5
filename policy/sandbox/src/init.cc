// Why the steps are split between init and the workload:
//  - init does what belongs to the whole sandbox and needs privilege: it is
//    the process the parent moves into the cgroup (before anything runs),
//    it is in the new pid namespace (so its fresh /proc shows the sandbox's
//    pids), and it builds the mount tree that every process of the sandbox
//    shares.
//  - the workload child does what confines one process and is inherited by
//    its descendants: rlimits, capabilities, uid/gid, no_new_privs,
//    Landlock, seccomp. Init keeps its privileges because it must keep
//    reaping and signalling the workload whatever uid it runs as; it is
//    non-dumpable, so the workload can't ptrace it or read its memory.
#include "init.h"

#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "child_util.h"
#include "no_new_privs.h"

#include "edgeward/sandbox/landlock.h"
#include "edgeward/seccomp/filter.h"

namespace edgeward::sandbox {
namespace {

[[noreturn]] void ReportAndExit(const ChildContext& ctx, const ChildFailure& f) {
  // One record, smaller than PIPE_BUF, so the write is atomic even with
  // init and the workload sharing the pipe.
  ssize_t n;
  do {
    n = ::write(ctx.fail_fd, &f, sizeof(f));
  } while (n < 0 && errno == EINTR);
  ::_exit(kSetupFailedExit);
}

// Blocks until the parent says "go" (it has written the id maps and moved
// init into the cgroup): a byte, or EOF if the parent gave up.
void WaitForGo(const ChildContext& ctx) {
  char go = 0;
  ssize_t n;
  do {
    n = ::read(ctx.control_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(kSetupFailedExit);
}

// fork() without glibc's atfork handlers (they may take locks that another
// thread held at clone time, and ASan's may allocate).
pid_t RawFork() { return static_cast<pid_t>(::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0)); }

// execvpe without allocation: argv[0] as a path, or each PATH entry.
void Exec(const ChildContext& ctx, ChildFailure* f) {
  const char* file = ctx.argv[0];
  if (::strchr(file, '/') != nullptr) {
    ::execve(file, ctx.argv, ctx.envp);
    SetChildFailure(f, "exec", "execve", file, errno);
    return;
  }
  int err = ENOENT;
  const char* p = ctx.path_search;
  while (p != nullptr && *p != '\0') {
    const char* end = ::strchr(p, ':');
    size_t len = end != nullptr ? static_cast<size_t>(end - p) : ::strlen(p);
    internal::PathBuf candidate;
    char dir[4096];
    if (len > 0 && len < sizeof(dir)) {
      ::memcpy(dir, p, len);
      dir[len] = '\0';
      candidate.Append(dir).Append("/").Append(file);
      if (!candidate.overflowed()) {
        ::execve(candidate.c_str(), ctx.argv, ctx.envp);
        // Keep looking past missing files; remember a more telling error
        // (EACCES: found but not executable, as execvp does).
        if (errno != ENOENT && errno != ENOTDIR) err = errno;
      }
    }
    p = end != nullptr ? end + 1 : nullptr;
  }
  SetChildFailure(f, "exec", "execve", file, err);
}

bool SetupStdio(const ChildContext& ctx, ChildFailure* f) {
  const int fds[3] = {ctx.stdin_fd, ctx.stdout_fd, ctx.stderr_fd};
  for (int i = 0; i < 3; ++i) {
    if (fds[i] < 0 || fds[i] == i) continue;
    if (::dup2(fds[i], i) < 0) {
      internal::WhatBuf what;
      what.AppendUnsigned(static_cast<unsigned>(fds[i])).Append(" -> ").AppendUnsigned(static_cast<unsigned>(i));
      return SetChildFailure(f, "exec", "dup2", what.c_str(), errno);
    }
  }
  // Nothing of ours reaches the workload: every other descriptor (agent
  // state, the failure pipe, the handoff socket after use) closes at exec.
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    return SetChildFailure(f, "exec", "close_range", "3.., CLOSE_RANGE_CLOEXEC", errno);
  }
  return true;
}

bool ResetSignals(const ChildContext& ctx, ChildFailure* f) {
  struct sigaction dfl;
  ::memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    // EINVAL for the signals glibc reserves (32, 33): nothing to reset.
    (void)::sigaction(sig, &dfl, nullptr);
  }
  if (::sigprocmask(SIG_SETMASK, &ctx.workload_mask, nullptr) != 0) {
    return SetChildFailure(f, "exec", "sigprocmask", "SIG_SETMASK", errno);
  }
  return true;
}

// The workload process: per-process confinement, then execve. The order is
// the (user, rlimits, capabilities, no_new_privs, Landlock, seccomp
// last) except where privilege forces otherwise: rlimits and the bounding
// set need CAP_SYS_RESOURCE / CAP_SETPCAP, which the uid switch drops.
[[noreturn]] void RunWorkload(const ChildContext& ctx) {
  ChildFailure f;
  ::close(ctx.control_fd);
  if (!SetupStdio(ctx, &f)) ReportAndExit(ctx, f);
  if (!ApplyRlimits(ctx.rlimits, &f)) ReportAndExit(ctx, f);
  if (!DropBoundingSet(ctx.caps, &f)) ReportAndExit(ctx, f);
  if (!SwitchUser(ctx.user, &f)) ReportAndExit(ctx, f);
  // Set after the switch, which clears it: if init dies, so does the
  // workload (also without a pid namespace to take it down).
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
    SetChildFailure(&f, "exec", "prctl", "PR_SET_PDEATHSIG", errno);
    ReportAndExit(ctx, f);
  }
  if (!ApplyCapabilities(ctx.caps, &f)) ReportAndExit(ctx, f);
  if (!SetNoNewPrivs(&f)) ReportAndExit(ctx, f);
  if (ctx.landlock != nullptr && !ctx.landlock->Apply(&f)) ReportAndExit(ctx, f);
  if (!ResetSignals(ctx, &f)) ReportAndExit(ctx, f);
  // Last: from here on only execve has to pass the filter.
  if (ctx.filter != nullptr && !seccomp::InstallInChild(*ctx.filter, ctx.handoff_fd, &f)) {
    ReportAndExit(ctx, f);
  }
  Exec(ctx, &f);
  ReportAndExit(ctx, f);
}

}  // namespace

[[noreturn]] void RunInit(const ChildContext& ctx) {
  ChildFailure f;
  // If the launcher dies, so does the sandbox (and with init, the whole pid
  // namespace).
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
    SetChildFailure(&f, "init", "prctl", "PR_SET_PDEATHSIG", errno);
    ReportAndExit(ctx, f);
  }
  // In a user namespace nothing below works before the parent has written
  // the id maps, so wait for its "go" first. Otherwise wait only right
  // before forking the workload: the parent's first cgroup.procs write on a
  // v1 node blocks for an RCU grace period (cgroup_threadgroup_rwsem),
  // several ms, and the namespace and mount setup below runs meanwhile.
  // Nothing of the sandbox runs before init is in the cgroup: init does not
  // fork before "go", and the workload inherits init's cgroup.
  if (ctx.ns.user) WaitForGo(ctx);

  // A session of its own: otherwise kill(0, sig) from the workload reaches
  // the launcher's whole process group (the agent) across the pid
  // namespace, and the workload could take over the operator's terminal.
  if (::setsid() < 0) {
    SetChildFailure(&f, "init", "setsid", nullptr, errno);
    ReportAndExit(ctx, f);
  }
  // Orphans of the workload become ours even without a pid namespace.
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    SetChildFailure(&f, "init", "prctl", "PR_SET_CHILD_SUBREAPER", errno);
    ReportAndExit(ctx, f);
  }
  if (!EnterNamespaces(ctx.ns, ctx.hostname, &f)) ReportAndExit(ctx, f);
  if (!ApplyMounts(ctx.mounts, &f)) ReportAndExit(ctx, f);
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    SetChildFailure(&f, "init", "prctl", "PR_SET_DUMPABLE 0", errno);
    ReportAndExit(ctx, f);
  }

  if (!ctx.ns.user) WaitForGo(ctx);
  pid_t workload = RawFork();
  if (workload < 0) {
    SetChildFailure(&f, "init", "clone", "workload", errno);
    ReportAndExit(ctx, f);
  }
  if (workload == 0) RunWorkload(ctx);

  // From here init only waits: the failure pipe and the handoff socket are
  // the workload's to use (the parent sees EOF once it has exec'd).
  // Init never execs, so it would otherwise hold every descriptor the
  // launcher had (the TPM, sockets, state files) for the sandbox's life,
  // within reach of a workload that may ptrace or pidfd_getfd pid 1. Keep
  // stdio and the status channel only.
  {
    const unsigned keep = static_cast<unsigned>(ctx.control_fd);
    if ((keep > 3 && ::syscall(SYS_close_range, 3u, keep - 1, 0u) != 0) ||
        ::syscall(SYS_close_range, keep + 1, ~0u, 0u) != 0) {
      // Without close_range (Linux < 5.9) fall back to closing one by one.
      for (int fd = 3; fd < 65536; ++fd) {
        if (fd != ctx.control_fd) (void)::close(fd);
      }
    }
  }

  int status = 0;
  for (;;) {
    siginfo_t info;
    int sig = ::sigwaitinfo(&ctx.init_signals, &info);
    if (sig < 0) continue;  // EINTR (a stop/continue); nothing else can fail here
    if (sig != SIGCHLD) {
      (void)::kill(workload, sig);
      continue;
    }
    // SIGCHLD coalesces: reap everything that has exited. The workload's
    // orphans are reparented to us (pid 1 / subreaper) and reaped here too.
    bool done = false;
    pid_t p;
    int st;
    while ((p = ::waitpid(-1, &st, WNOHANG)) > 0) {
      if (p == workload) {
        status = st;
        done = true;
      }
    }
    if (done) break;
  }
  // The raw wait status tells the parent exit code vs signal; our own exit
  // code carries the same for anyone who only sees init (128 + signal).
  ssize_t n;
  do {
    n = ::write(ctx.control_fd, &status, sizeof(status));
  } while (n < 0 && errno == EINTR);
  ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

}  // namespace edgeward::sandbox
