#include "namespaces.h"

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "cgroup.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/fd.h"

namespace edgeward::sandbox {

StatusOr<NamespacePlan> MakeNamespacePlan(const std::vector<policy::Namespace>& namespaces,
                                          const policy::NetworkSpec& network) {
  NamespacePlan plan;
  bool net = false;
  for (policy::Namespace ns : namespaces) {
    switch (ns) {
      case policy::Namespace::kPid: plan.pid = true; plan.clone_flags |= CLONE_NEWPID; break;
      case policy::Namespace::kMount: plan.mount = true; plan.clone_flags |= CLONE_NEWNS; break;
      case policy::Namespace::kIpc: plan.clone_flags |= CLONE_NEWIPC; break;
      case policy::Namespace::kUts: plan.uts = true; plan.clone_flags |= CLONE_NEWUTS; break;
      case policy::Namespace::kNet: net = true; break;
      case policy::Namespace::kCgroup: plan.cgroup = true; break;
      case policy::Namespace::kUser: plan.user = true; plan.clone_flags |= CLONE_NEWUSER; break;
    }
  }
  if (network.mode == policy::NetworkMode::kHost && net) {
    return InvalidArgument("namespaces: 'net' conflicts with network: host");
  }
  if (network.mode != policy::NetworkMode::kHost) {
    plan.clone_flags |= CLONE_NEWNET;
    plan.loopback_up = network.mode == policy::NetworkMode::kLoopback;
  }
  return plan;
}

Status WriteIdMaps(pid_t child) {
  std::string base = "/proc/" + std::to_string(child);
  // One line covering every id but (uid_t)-1, identity-mapped.
  const std::string map = "0 0 4294967295\n";
  EW_RETURN_IF_ERROR(internal::WriteControl(base + "/uid_map", map));
  EW_RETURN_IF_ERROR(internal::WriteControl(base + "/gid_map", map));
  return Status::Ok();
}

bool EnterNamespaces(const NamespacePlan& plan, const char* hostname, ChildFailure* failure) {
  if (plan.cgroup && ::unshare(CLONE_NEWCGROUP) != 0) {
    return SetChildFailure(failure, "namespaces", "unshare", "CLONE_NEWCGROUP", errno);
  }
  if (plan.uts && hostname != nullptr && hostname[0] != '\0' &&
      ::sethostname(hostname, ::strlen(hostname)) != 0) {
    return SetChildFailure(failure, "namespaces", "sethostname", hostname, errno);
  }
  if (plan.loopback_up) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return SetChildFailure(failure, "namespaces", "socket", "AF_INET, SOCK_DGRAM", errno);
    struct ifreq ifr;
    ::memset(&ifr, 0, sizeof(ifr));
    ::memcpy(ifr.ifr_name, "lo", 3);
    if (::ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
      int err = errno;
      ::close(fd);
      return SetChildFailure(failure, "namespaces", "ioctl", "lo, SIOCGIFFLAGS", err);
    }
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    if (::ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) {
      int err = errno;
      ::close(fd);
      return SetChildFailure(failure, "namespaces", "ioctl", "lo, SIOCSIFFLAGS", err);
    }
    ::close(fd);
  }
  return true;
}

}  // namespace edgeward::sandbox
