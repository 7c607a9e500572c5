// The decision table: the compiled rules of one filter in the form the
// supervisor re-evaluates in userspace, and the chain algebra that turns a
// policy's ordered, overlapping rules into libseccomp's model.
//
// libseccomp's model per syscall is either one unconditional action, or a set
// of argument chains (a conjunction of at most one comparison per argument)
// each with an action, falling through to the filter's default action; the
// order in which it tests chains is its own. Our policies are "first match
// wins" in precedence order. Resolve() rewrites the ordered rules into chains
// whose actions differ only where the chains are disjoint, so libseccomp's
// order can't matter and this table decides exactly what the BPF decides.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "edgeward/base/status.h"
#include "edgeward/policy/policy.h"
#include "edgeward/seccomp/filter.h"

namespace edgeward::seccomp::internal {

// A conjunction of conditions, sorted by argument index, at most one per
// index. Empty: always true.
using Chain = std::vector<policy::ArgCondition>;

struct ChainRule {
  Chain chain;
  policy::SeccompAction action;
  // The action is the dangerous set's denial (or a deny rule's on a
  // dangerous syscall): it holds in every mode, audit and learn included.
  bool dangerous = false;
  bool operator==(const ChainRule&) const = default;
};

struct SyscallEntry {
  std::string name;
  // Set: the whole syscall gets this action; `chains` is empty.
  std::optional<policy::SeccompAction> unconditional;
  // Otherwise: the first (any; actions differ only on disjoint chains)
  // matching chain's action, else the table's default.
  std::vector<ChainRule> chains;
  // `unconditional` is a dangerous-set denial (see ChainRule::dangerous).
  bool dangerous = false;
  bool operator==(const SyscallEntry&) const = default;
};

struct DecisionTable {
  Arch arch = Arch::kX86_64;
  policy::Mode mode = policy::Mode::kEnforce;
  policy::SeccompAction default_action;
  std::map<int, SyscallEntry> syscalls;  // by the target arch's number
  bool operator==(const DecisionTable&) const = default;
};

// True when `value` satisfies `cond` (64-bit comparison, as the BPF does).
bool CondHolds(const policy::ArgCondition& cond, uint64_t value);
bool ChainHolds(const Chain& chain, std::span<const uint64_t, 6> args);

// The table's action for `nr` with `args` (the arch check is the caller's).
policy::SeccompAction Evaluate(const DecisionTable& table, int nr, std::span<const uint64_t, 6> args);

// Evaluate() plus whether the deciding rule is a dangerous-set denial,
// which audit and learn modes never relax.
struct Evaluated {
  policy::SeccompAction action;
  bool dangerous = false;
};
Evaluated EvaluateRule(const DecisionTable& table, int nr, std::span<const uint64_t, 6> args);

// Normalises one rule's conditions into a chain: sorted, conditions on the
// same argument merged. nullopt: the conditions can never all hold.
// kInvalidArgument: two conditions on one argument libseccomp can't express.
StatusOr<std::optional<Chain>> MakeChain(const std::vector<policy::ArgCondition>& conds);

// One candidate rule for a syscall, in precedence order.
struct Candidate {
  Chain chain;  // empty: unconditional
  policy::SeccompAction action;
  std::string origin;  // for errors: "deny rule at policy.yaml:12:5", "profile baseline"
};

// Turns the ordered candidates for one syscall into a SyscallEntry (see the
// file comment). kInvalidArgument naming the syscall and the rules when
// the result can't be expressed with libseccomp's chains.
StatusOr<SyscallEntry> ResolveSyscall(const std::string& name, const std::vector<Candidate>& candidates,
                                      const policy::SeccompAction& default_action);

// The union of chains whose complement is wanted; returns the complement as a
// union of chains (absorbed). Exposed for tests.
StatusOr<std::vector<Chain>> Complement(const std::vector<Chain>& chains);

// "errno(EPERM)", "kill_process", ... as in the sandbox.violation event.
std::string ActionName(const policy::SeccompAction& action);

}  // namespace edgeward::seccomp::internal
