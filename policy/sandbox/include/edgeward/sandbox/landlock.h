// Landlock for a workload: which filesystem hierarchies, TCP ports and
// scopes the confined process may use, decided in the parent from the policy
// and applied in the child after pivot_root and no_new_privs
// (docs/landlock.md).
//
// Landlock complements the mount layout: a read-only bind already refuses
// writes, but Landlock also refuses executing from tmpfs, writing device
// nodes other than the few the launcher provides, TCP bind/connect to
// unlisted ports (ABI >= 4), and signals / abstract unix sockets reaching
// outside the sandbox (ABI >= 6). Rights the kernel's ABI can't express are
// listed in degraded(), never silently dropped.
//
// Ownership: a plan owns its path strings. The child reads them in place
// (no allocation), so the plan must outlive the child's Apply() call (it
// does when the launcher holds it across clone()). Plain value; const
// methods are safe to call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgeward/base/status.h"
#include "edgeward/policy/policy.h"
#include "edgeward/sandbox/child_failure.h"

namespace edgeward::sandbox {

// Landlock rules for a workload, decided in the parent, applied in the child.
class LandlockPlan {
 public:
  // The newest Landlock ABI whose rights this code knows; a newer kernel is
  // used at this level (newer rights stay unhandled, i.e. unrestricted, and
  // are reported in degraded()).
  static constexpr int kNewestKnownAbi = 7;

  // Parent side (allocation allowed). `abi` from policy::LandlockAbi(); 0 =
  // no Landlock. Errors: kInvalidArgument for a negative ABI or a path that
  // is not absolute or is longer than PATH_MAX.
  static StatusOr<LandlockPlan> Make(const policy::FilesystemSpec& fs,
                                     const policy::NetworkSpec& net, int abi);

  // The launcher's entry point: Make() with the policy's mode applied.
  // enforce and audit: rules enforced (Landlock has no permissive mode; in
  // audit, ABI >= 7 also asks the kernel to log the workload's denials to
  // the audit log). learn: nothing applied (learn must see every path and
  // port the workload touches), and degraded() says so.
  static StatusOr<LandlockPlan> ForPolicy(const policy::WorkloadPolicy& policy, int abi);

  // Child side, after pivot_root (paths are the same names inside the new
  // root) and no_new_privs: syscalls only, no allocation, no exceptions.
  // Returns false with `failure` filled (step "landlock"), naming the call
  // and the path (a policy path missing from the sandbox is a failure; the
  // launcher's own /dev entries are skipped when absent). Returns true
  // without doing anything when abi() is 0.
  bool Apply(ChildFailure* failure) const;

  // What this kernel's ABI can't enforce, as sentences
  // ("Landlock ABI 3: TCP bind/connect rules not enforced").
  const std::vector<std::string>& degraded() const { return degraded_; }
  // The ABI the plan was made for, capped at kNewestKnownAbi; 0 = Landlock
  // not applied.
  int abi() const { return abi_; }

  // For tests and `policy explain`: the rights handled by the ruleset and
  // the rules, as they will be applied.
  struct PathRule {
    std::string path;
    uint64_t access = 0;    // LANDLOCK_ACCESS_FS_* (dir rights dropped for files)
    bool optional = false;  // launcher-provided: skipped if absent
  };
  uint64_t handled_access_fs() const { return handled_access_fs_; }
  uint64_t handled_access_net() const { return handled_access_net_; }
  uint64_t scoped() const { return scoped_; }
  const std::vector<PathRule>& path_rules() const { return path_rules_; }
  const std::vector<uint16_t>& tcp_bind() const { return tcp_bind_; }
  const std::vector<uint16_t>& tcp_connect() const { return tcp_connect_; }

 private:
  LandlockPlan() = default;

  int abi_ = 0;
  uint64_t handled_access_fs_ = 0;
  uint64_t handled_access_net_ = 0;
  uint64_t scoped_ = 0;
  uint32_t restrict_flags_ = 0;  // landlock_restrict_self() flags
  std::vector<PathRule> path_rules_;
  std::vector<uint16_t> tcp_bind_;
  std::vector<uint16_t> tcp_connect_;
  std::vector<std::string> degraded_;
};

}  // namespace edgeward::sandbox
