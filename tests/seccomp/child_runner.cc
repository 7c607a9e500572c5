#include "child_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "edgeward/base/fd.h"
#include "edgeward/sandbox/child_failure.h"

namespace edgeward::seccomp::testing {

ChildResult RunUnderFilter(const PreparedFilter& filter, const std::function<int()>& body,
                           const std::string& workload) {
  ChildResult result;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    result.install_error = "socketpair failed";
    return result;
  }
  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0) {
    result.install_error = "pipe2 failed";
    return result;
  }
  UniqueFd parent_sock(sv[0]), child_sock(sv[1]), err_read(errpipe[0]), err_write(errpipe[1]);
  pid_t pid = fork();
  if (pid < 0) {
    result.install_error = "fork failed";
    return result;
  }
  if (pid == 0) {
    sandbox::ChildFailure f;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      sandbox::SetChildFailure(&f, "nnp", "prctl", nullptr, errno);
      (void)!write(err_write.get(), &f, sizeof(f));
      _exit(120);
    }
    if (!InstallInChild(filter, child_sock.get(), &f)) {
      (void)!write(err_write.get(), &f, sizeof(f));
      _exit(121);
    }
    _exit(body());
  }
  child_sock.Reset();
  err_write.Reset();
  std::optional<Supervisor> sup;
  if (filter.needs_supervisor()) {
    auto listener = ReceiveListener(parent_sock.get(), 5000);
    if (listener.ok()) {
      sup.emplace(std::move(*listener), filter, filter.mode(), workload,
                  [&](const ViolationEvent& e) { result.events.push_back(e); });
    }
  }
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  for (;;) {
    pollfd p[2] = {{pidfd.get(), POLLIN, 0}, {sup ? sup->fd() : -1, POLLIN, 0}};
    int r = poll(p, 2, 10000);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      kill(pid, SIGKILL);
      break;
    }
    if (sup && (p[1].revents & POLLIN)) {
      Status s = sup->HandleReady();
      if (!s.ok()) result.install_error = "supervisor: " + s.ToString();
    }
    if (p[0].revents & POLLIN) break;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (sup) {
    (void)sup->HandleReady();
    result.learned = sup->learned();
  }
  sandbox::ChildFailure f;
  if (read(err_read.get(), &f, sizeof(f)) == sizeof(f)) {
    result.install_error = std::string(f.step) + ": " + f.call + "(" + f.what + "): " + strerror(f.err);
  }
  if (WIFEXITED(status)) {
    result.exited = true;
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

policy::WorkloadPolicy MakePolicy(policy::SeccompProfileKind profile, policy::Mode mode) {
  policy::WorkloadPolicy p;
  p.name = "test";
  p.mode = mode;
  p.seccomp.profile = profile;
  return p;
}

policy::SyscallRule Rule(std::vector<std::string> names, policy::SeccompAction action,
                         std::vector<policy::ArgCondition> args) {
  policy::SyscallRule r;
  r.names = std::move(names);
  r.action = action;
  r.args = std::move(args);
  r.where = {"test.yaml", 1, 1};
  return r;
}

}  // namespace edgeward::seccomp::testing
