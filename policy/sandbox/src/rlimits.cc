#include "rlimits.h"

#include <sys/resource.h>

#include <cerrno>

#include "child_util.h"

namespace edgeward::sandbox {

bool ApplyRlimits(const RlimitPlan& plan, ChildFailure* f) {
  struct rlimit core = {0, 0};
  if (::setrlimit(RLIMIT_CORE, &core) != 0) {
    return SetChildFailure(f, "rlimits", "setrlimit", "RLIMIT_CORE 0", errno);
  }
  if (plan.nofile) {
    struct rlimit nofile = {static_cast<rlim_t>(*plan.nofile), static_cast<rlim_t>(*plan.nofile)};
    if (::setrlimit(RLIMIT_NOFILE, &nofile) != 0) {
      internal::WhatBuf what("RLIMIT_NOFILE ");
      what.AppendUnsigned(*plan.nofile);
      return SetChildFailure(f, "rlimits", "setrlimit", what.c_str(), errno);
    }
  }
  return true;
}

}  // namespace edgeward::sandbox
