#include "capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <optional>

#include "child_util.h"
#include "edgeward/base/file.h"
#include "edgeward/policy/capabilities.h"

namespace edgeward::sandbox {
namespace {

bool Fail(ChildFailure* f, const char* call, const char* what) {
  return SetChildFailure(f, "capabilities", call, what, errno);
}

}  // namespace

StatusOr<int> CapabilityFromName(const std::string& name) {
  std::optional<int> cap = policy::CapabilityNumber(policy::CanonicalCapabilityName(name));
  if (!cap || *cap < 0 || *cap > 63) return InvalidArgument("unknown capability '" + name + "'");
  return *cap;
}

StatusOr<CapabilityPlan> MakeCapabilityPlan(const std::vector<std::string>& kept,
                                            bool nonroot_workload) {
  CapabilityPlan plan;
  for (const std::string& name : kept) {
    EW_ASSIGN_OR_RETURN(int cap, CapabilityFromName(name));
    plan.keep |= uint64_t{1} << cap;
  }
  // The running kernel may know more capabilities than our table (all of
  // them must go from the bounding set) or fewer (dropping one it doesn't
  // know is EINVAL).
  auto last = ReadFileToString("/proc/sys/kernel/cap_last_cap", 64);
  if (last.ok()) {
    int v = 0;
    auto [ptr, ec] = std::from_chars(last->data(), last->data() + last->size(), v);
    if (ec == std::errc() && v > 0 && v < 64) plan.last_cap = v;
  }
  plan.keep &= plan.last_cap == 63 ? ~uint64_t{0} : ((uint64_t{1} << (plan.last_cap + 1)) - 1);
  plan.ambient = nonroot_workload && plan.keep != 0;
  return plan;
}

bool DropBoundingSet(const CapabilityPlan& plan, ChildFailure* f) {
  for (int cap = 0; cap <= plan.last_cap; ++cap) {
    if (plan.keep & (uint64_t{1} << cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      internal::WhatBuf what("PR_CAPBSET_DROP ");
      what.AppendUnsigned(static_cast<unsigned>(cap));
      return Fail(f, "prctl", what.c_str());
    }
  }
  if (plan.ambient && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
    return Fail(f, "prctl", "PR_SET_KEEPCAPS");
  }
  return true;
}

bool ApplyCapabilities(const CapabilityPlan& plan, ChildFailure* f) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    uint32_t word = static_cast<uint32_t>(plan.keep >> (32 * i));
    data[i].effective = word;
    data[i].permitted = word;
    data[i].inheritable = word;
  }
  if (::syscall(SYS_capset, &header, data) != 0) return Fail(f, "capset", "kept set");
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    return Fail(f, "prctl", "PR_CAP_AMBIENT_CLEAR_ALL");
  }
  if (plan.ambient) {
    for (int cap = 0; cap <= plan.last_cap; ++cap) {
      if (!(plan.keep & (uint64_t{1} << cap))) continue;
      if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
        internal::WhatBuf what("PR_CAP_AMBIENT_RAISE ");
        what.AppendUnsigned(static_cast<unsigned>(cap));
        return Fail(f, "prctl", what.c_str());
      }
    }
  }
  // Read back: the permitted set must be exactly what we keep.
  struct __user_cap_data_struct seen[2] = {};
  header = {_LINUX_CAPABILITY_VERSION_3, 0};
  if (::syscall(SYS_capget, &header, seen) != 0) return Fail(f, "capget", nullptr);
  uint64_t permitted = uint64_t{seen[0].permitted} | (uint64_t{seen[1].permitted} << 32);
  if (permitted != plan.keep) {
    errno = EPERM;
    return Fail(f, "capget", "permitted set differs from the kept set");
  }
  return true;
}

}  // namespace edgeward::sandbox
