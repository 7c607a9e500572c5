// Compiled conditions: a flat vector of nodes with resolved field slots and
// pooled operands, evaluated without allocation. And/Or are n-ary and
// short-circuit; macros are inlined; lists are expanded into sorted sets.
// Every comparison on a field the event lacks is false ("exists" tests it).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "condition_ast.h"
#include "edgeward/rules/event.h"
#include "locator.h"

namespace edgeward::rules::internal {

enum class Op : uint8_t {
  kAnd, kOr, kNot, kConst, kExists, kTypeIn,
  kStrEq, kStrNe, kStrIn, kStrContains, kStrStartsWith, kStrEndsWith, kStrGlob,
  kIntEq, kIntNe, kIntLt, kIntLe, kIntGt, kIntGe, kIntIn,
  kListHasStr, kListAnyIn, kIntListHas,
};

struct Node {
  Op op = Op::kConst;
  FieldId field = FieldId::kEventType;
  uint32_t a = 0;   // kAnd/kOr: first child in children_; kNot: child; string/set index
  uint32_t b = 0;   // kAnd/kOr: child count
  int64_t imm = 0;  // int operand; kTypeIn mask; kConst 0/1
};

class Program {
 public:
  // Precondition: e.type() is in type_mask() (the engine dispatches by type;
  // event-type tests implied by the mask are compiled away).
  bool Eval(const Event& e) const { return EvalNode(root_, e); }
  // Event types the condition can possibly match (a superset).
  EventTypeMask type_mask() const { return type_mask_; }
  size_t node_count() const { return nodes_.size(); }

 private:
  friend class Compiler;
  friend class Matcher;
  bool EvalNode(uint32_t i, const Event& e) const;

  std::vector<Node> nodes_;
  std::vector<uint32_t> children_;
  // A set of strings ordered by hash: membership is a search over 64-bit
  // hashes, confirmed by one byte comparison.
  struct StrSet {
    std::vector<uint64_t> hashes;      // sorted
    std::vector<std::string> strings;  // strings[i] has hashes[i]
  };
  static StrSet MakeStrSet(std::vector<std::string> items);
  static bool InStrSet(const StrSet& set, uint64_t hash, std::string_view v);

  std::vector<std::string> strings_;
  std::vector<uint64_t> string_hashes_;  // HashString(strings_[i])
  std::vector<StrSet> str_sets_;
  std::vector<std::vector<int64_t>> int_sets_;      // sorted, unique
  uint32_t root_ = 0;
  EventTypeMask type_mask_ = kAllEventTypes;
};

// "*" matches any run of bytes, "?" any one byte; everything else literally.
bool GlobMatch(std::string_view pattern, std::string_view text);

struct ListDef {
  std::vector<std::string> items;  // expanded (lists inside lists resolved)
  Pos pos;
};

struct MacroDef {
  std::unique_ptr<Ast> ast;  // null when the condition didn't parse
  Pos pos;
  enum class State : uint8_t { kUnchecked, kChecking, kOk, kBad } state = State::kUnchecked;
};

// Largest compiled condition and deepest nesting after macro expansion.
inline constexpr size_t kMaxProgramNodes = 100000;
inline constexpr int kMaxProgramDepth = 200;

class Compiler {
 public:
  Compiler(const std::map<std::string, ListDef, std::less<>>& lists,
           std::map<std::string, MacroDef, std::less<>>& macros)
      : lists_(lists), macros_(macros) {}

  // Type-checks one macro on its own, reporting its errors (once) at its
  // own location; cycles are reported at the reference that closes them.
  void CheckMacro(const std::string& name, Diagnostics* diags);
  // Compiles a rule's condition. All errors found go to diags; false if any
  // (including a reference to a macro that has errors of its own).
  bool Compile(const Ast& ast, Diagnostics* diags, Program* out);

 private:
  int64_t CompileNode(const Ast& n, int depth);
  int64_t CompileCompare(const Ast& n);
  int64_t CompileMacroRef(const Ast& n, int depth);
  int64_t Emit(Node node, EventTypeMask mask);
  void Error(const Pos& p, std::string msg);
  bool ExpandInItems(const Ast& n, std::vector<Literal>* out);

  const std::map<std::string, ListDef, std::less<>>& lists_;
  std::map<std::string, MacroDef, std::less<>>& macros_;
  std::vector<std::string> macro_stack_;
  Diagnostics* diags_ = nullptr;
  bool quiet_ = false;  // inside an already-checked macro: its errors were reported
  bool failed_ = false;
  bool limit_reported_ = false;
  Program* prog_ = nullptr;
  std::vector<EventTypeMask> masks_;
};

}  // namespace edgeward::rules::internal
