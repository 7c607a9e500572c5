// Child-side install and the listener handoff. InstallInChild runs between
// clone() and execve(): only syscalls, no allocation, no exceptions.
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>

#include "edgeward/base/errno_status.h"
#include "edgeward/sandbox/child_failure.h"
#include "edgeward/seccomp/filter.h"

namespace edgeward::seccomp {
namespace {

long Seccomp(unsigned op, unsigned flags, void* args) { return syscall(SYS_seccomp, op, flags, args); }

bool Load(std::span<const sock_filter> prog, unsigned flags, long* result, sandbox::ChildFailure* failure,
          const char* what) {
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), const_cast<sock_filter*>(prog.data())};
  long rc = Seccomp(SECCOMP_SET_MODE_FILTER, flags, &fprog);
  if (rc < 0) return sandbox::SetChildFailure(failure, "seccomp", "seccomp(SET_MODE_FILTER)", what, errno);
  *result = rc;
  return true;
}

}  // namespace

bool InstallInChild(const PreparedFilter& filter, int handoff_fd, sandbox::ChildFailure* failure) {
  if (filter.arch() != NativeArch()) {
    return sandbox::SetChildFailure(failure, "seccomp", "arch", "filter compiled for another architecture", EINVAL);
  }
  if (filter.main_program().empty() || filter.main_program().size() > BPF_MAXINSNS) {
    return sandbox::SetChildFailure(failure, "seccomp", "seccomp(SET_MODE_FILTER)", "empty or oversized program",
                                    EINVAL);
  }
  long listener = -1;
  const unsigned flags = filter.needs_supervisor() ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
  if (!Load(filter.main_program(), flags, &listener, failure, "main filter")) return false;
  if (filter.needs_supervisor()) {
    // One byte of payload: some kernels drop ancillary data on empty messages.
    char byte = 'L';
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof(control));
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    int fd = static_cast<int>(listener);
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t n;
    do {
      n = sendmsg(handoff_fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n != 1) {
      int err = n < 0 ? errno : EIO;
      close(fd);
      return sandbox::SetChildFailure(failure, "seccomp", "sendmsg", "seccomp listener", err);
    }
    // The listener is O_CLOEXEC, so execve drops it in any case; closing
    // now keeps the fd table clean if the exec fails. A policy may deny
    // close itself (the supervisor then answers it), so a failure here is
    // deliberately not fatal.
    (void)close(fd);
  }
  if (!filter.sendmsg_program().empty()) {
    long unused = 0;
    if (!Load(filter.sendmsg_program(), 0, &unused, failure, "sendmsg filter")) return false;
  }
  return true;
}

StatusOr<UniqueFd> ReceiveListener(int handoff_fd, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{handoff_fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return EW_ERRNO("poll", "seccomp handoff socket");
    if (r == 0) return Unavailable("seccomp: no listener from the child within " + std::to_string(timeout_ms) + " ms");
    break;
  }
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = recvmsg(handoff_fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return EW_ERRNO("recvmsg", "seccomp handoff socket");
  if (n == 0) return Unavailable("seccomp: the child closed the handoff socket without sending a listener");
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (c == nullptr || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
      c->cmsg_len != CMSG_LEN(sizeof(int))) {
    return Internal("recvmsg(seccomp handoff socket): no listener fd in the message");
  }
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof(int));
  UniqueFd out(fd);
  if ((msg.msg_flags & MSG_CTRUNC) != 0) return Internal("recvmsg(seccomp handoff socket): control data truncated");
  return out;
}

}  // namespace edgeward::seccomp
