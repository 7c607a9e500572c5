// Step "capabilities": every capability the policy doesn't keep is dropped
// from the bounding, ambient, inheritable, permitted and effective sets.
// Kept capabilities survive the uid switch (PR_SET_KEEPCAPS) and, for a
// non-root workload, execve (ambient set). No libcap: prctl and capset.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgeward/base/status.h"
#include "edgeward/sandbox/child_failure.h"

namespace edgeward::sandbox {

struct CapabilityPlan {
  uint64_t keep = 0;      // bit n: capability n is kept
  int last_cap = 40;      // /proc/sys/kernel/cap_last_cap
  bool ambient = false;   // raise kept caps in the ambient set (non-root workload)
};

// "CAP_NET_BIND_SERVICE" -> 10; kInvalidArgument for an unknown name.
StatusOr<int> CapabilityFromName(const std::string& name);

// Parent side. `nonroot_workload`: the workload's uid after the switch is
// not 0, so kept capabilities must travel through the ambient set.
StatusOr<CapabilityPlan> MakeCapabilityPlan(const std::vector<std::string>& kept,
                                            bool nonroot_workload);

// CHILD SIDE (no allocation), part 1, before the uid switch (dropping from
// the bounding set needs CAP_SETPCAP, which the switch takes away): drops
// the bounding set, and sets PR_SET_KEEPCAPS when kept caps must survive
// setresuid.
bool DropBoundingSet(const CapabilityPlan& plan, ChildFailure* failure);

// CHILD SIDE, part 2, after the uid switch: inheritable = permitted =
// effective = kept, ambient cleared (then raised to kept for a non-root
// workload), read back with capget.
bool ApplyCapabilities(const CapabilityPlan& plan, ChildFailure* failure);

}  // namespace edgeward::sandbox
