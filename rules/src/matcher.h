// The fast path that decides which rules' conditions hold for an event.
// Built once per rule set from the compiled Programs; semantically it is
// exactly "Program::Eval for every rule of the event's type, in file order"
// (Program::Eval stays the reference; tests/rules/differential_test.cc
// compares the two on generated event streams).
//
// Three things make it fast:
//  1. An index per event type. The top-level conjuncts of each condition
//     that test one field for (in)equality or membership — `f = c`,
//     `f != c`, `f in (...)`, `f exists`, their negations — depend only on
//     which of the rule set's constants the field's value equals. Each such
//     field gets a dictionary of those constants; an event's value maps to a
//     value id (absent / none of them / constant k) with one hash probe, and
//     a precomputed bitmap per value id says which rules survive all their
//     tests on that field. ANDing a few bitmaps leaves the candidate rules;
//     those conjuncts are not evaluated again.
//  2. Shared leaves. Identical leaf tests across all rules are interned;
//     string tests are memoised per event (generation counter), so
//     `action startswith "errno"` in twenty rules runs once per event.
//  3. The remaining conjuncts run cheapest first (ints before strings
//     before globs): conditions are side-effect free, so order is free.
// Match allocates nothing.
//
// Not thread-safe, not re-entrant: Match reuses scratch state, and its
// result is valid until the next Match.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "program.h"

namespace edgeward::rules::internal {

class Matcher {
 public:
  using ByType = std::array<std::vector<uint32_t>, kEventTypeCount>;

  // programs[i] is rule i's condition; by_type[t] lists the enabled rules
  // that can match type t, in file order. The programs must outlive the
  // matcher only during Build (operands are copied).
  void Build(const std::vector<const Program*>& programs, const ByType& by_type);

  // The indexes of the rules in by_type[e.type()] whose condition holds, in
  // file order. Valid until the next call.
  std::span<const uint32_t> Match(const Event& e);

  // Rules whose remaining conjuncts were run (passed the index), summed
  // over all Match calls.
  uint64_t candidates() const { return candidates_; }
  // Interned leaf tests, for tests and the bench.
  size_t leaf_count() const { return leaves_.size(); }
  // Value-indexed fields of an event type (for tests).
  size_t indexed_field_count(EventType t) const { return types_[static_cast<unsigned>(t)].fields.size(); }

 private:
  struct Leaf {
    Op op = Op::kConst;
    FieldId field = FieldId::kEventType;
    bool memo = false;  // string tests: remembered per event
    int64_t imm = 0;
    std::string str;
    uint64_t hash = 0;
    Program::StrSet set;
    std::vector<int64_t> ints;
  };
  enum class XKind : uint8_t { kLeaf, kAnd, kOr, kNot, kConst };
  struct XNode {
    XKind kind = XKind::kConst;
    uint32_t a = 0;  // kLeaf: leaf id; kAnd/kOr: first child in xkids_; kNot: child; kConst: 0/1
    uint32_t b = 0;  // kAnd/kOr: child count
    uint32_t memo = kNoMemo;  // kAnd/kOr used in several places: its slot in memo_
  };
  static constexpr uint32_t kNoMemo = UINT32_MAX;
  // A field's constants: value id 0 = absent, 1 = present but none of
  // them, 2 + k = constant k.
  struct Dict {
    bool is_string = true;
    std::vector<std::string> strs;
    std::vector<uint64_t> hashes;  // HashString(strs[k]) or the mixed int
    std::vector<int64_t> ints;
    std::vector<uint32_t> table;  // open addressing: 0 empty, else k + 1
    uint64_t mask = 0;
    size_t size() const { return is_string ? strs.size() : ints.size(); }
  };
  struct FieldIndex {
    FieldId field = FieldId::kEventType;
    uint32_t dict = 0;
    std::vector<uint64_t> masks;  // value id × words
  };
  struct TypeIndex {
    std::vector<uint32_t> rules;     // rule index per position
    uint32_t words = 0;
    std::vector<uint64_t> base;      // positions that can match at all
    std::vector<FieldIndex> fields;
    std::vector<uint32_t> residual;  // per position: XNode root, or kAlways
  };
  static constexpr uint32_t kAlways = UINT32_MAX;

  uint32_t InternLeaf(const Program& p, const Node& n);
  uint32_t Convert(const Program& p, uint32_t node);
  // Hash-consing: identical subexpressions (e.g. one macro used by many
  // rules) become one node, so a memo can share their result.
  uint32_t InternX(XNode x, const std::vector<uint32_t>& kids);
  bool EvalComposite(const XNode& x, const Event& e);
  uint32_t Cost(uint32_t x) const;
  bool EvalX(uint32_t x, const Event& e);
  bool EvalLeaf(uint32_t id, const Event& e);
  static bool ComputeLeaf(const Leaf& l, const Event& e);
  static uint32_t ValueId(const Dict& d, const Event& e, FieldId f);

  std::vector<Leaf> leaves_;
  std::vector<XNode> xnodes_;
  std::vector<uint32_t> xkids_;
  std::vector<Dict> dicts_;
  std::array<TypeIndex, kEventTypeCount> types_;
  std::unordered_map<std::string, uint32_t> leaf_ids_;  // Build only: leaf key → id
  std::unordered_map<std::string, uint32_t> xnode_ids_;  // Build only: node key → id

  // Per-event scratch (sized in Build).
  // Memo slots: leaf id for memoised leaves, then shared And/Or nodes.
  // A slot holds gen_ * 2 + result; it is valid when its gen_ matches.
  std::vector<uint32_t> memo_;
  uint32_t gen_ = 0;
  std::vector<uint64_t> cand_;
  std::vector<uint32_t> out_;
  uint64_t candidates_ = 0;
};

}  // namespace edgeward::rules::internal
