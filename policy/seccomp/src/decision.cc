#include "decision.h"

#include <string.h>

#include <algorithm>
#include <limits>
#include <utility>

namespace edgeward::seccomp::internal {
namespace {

using policy::ArgCondition;
using policy::ArgOp;

constexpr uint64_t kAll = std::numeric_limits<uint64_t>::max();
// Beyond this many chains for one syscall the filter would be slower than
// the rule is worth; the policy is rejected instead.
constexpr size_t kMaxChains = 512;

bool IsMaskType(const ArgCondition& c) { return c.op == ArgOp::kEq || c.op == ArgOp::kMaskedEq; }
uint64_t MaskOf(const ArgCondition& c) { return c.op == ArgOp::kEq ? kAll : c.mask; }

ArgCondition MaskCond(unsigned index, uint64_t mask, uint64_t value) {
  if (mask == kAll) return {index, ArgOp::kEq, value, 0};
  return {index, ArgOp::kMaskedEq, value, mask};
}

// [lo, hi] of a range condition; nullopt when the range is empty.
std::optional<std::pair<uint64_t, uint64_t>> RangeOf(const ArgCondition& c) {
  switch (c.op) {
    case ArgOp::kLt:
      if (c.value == 0) return std::nullopt;
      return std::pair{uint64_t{0}, c.value - 1};
    case ArgOp::kLe: return std::pair{uint64_t{0}, c.value};
    case ArgOp::kGt:
      if (c.value == kAll) return std::nullopt;
      return std::pair{c.value + 1, kAll};
    case ArgOp::kGe: return std::pair{c.value, kAll};
    default: return std::nullopt;
  }
}
bool IsRange(const ArgCondition& c) {
  return c.op == ArgOp::kLt || c.op == ArgOp::kLe || c.op == ArgOp::kGt || c.op == ArgOp::kGe;
}
// The condition for [lo, hi] when one comparison can say it.
std::optional<ArgCondition> RangeCond(unsigned index, uint64_t lo, uint64_t hi) {
  if (lo == hi) return ArgCondition{index, ArgOp::kEq, lo, 0};
  if (lo == 0) return ArgCondition{index, ArgOp::kLe, hi, 0};
  if (hi == kAll) return ArgCondition{index, ArgOp::kGe, lo, 0};
  return std::nullopt;
}

enum class Merge { kOk, kEmpty, kUnrepresentable };

// a AND b for two conditions on the same argument.
Merge MergeConds(const ArgCondition& a, const ArgCondition& b, ArgCondition* out) {
  if (a == b) {
    *out = a;
    return Merge::kOk;
  }
  if (a.op == ArgOp::kEq || b.op == ArgOp::kEq) {
    const ArgCondition& eq = a.op == ArgOp::kEq ? a : b;
    const ArgCondition& other = a.op == ArgOp::kEq ? b : a;
    if (!CondHolds(other, eq.value)) return Merge::kEmpty;
    *out = eq;
    return Merge::kOk;
  }
  if (IsMaskType(a) && IsMaskType(b)) {
    uint64_t ma = MaskOf(a), mb = MaskOf(b);
    if ((a.value & ~ma) != 0 || (b.value & ~mb) != 0) return Merge::kEmpty;
    if (((a.value ^ b.value) & ma & mb) != 0) return Merge::kEmpty;
    *out = MaskCond(a.index, ma | mb, a.value | b.value);
    return Merge::kOk;
  }
  if (IsRange(a) && IsRange(b)) {
    auto ra = RangeOf(a), rb = RangeOf(b);
    if (!ra || !rb) return Merge::kEmpty;
    uint64_t lo = std::max(ra->first, rb->first), hi = std::min(ra->second, rb->second);
    if (lo > hi) return Merge::kEmpty;
    auto c = RangeCond(a.index, lo, hi);
    if (!c) return Merge::kUnrepresentable;
    *out = *c;
    return Merge::kOk;
  }
  // NE with something: fine when the excluded value isn't in the other set.
  if (a.op == ArgOp::kNe || b.op == ArgOp::kNe) {
    const ArgCondition& ne = a.op == ArgOp::kNe ? a : b;
    const ArgCondition& other = a.op == ArgOp::kNe ? b : a;
    if (other.op != ArgOp::kNe && !CondHolds(other, ne.value)) {
      *out = other;
      return Merge::kOk;
    }
    if (other.op == ArgOp::kMaskedEq && other.mask == 0 && other.value == 0) {
      *out = ne;
      return Merge::kOk;
    }
    return Merge::kUnrepresentable;
  }
  // A range and a mask: only the trivial mask (always true) merges.
  const ArgCondition& mask = IsMaskType(a) ? a : b;
  const ArgCondition& range = IsMaskType(a) ? b : a;
  if (mask.mask == 0 && mask.value == 0) {
    *out = range;
    return Merge::kOk;
  }
  auto r = RangeOf(range);
  if (!r) return Merge::kEmpty;
  return Merge::kUnrepresentable;
}

// a AND b for chains.
Merge Intersect(const Chain& a, const Chain& b, Chain* out) {
  Chain result;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].index < b[j].index)) {
      result.push_back(a[i++]);
    } else if (i == a.size() || b[j].index < a[i].index) {
      result.push_back(b[j++]);
    } else {
      ArgCondition merged;
      Merge m = MergeConds(a[i], b[j], &merged);
      if (m != Merge::kOk) return m;
      result.push_back(merged);
      ++i;
      ++j;
    }
  }
  *out = std::move(result);
  return Merge::kOk;
}

// Does every value satisfying `x` satisfy `y` (same index)?
bool CondImplies(const ArgCondition& x, const ArgCondition& y) {
  if (x == y) return true;
  if (x.op == ArgOp::kEq) return CondHolds(y, x.value);
  if (IsMaskType(x) && IsMaskType(y)) {
    uint64_t mx = MaskOf(x), my = MaskOf(y);
    return (my & ~mx) == 0 && ((x.value ^ y.value) & my) == 0;
  }
  if (IsRange(x) && IsRange(y)) {
    auto rx = RangeOf(x), ry = RangeOf(y);
    if (!rx) return true;
    if (!ry) return false;
    return ry->first <= rx->first && rx->second <= ry->second;
  }
  if (y.op == ArgOp::kNe && IsRange(x)) {
    auto rx = RangeOf(x);
    return !rx || y.value < rx->first || y.value > rx->second;
  }
  return false;
}

// Is every value in `x` also in `y`?
bool ChainImplies(const Chain& x, const Chain& y) {
  for (const ArgCondition& cy : y) {
    auto it = std::find_if(x.begin(), x.end(), [&](const ArgCondition& c) { return c.index == cy.index; });
    if (it == x.end() || !CondImplies(*it, cy)) return false;
  }
  return true;
}

// Drops chains contained in another chain of the list.
void Absorb(std::vector<Chain>& chains) {
  std::vector<bool> absorbed(chains.size(), false);
  for (size_t i = 0; i < chains.size(); ++i) {
    for (size_t j = 0; j < chains.size() && !absorbed[i]; ++j) {
      if (i == j || absorbed[j] || !ChainImplies(chains[i], chains[j])) continue;
      // Identical chains: keep the first only.
      absorbed[i] = !ChainImplies(chains[j], chains[i]) || j < i;
    }
  }
  std::vector<Chain> kept;
  for (size_t i = 0; i < chains.size(); ++i) {
    if (!absorbed[i]) kept.push_back(std::move(chains[i]));
  }
  chains = std::move(kept);
}

// NOT cond, as a union of chains.
std::vector<Chain> Negate(const ArgCondition& c) {
  unsigned i = c.index;
  switch (c.op) {
    case ArgOp::kEq: return {{{i, ArgOp::kNe, c.value, 0}}};
    case ArgOp::kNe: return {{{i, ArgOp::kEq, c.value, 0}}};
    case ArgOp::kLt: return {{{i, ArgOp::kGe, c.value, 0}}};
    case ArgOp::kLe: return {{{i, ArgOp::kGt, c.value, 0}}};
    case ArgOp::kGt: return {{{i, ArgOp::kLe, c.value, 0}}};
    case ArgOp::kGe: return {{{i, ArgOp::kLt, c.value, 0}}};
    case ArgOp::kMaskedEq: {
      if ((c.value & ~c.mask) != 0) return {Chain{}};  // never holds: NOT is "always"
      std::vector<Chain> out;
      for (int b = 0; b < 64; ++b) {
        uint64_t bit = uint64_t{1} << b;
        if ((c.mask & bit) != 0) out.push_back({MaskCond(i, bit, ~c.value & bit)});
      }
      return out;  // mask 0 always holds: NOT is "never" (empty union)
    }
  }
  return {};
}

std::string ChainText(const Chain& chain) {
  static constexpr const char* kOps[] = {"==", "!=", "<", "<=", ">", ">=", "&"};
  std::string s;
  for (const ArgCondition& c : chain) {
    if (!s.empty()) s += " && ";
    s += "arg" + std::to_string(c.index) + " " + kOps[static_cast<int>(c.op)] + " ";
    if (c.op == ArgOp::kMaskedEq) {
      s += std::to_string(c.mask) + " == " + std::to_string(c.value);
    } else {
      s += std::to_string(c.value);
    }
  }
  return s.empty() ? "always" : s;
}

}  // namespace

bool CondHolds(const ArgCondition& c, uint64_t v) {
  switch (c.op) {
    case ArgOp::kEq: return v == c.value;
    case ArgOp::kNe: return v != c.value;
    case ArgOp::kLt: return v < c.value;
    case ArgOp::kLe: return v <= c.value;
    case ArgOp::kGt: return v > c.value;
    case ArgOp::kGe: return v >= c.value;
    case ArgOp::kMaskedEq: return (v & c.mask) == c.value;
  }
  return false;
}

bool ChainHolds(const Chain& chain, std::span<const uint64_t, 6> args) {
  for (const ArgCondition& c : chain) {
    if (c.index >= 6 || !CondHolds(c, args[c.index])) return false;
  }
  return true;
}

policy::SeccompAction Evaluate(const DecisionTable& table, int nr, std::span<const uint64_t, 6> args) {
  return EvaluateRule(table, nr, args).action;
}

Evaluated EvaluateRule(const DecisionTable& table, int nr, std::span<const uint64_t, 6> args) {
  auto it = table.syscalls.find(nr);
  if (it == table.syscalls.end()) return {table.default_action, false};
  const SyscallEntry& e = it->second;
  if (e.unconditional) return {*e.unconditional, e.dangerous};
  for (const ChainRule& r : e.chains) {
    if (ChainHolds(r.chain, args)) return {r.action, r.dangerous};
  }
  return {table.default_action, false};
}

StatusOr<std::optional<Chain>> MakeChain(const std::vector<ArgCondition>& conds) {
  Chain chain;
  for (const ArgCondition& c : conds) {
    if (c.index > 5) return InvalidArgument("argument index " + std::to_string(c.index) + " (must be 0..5)");
    Chain one{c};
    if (c.op == ArgOp::kMaskedEq && (c.value & ~c.mask) != 0) return std::optional<Chain>();
    Chain merged;
    Merge m = Intersect(chain, one, &merged);
    if (m == Merge::kEmpty) return std::optional<Chain>();
    if (m == Merge::kUnrepresentable) {
      return InvalidArgument("conditions on argument " + std::to_string(c.index) +
                             " can't be combined into one comparison (libseccomp allows one per argument)");
    }
    chain = std::move(merged);
  }
  // A mask of 0 with value 0 always holds; drop it so "always" is empty.
  std::erase_if(chain, [](const ArgCondition& c) { return c.op == ArgOp::kMaskedEq && c.mask == 0; });
  return std::optional<Chain>(std::move(chain));
}

StatusOr<std::vector<Chain>> Complement(const std::vector<Chain>& chains) {
  std::vector<Chain> result{Chain{}};
  for (const Chain& c : chains) {
    std::vector<Chain> neg;
    for (const ArgCondition& cond : c) {
      for (Chain& n : Negate(cond)) neg.push_back(std::move(n));
    }
    // Absorb() is quadratic: refuse before the product gets large.
    if (result.size() * neg.size() > 8 * kMaxChains) return InvalidArgument("more than 512 argument chains");
    std::vector<Chain> next;
    for (const Chain& r : result) {
      for (const Chain& n : neg) {
        Chain merged;
        Merge m = Intersect(r, n, &merged);
        if (m == Merge::kEmpty) continue;
        if (m == Merge::kUnrepresentable) {
          return InvalidArgument("the complement of '" + ChainText(c) +
                                 "' needs two comparisons on one argument");
        }
        std::erase_if(merged, [](const ArgCondition& x) { return x.op == ArgOp::kMaskedEq && x.mask == 0; });
        next.push_back(std::move(merged));
      }
    }
    Absorb(next);
    if (next.size() > kMaxChains) return InvalidArgument("more than 512 argument chains");
    result = std::move(next);
  }
  return result;
}

StatusOr<SyscallEntry> ResolveSyscall(const std::string& name, const std::vector<Candidate>& candidates,
                                      const policy::SeccompAction& default_action) {
  SyscallEntry entry;
  entry.name = name;
  std::vector<ChainRule> emitted;
  policy::SeccompAction terminal = default_action;
  auto fail = [&](const Candidate& c, const Status& s) {
    return InvalidArgument("syscall '" + name + "': " + c.origin + ": " + s.message());
  };
  for (const Candidate& cand : candidates) {
    if (cand.chain.empty()) {
      terminal = cand.action;
      break;
    }
    // First match wins: this rule only gets what earlier rules with another
    // action left over.
    std::vector<Chain> pieces{cand.chain};
    for (const ChainRule& earlier : emitted) {
      if (earlier.action == cand.action) continue;
      auto not_earlier = Complement({earlier.chain});
      if (!not_earlier.ok()) return fail(cand, not_earlier.status());
      if (pieces.size() * not_earlier->size() > 8 * kMaxChains) {
        return fail(cand, InvalidArgument("more than 512 argument chains"));
      }
      std::vector<Chain> next;
      for (const Chain& p : pieces) {
        for (const Chain& n : *not_earlier) {
          Chain merged;
          Merge m = Intersect(p, n, &merged);
          if (m == Merge::kEmpty) continue;
          if (m == Merge::kUnrepresentable) {
            return fail(cand, InvalidArgument("overlaps an earlier rule with another action ('" +
                                              ChainText(earlier.chain) +
                                              "') in a way libseccomp can't express"));
          }
          next.push_back(std::move(merged));
        }
      }
      Absorb(next);
      if (next.size() > kMaxChains) return fail(cand, InvalidArgument("more than 512 argument chains"));
      pieces = std::move(next);
    }
    for (Chain& p : pieces) emitted.push_back({std::move(p), cand.action});
  }
  if (!(terminal == default_action)) {
    std::vector<Chain> others;
    for (const ChainRule& r : emitted) {
      if (!(r.action == terminal)) others.push_back(r.chain);
    }
    auto rest = Complement(others);
    if (!rest.ok()) {
      return InvalidArgument("syscall '" + name + "': rules with argument conditions followed by " +
                             ActionName(terminal) + " for the rest: " + rest.status().message());
    }
    // Chains with the default action fall through to it anyway (chains
    // with different actions are disjoint, so dropping them changes nothing).
    std::erase_if(emitted, [&](const ChainRule& r) { return r.action == terminal || r.action == default_action; });
    for (Chain& c : *rest) emitted.push_back({std::move(c), terminal});
  } else {
    std::erase_if(emitted, [&](const ChainRule& r) { return r.action == default_action; });
  }
  // A chain that always holds makes the syscall unconditional.
  for (const ChainRule& r : emitted) {
    if (r.chain.empty()) {
      entry.unconditional = r.action;
      return entry;
    }
  }
  if (emitted.empty() && !(terminal == default_action)) {
    entry.unconditional = terminal;
    return entry;
  }
  // Identical chain with identical action may repeat from several rules.
  std::vector<ChainRule> unique;
  for (ChainRule& r : emitted) {
    if (std::find(unique.begin(), unique.end(), r) == unique.end()) unique.push_back(std::move(r));
  }
  if (unique.size() > kMaxChains) return InvalidArgument("syscall '" + name + "': more than 512 argument chains");
  entry.chains = std::move(unique);
  return entry;
}

std::string ActionName(const policy::SeccompAction& a) {
  using K = policy::SeccompActionKind;
  switch (a.kind) {
    case K::kAllow: return "allow";
    case K::kErrno: {
      const char* n = strerrorname_np(a.errno_value);
      return "errno(" + (n != nullptr ? std::string(n) : std::to_string(a.errno_value)) + ")";
    }
    case K::kKillProcess: return "kill_process";
    case K::kKillThread: return "kill_thread";
    case K::kTrap: return "trap";
    case K::kLog: return "log";
    case K::kNotify: return "notify";
  }
  return "unknown";
}

}  // namespace edgeward::seccomp::internal
