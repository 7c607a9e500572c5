// Step "rlimits": RLIMIT_NOFILE from limits.nofile (soft = hard), and no
// core dumps (RLIMIT_CORE 0: a core file can hold the workload's secrets
// and is written by the kernel outside the sandbox's view).
#pragma once

#include <cstdint>
#include <optional>

#include "edgeward/sandbox/child_failure.h"

namespace edgeward::sandbox {

struct RlimitPlan {
  std::optional<uint64_t> nofile;
};

// CHILD SIDE (no allocation). Runs before the uid switch: raising a hard
// limit needs CAP_SYS_RESOURCE.
bool ApplyRlimits(const RlimitPlan& plan, ChildFailure* failure);

}  // namespace edgeward::sandbox
