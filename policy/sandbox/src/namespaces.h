// Step "namespaces": which namespaces the child is cloned into, and the
// child-side setup that belongs to them (loopback up, hostname), plus the
// parent-side uid/gid maps for a user namespace.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "edgeward/base/status.h"
#include "edgeward/policy/policy.h"
#include "edgeward/sandbox/child_failure.h"

namespace edgeward::sandbox {

struct NamespacePlan {
  // CLONE_NEW* flags for clone3(). A `net` namespace is implied by network
  // none/loopback. The cgroup namespace is *not* here: the child unshares it
  // after it has been moved into its group (NamespacePlan::cgroup), so the
  // namespace's root is the workload's own group.
  uint64_t clone_flags = 0;
  bool cgroup = false;
  bool loopback_up = false;  // network: loopback
  bool pid = false;
  bool mount = false;
  bool user = false;
  bool uts = false;
};

// Parent side. Policies that ask for network none/loopback get a net
// namespace even when `namespaces` omits `net` (the policy's network mode is
// the stronger statement); network host with `net` listed is refused by
// validation, and here becomes kInvalidArgument.
StatusOr<NamespacePlan> MakeNamespacePlan(const std::vector<policy::Namespace>& namespaces,
                                          const policy::NetworkSpec& network);

// Parent side, for a user namespace: maps ids 0..2^32-2 to themselves, so
// root in the namespace is root on the host's files, but capabilities are
// the namespace's. Must run before the child proceeds.
Status WriteIdMaps(pid_t child);

// CHILD SIDE (no allocation). In the new namespaces: unshares the cgroup
// namespace, brings `lo` up (SIOCSIFFLAGS), sets the hostname to `hostname`.
bool EnterNamespaces(const NamespacePlan& plan, const char* hostname, ChildFailure* failure);

}  // namespace edgeward::sandbox
