// Step "user": the workload's uid, gid and supplementary groups
// (spec.user). Absent spec.user: the workload keeps the invoking user.
#pragma once

#include <sys/types.h>

#include <optional>
#include <vector>

#include "edgeward/policy/policy.h"
#include "edgeward/sandbox/child_failure.h"

namespace edgeward::sandbox {

struct UserPlan {
  bool change = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary, sorted, unique; empty: none; at most 256
};

UserPlan MakeUserPlan(const std::optional<policy::UserSpec>& user);

// CHILD SIDE (no allocation): setgroups, setresgid, setresuid, then reads
// the ids back (getresuid/getresgid/getgroups) and fails if any differs
// (the group list is compared element by element, not just its size).
bool SwitchUser(const UserPlan& plan, ChildFailure* failure);

}  // namespace edgeward::sandbox
