#include "user.h"

#include <grp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "child_util.h"

namespace edgeward::sandbox {
namespace {
// Supplementary groups a workload may have (checked on the child's stack).
constexpr size_t kMaxGroups = 256;
}  // namespace

UserPlan MakeUserPlan(const std::optional<policy::UserSpec>& user) {
  UserPlan plan;
  if (!user) return plan;
  plan.change = true;
  plan.uid = user->uid;
  plan.gid = user->gid;
  plan.groups.assign(user->supplementary_gids.begin(), user->supplementary_gids.end());
  // Sorted and unique, as the kernel keeps them: the child compares lists.
  std::sort(plan.groups.begin(), plan.groups.end());
  plan.groups.erase(std::unique(plan.groups.begin(), plan.groups.end()), plan.groups.end());
  return plan;
}

bool SwitchUser(const UserPlan& plan, ChildFailure* f) {
  if (!plan.change) return true;
  if (plan.groups.size() > kMaxGroups) {
    internal::WhatBuf what;
    what.AppendUnsigned(plan.groups.size()).Append(" groups (at most ").AppendUnsigned(kMaxGroups).Append(")");
    return SetChildFailure(f, "user", "setgroups", what.c_str(), E2BIG);
  }
  // Groups first: after setresuid we no longer may change them.
  if (::setgroups(plan.groups.size(), plan.groups.empty() ? nullptr : plan.groups.data()) != 0) {
    internal::WhatBuf what;
    what.AppendUnsigned(plan.groups.size()).Append(" groups");
    return SetChildFailure(f, "user", "setgroups", what.c_str(), errno);
  }
  internal::WhatBuf gid;
  gid.AppendUnsigned(plan.gid);
  if (::setresgid(plan.gid, plan.gid, plan.gid) != 0) {
    return SetChildFailure(f, "user", "setresgid", gid.c_str(), errno);
  }
  internal::WhatBuf uid;
  uid.AppendUnsigned(plan.uid);
  if (::setresuid(plan.uid, plan.uid, plan.uid) != 0) {
    return SetChildFailure(f, "user", "setresuid", uid.c_str(), errno);
  }
  // Trust, but verify: a silently partial switch would be a privilege leak.
  uid_t r, e, s;
  if (::getresuid(&r, &e, &s) != 0) return SetChildFailure(f, "user", "getresuid", nullptr, errno);
  if (r != plan.uid || e != plan.uid || s != plan.uid) {
    return SetChildFailure(f, "user", "getresuid", uid.c_str(), EPERM);
  }
  gid_t rg, eg, sg;
  if (::getresgid(&rg, &eg, &sg) != 0) return SetChildFailure(f, "user", "getresgid", nullptr, errno);
  if (rg != plan.gid || eg != plan.gid || sg != plan.gid) {
    return SetChildFailure(f, "user", "getresgid", gid.c_str(), EPERM);
  }
  // The actual list, not just its length: same size, and every group seen
  // is one the plan asked for (the plan is sorted and unique).
  gid_t seen[kMaxGroups];
  int n = ::getgroups(kMaxGroups, seen);
  if (n < 0) return SetChildFailure(f, "user", "getgroups", nullptr, errno);
  if (static_cast<size_t>(n) != plan.groups.size()) {
    return SetChildFailure(f, "user", "getgroups", "count differs", EPERM);
  }
  for (int i = 0; i < n; ++i) {
    if (!std::binary_search(plan.groups.begin(), plan.groups.end(), seen[i])) {
      internal::WhatBuf what("unexpected group ");
      what.AppendUnsigned(seen[i]);
      return SetChildFailure(f, "user", "getgroups", what.c_str(), EPERM);
    }
  }
  return true;
}

}  // namespace edgeward::sandbox
