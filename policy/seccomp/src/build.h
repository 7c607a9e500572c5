// The compiler's internal stages: policy → decision table → BPF programs.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "decision.h"
#include "edgeward/base/status.h"
#include "edgeward/policy/policy.h"

namespace edgeward::seccomp::internal {

struct BuiltTable {
  DecisionTable table;
  std::vector<std::string> skipped;  // names skipped (unknown / other arch), sorted
};

// Base profile + dangerous set + policy rules → the decision table for `arch`.
// Errors: the profile's (located), or a rule set libseccomp can't express.
StatusOr<BuiltTable> BuildTable(const policy::WorkloadPolicy& policy, Arch arch);

struct Programs {
  std::vector<sock_filter> main;
  std::vector<sock_filter> sendmsg;
  bool needs_supervisor = false;
};

// The decision table → BPF with libseccomp (binary-tree optimisation,
// bad-arch kill_process). `supervise`: violations become user notifications
// as the table's mode says; false: native actions.
StatusOr<Programs> CompilePrograms(const DecisionTable& table, bool supervise);

// A stable text form of the table (the cache key hashes it).
std::string CanonicalTable(const DecisionTable& table);

// The syscalls learn mode lets through without a notification (hot and
// harmless); the supervisor records them as used.
const std::vector<std::string>& LearnCore();

// "seccomp_rule_add(openat): Invalid argument" from libseccomp's -errno.
Status ScmpStatus(std::string_view call, std::string_view what, int rc);

}  // namespace edgeward::seccomp::internal
