#include "user.h"

#include <grp.h>
#include <unistd.h>

#include <cerrno>

#include "child_util.h"

namespace edgeward::sandbox {

UserPlan MakeUserPlan(const std::optional<policy::UserSpec>& user) {
  UserPlan plan;
  if (!user) return plan;
  plan.change = true;
  plan.uid = user->uid;
  plan.gid = user->gid;
  plan.groups.assign(user->supplementary_gids.begin(), user->supplementary_gids.end());
  return plan;
}

bool SwitchUser(const UserPlan& plan, ChildFailure* f) {
  if (!plan.change) return true;
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
  gid_t seen[64];
  int n = ::getgroups(64, seen);
  if (n < 0) return SetChildFailure(f, "user", "getgroups", nullptr, errno);
  if (static_cast<size_t>(n) != plan.groups.size()) {
    return SetChildFailure(f, "user", "getgroups", "count differs", EPERM);
  }
  return true;
}

}  // namespace edgeward::sandbox
