// Conditions as written: a tokenizer and recursive-descent parser turn a
// condition string into this tree. Positions are byte offsets into the
// condition (Pos maps them to the file). Types and names are checked later,
// by the compiler (program.h), which knows fields, lists and macros.
//
// Grammar (lowest precedence first):
//   expr    := and ("or" and)*
//   and     := unary ("and" unary)*
//   unary   := "not" unary | primary
//   primary := "(" expr ")" | NAME                       -- a macro
//            | NAME "exists"
//            | NAME CMP value                            -- = != < <= > >=
//            | NAME (contains|startswith|endswith|glob) value
//            | NAME "in" ( "(" [value ("," value)*] ")" | NAME )
//   value   := STRING | INT | true | false | NAME        -- a bare word
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "locator.h"

namespace edgeward::rules::internal {

enum class CmpOp : uint8_t {
  kEq, kNe, kLt, kLe, kGt, kGe, kIn, kContains, kStartsWith, kEndsWith, kGlob, kExists,
};
std::string_view CmpOpName(CmpOp op);

struct Literal {
  enum class Kind : uint8_t { kString, kInt, kBool, kWord };
  Kind kind = Kind::kString;
  std::string text;  // string value, or the word
  int64_t number = 0;  // kInt, kBool (0/1)
  Pos pos;
};

struct Ast {
  enum class Kind : uint8_t { kAnd, kOr, kNot, kCompare, kMacro };
  Kind kind = Kind::kCompare;
  Pos pos;  // start of the node
  std::unique_ptr<Ast> lhs, rhs;  // kAnd/kOr: both; kNot: lhs
  std::string name;  // kCompare: field; kMacro: macro name
  CmpOp op = CmpOp::kEq;
  Pos op_pos;
  // kCompare: one value, or the items of an in-list (a bare NAME after
  // "in" is one kWord item with in_list_name set).
  std::vector<Literal> values;
  bool in_list_name = false;
};

// Longest condition accepted, and deepest nesting (the parser recurses).
inline constexpr size_t kMaxConditionBytes = 64 * 1024;
inline constexpr int kMaxConditionDepth = 100;
inline constexpr int kMaxConditionTerms = 1000;

// Parses `text` (the scalar that `loc` locates). On a syntax error adds one
// located diagnostic and returns nullptr.
std::unique_ptr<Ast> ParseCondition(std::string_view text, const Locator* loc, Diagnostics* diags);

}  // namespace edgeward::rules::internal
