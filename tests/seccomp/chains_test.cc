// The chain algebra that maps first-match policy rules onto libseccomp's
// model: checked against a direct first-match evaluation on many inputs.
#include <random>

#include <gtest/gtest.h>

#include "decision.h"

namespace edgeward::seccomp::internal {
namespace {

using policy::ArgCondition;
using policy::ArgOp;
using policy::SeccompAction;
using policy::SeccompActionKind;

SeccompAction E(uint16_t e) { return {SeccompActionKind::kErrno, e}; }
const SeccompAction kAllow{SeccompActionKind::kAllow, 0};

SeccompAction FirstMatch(const std::vector<Candidate>& cands, const SeccompAction& def,
                         std::span<const uint64_t, 6> args) {
  for (const Candidate& c : cands) {
    if (ChainHolds(c.chain, args)) return c.action;
  }
  return def;
}

SeccompAction Resolved(const SyscallEntry& e, const SeccompAction& def, std::span<const uint64_t, 6> args) {
  if (e.unconditional) return *e.unconditional;
  // libseccomp tries chains in its own order: any matching chain must agree.
  std::optional<SeccompAction> hit;
  for (const ChainRule& r : e.chains) {
    if (!ChainHolds(r.chain, args)) continue;
    if (hit && !(*hit == r.action)) ADD_FAILURE() << "overlapping chains with different actions";
    hit = r.action;
  }
  return hit.value_or(def);
}

std::string Describe(const Chain& c) {
  std::string s;
  for (const ArgCondition& a : c) {
    s += " a" + std::to_string(a.index) + " op" + std::to_string(static_cast<int>(a.op)) + " v" +
         std::to_string(a.value) + " m" + std::to_string(a.mask);
  }
  return s.empty() ? " always" : s;
}

std::string Describe(const std::vector<Candidate>& cands, const SyscallEntry& e) {
  std::string s = "candidates:\n";
  for (const Candidate& c : cands) s += "  " + Describe(c.chain) + " -> " + ActionName(c.action) + "\n";
  s += "resolved:\n";
  if (e.unconditional) s += "  always -> " + ActionName(*e.unconditional) + "\n";
  for (const ChainRule& r : e.chains) s += "  " + Describe(r.chain) + " -> " + ActionName(r.action) + "\n";
  return s;
}

TEST(ChainsTest, ResolvedRulesDecideLikeFirstMatchOnRandomRuleSets) {
  std::mt19937_64 rng(42);
  const ArgOp ops[] = {ArgOp::kEq, ArgOp::kNe, ArgOp::kMaskedEq, ArgOp::kLt, ArgOp::kGe};
  int resolved = 0;
  for (int round = 0; round < 400; ++round) {
    std::vector<Candidate> cands;
    int n = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i) {
      Candidate c;
      int nconds = static_cast<int>(rng() % 3);
      for (int k = 0; k < nconds; ++k) {
        ArgOp op = ops[rng() % 5];
        ArgCondition cond{static_cast<unsigned>(rng() % 2), op, rng() % 8, 0};
        if (op == ArgOp::kMaskedEq) {
          cond.mask = rng() % 8;
          cond.value &= cond.mask;
        }
        c.chain.push_back(cond);
      }
      auto chain = MakeChain(c.chain);
      if (!chain.ok() || !chain->has_value()) continue;
      c.chain = **chain;
      c.action = rng() % 3 == 0 ? kAllow : E(static_cast<uint16_t>(1 + rng() % 3));
      c.origin = "rule " + std::to_string(i);
      cands.push_back(c);
    }
    SeccompAction def = rng() % 2 ? kAllow : E(1);
    auto entry = ResolveSyscall("x", cands, def);
    if (!entry.ok()) {
      // Allowed only as the documented "can't express" error.
      EXPECT_NE(entry.status().message().find("syscall 'x'"), std::string::npos) << entry.status().message();
      continue;
    }
    ++resolved;
    for (uint64_t a0 = 0; a0 < 10; ++a0) {
      for (uint64_t a1 = 0; a1 < 10; ++a1) {
        uint64_t args[6] = {a0, a1, 0, 0, 0, 0};
        ASSERT_EQ(Resolved(*entry, def, args), FirstMatch(cands, def, args))
            << "round " << round << " a0=" << a0 << " a1=" << a1 << "\n" << Describe(cands, *entry);
      }
    }
  }
  EXPECT_GT(resolved, 300);  // most random sets are expressible
}

TEST(ChainsTest, ConditionalDenyBeforeUnconditionalAllowGetsComplement) {
  // deny socket(AF_PACKET=17) then allow socket: the rest needs "arg0 != 17".
  std::vector<Candidate> c = {{{{0, ArgOp::kEq, 17, 0}}, E(1), "deny"}, {{}, kAllow, "profile"}};
  auto e = ResolveSyscall("socket", c, E(1));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_FALSE(e->unconditional.has_value());
  ASSERT_EQ(e->chains.size(), 1u);
  EXPECT_EQ(e->chains[0].chain, (Chain{{0, ArgOp::kNe, 17, 0}}));
  EXPECT_EQ(e->chains[0].action, kAllow);
}

TEST(ChainsTest, TwoComparisonsOnOneArgumentThatCantMergeAreRejected) {
  auto c = MakeChain({{0, ArgOp::kNe, 1, 0}, {0, ArgOp::kNe, 2, 0}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("argument 0"), std::string::npos);
  // Ranges and masks on one argument merge.
  auto r = MakeChain({{0, ArgOp::kGe, 0, 0}, {0, ArgOp::kLe, 5, 0}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(**r, (Chain{{0, ArgOp::kLe, 5, 0}}));
  auto m = MakeChain({{0, ArgOp::kMaskedEq, 0, 0xf0}, {0, ArgOp::kMaskedEq, 1, 0x1}});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(**m, (Chain{{0, ArgOp::kMaskedEq, 1, 0xf1}}));
  auto never = MakeChain({{0, ArgOp::kEq, 3, 0}, {0, ArgOp::kEq, 4, 0}});
  ASSERT_TRUE(never.ok());
  EXPECT_FALSE(never->has_value());
}

TEST(ChainsTest, ActionNamesFollowTheEventContract) {
  EXPECT_EQ(ActionName(E(1)), "errno(EPERM)");
  EXPECT_EQ(ActionName(E(38)), "errno(ENOSYS)");
  EXPECT_EQ(ActionName({SeccompActionKind::kKillProcess, 0}), "kill_process");
  EXPECT_EQ(ActionName(kAllow), "allow");
}

}  // namespace
}  // namespace edgeward::seccomp::internal
