// Condition tree → Program: resolves fields, lists and macros, checks types,
// and reports every error it finds at its place in the rule file.
#include <algorithm>
#include <charconv>

#include "program.h"

namespace edgeward::rules::internal {
namespace {

std::vector<std::string_view> Keys(const auto& map) {
  std::vector<std::string_view> v;
  for (const auto& [k, _] : map) v.push_back(k);
  return v;
}

std::string Quote(const Literal& l) {
  return l.kind == Literal::Kind::kString ? "\"" + l.text + "\"" : l.text;
}

std::string_view KindName(const Literal& l) {
  switch (l.kind) {
    case Literal::Kind::kString: return "a string";
    case Literal::Kind::kInt: return "an int";
    case Literal::Kind::kBool: return "a bool";
    case Literal::Kind::kWord: return "a word";
  }
  return "?";
}

bool IsOrdering(CmpOp op) {
  return op == CmpOp::kLt || op == CmpOp::kLe || op == CmpOp::kGt || op == CmpOp::kGe;
}

bool IsStringMatch(CmpOp op) {
  return op == CmpOp::kContains || op == CmpOp::kStartsWith || op == CmpOp::kEndsWith || op == CmpOp::kGlob;
}

}  // namespace

void Compiler::Error(const Pos& p, std::string msg) {
  failed_ = true;
  if (!quiet_ && diags_ != nullptr) diags_->Add(p, std::move(msg));
}

int64_t Compiler::Emit(Node node, EventTypeMask mask) {
  prog_->nodes_.push_back(node);
  masks_.push_back(mask);
  return static_cast<int64_t>(prog_->nodes_.size() - 1);
}

void Compiler::CheckMacro(const std::string& name, Diagnostics* diags) {
  auto it = macros_.find(name);
  if (it == macros_.end() || it->second.state != MacroDef::State::kUnchecked) return;
  MacroDef& m = it->second;
  if (!m.ast) {  // its parse error is already reported
    m.state = MacroDef::State::kBad;
    return;
  }
  m.state = MacroDef::State::kChecking;
  Compiler sub(lists_, macros_);
  sub.macro_stack_ = macro_stack_;
  sub.macro_stack_.push_back(name);
  Program scratch;
  bool ok = sub.Compile(*m.ast, diags, &scratch);
  m.state = ok ? MacroDef::State::kOk : MacroDef::State::kBad;
}

bool Compiler::Compile(const Ast& ast, Diagnostics* diags, Program* out) {
  diags_ = diags;
  prog_ = out;
  failed_ = false;
  quiet_ = false;
  limit_reported_ = false;
  masks_.clear();
  *out = Program();
  int64_t root = CompileNode(ast, 0);
  if (root < 0 || failed_) return false;
  out->root_ = static_cast<uint32_t>(root);
  const EventTypeMask mask = masks_[static_cast<size_t>(root)];
  out->type_mask_ = mask;
  // The engine only evaluates a program for events whose type is in its
  // mask, so event-type tests the mask already implies are dropped.
  auto implied = [&](const Node& n) { return n.op == Op::kTypeIn && (static_cast<EventTypeMask>(n.imm) & mask) == mask; };
  Node& r = out->nodes_[out->root_];
  if (implied(r)) {
    r.op = Op::kConst;
    r.imm = 1;
  } else if (r.op == Op::kAnd) {
    uint32_t w = r.a;
    for (uint32_t k = r.a; k < r.a + r.b; ++k) {
      if (!implied(out->nodes_[out->children_[k]])) out->children_[w++] = out->children_[k];
    }
    r.b = w - r.a;
    if (r.b == 0) {
      r.op = Op::kConst;
      r.imm = 1;
    }
  }
  return true;
}

int64_t Compiler::CompileNode(const Ast& n, int depth) {
  // Size limits are reported even inside a quiet macro expansion (the macro
  // alone was fine; this use of it is not), and only once per condition.
  if (depth > kMaxProgramDepth || prog_->nodes_.size() >= kMaxProgramNodes) {
    failed_ = true;
    if (!limit_reported_ && diags_ != nullptr) {
      limit_reported_ = true;
      diags_->Add(n.pos, depth > kMaxProgramDepth
                             ? "condition nests deeper than " + std::to_string(kMaxProgramDepth) +
                                   " levels after macro expansion"
                             : "condition is larger than " + std::to_string(kMaxProgramNodes) +
                                   " nodes after macro expansion");
    }
    return -1;
  }
  switch (n.kind) {
    case Ast::Kind::kAnd:
    case Ast::Kind::kOr: {
      // Flatten a chain of the same operator into one n-ary node, so long
      // "a or b or c ..." lists don't nest (and don't recurse) deeply.
      std::vector<const Ast*> rhs;
      const Ast* cur = &n;
      while (cur->kind == n.kind) {
        rhs.push_back(cur->rhs.get());
        cur = cur->lhs.get();
      }
      std::vector<const Ast*> operands{cur};
      operands.insert(operands.end(), rhs.rbegin(), rhs.rend());
      std::vector<uint32_t> kids;
      auto node_op = [](bool and_op) { return and_op ? Op::kAnd : Op::kOr; };
      bool ok = true;
      const bool is_and = n.kind == Ast::Kind::kAnd;
      EventTypeMask mask = is_and ? kAllEventTypes : 0;
      for (const Ast* o : operands) {
        int64_t k = CompileNode(*o, depth + 1);
        if (k < 0) {
          ok = false;
          continue;
        }
        const Node& kn = prog_->nodes_[static_cast<size_t>(k)];
        if (kn.op == node_op(is_and)) {
          // Splice a nested chain of the same operator (a macro's body) into this one.
          for (uint32_t c = 0; c < kn.b; ++c) kids.push_back(prog_->children_[kn.a + c]);
        } else {
          kids.push_back(static_cast<uint32_t>(k));
        }
        mask = is_and ? (mask & masks_[static_cast<size_t>(k)]) : (mask | masks_[static_cast<size_t>(k)]);
      }
      if (!ok) return -1;
      Node node;
      node.op = is_and ? Op::kAnd : Op::kOr;
      node.a = static_cast<uint32_t>(prog_->children_.size());
      node.b = static_cast<uint32_t>(kids.size());
      prog_->children_.insert(prog_->children_.end(), kids.begin(), kids.end());
      return Emit(node, mask);
    }
    case Ast::Kind::kNot: {
      int64_t k = CompileNode(*n.lhs, depth + 1);
      if (k < 0) return -1;
      Node node;
      node.op = Op::kNot;
      node.a = static_cast<uint32_t>(k);
      return Emit(node, kAllEventTypes);
    }
    case Ast::Kind::kMacro:
      return CompileMacroRef(n, depth);
    case Ast::Kind::kCompare:
      return CompileCompare(n);
  }
  return -1;
}

int64_t Compiler::CompileMacroRef(const Ast& n, int depth) {
  auto it = macros_.find(n.name);
  if (it == macros_.end()) {
    FieldId id;
    if (FindField(n.name, &id) != nullptr) {
      Error(n.pos, "field \"" + n.name + "\" needs an operator (e.g. \"" + n.name + " exists\")");
    } else if (lists_.count(n.name) > 0) {
      Error(n.pos, "\"" + n.name + "\" is a list; use it as \"FIELD in (" + n.name + ")\"");
    } else {
      std::vector<std::string_view> names = Keys(macros_);
      for (auto f : AllFieldNames()) names.push_back(f);
      Error(n.pos, "unknown macro \"" + n.name + "\"" + DidYouMean(n.name, names));
    }
    return -1;
  }
  MacroDef& m = it->second;
  if (m.state == MacroDef::State::kChecking) {
    std::string path;
    bool on = false;
    for (const auto& s : macro_stack_) {
      if (s == n.name) on = true;
      if (on) path += s + " -> ";
    }
    Error(n.pos, "macro cycle: " + path + n.name);
    return -1;
  }
  if (m.state == MacroDef::State::kUnchecked) CheckMacro(n.name, diags_);
  if (m.state != MacroDef::State::kOk) {
    failed_ = true;  // the macro's own errors are reported where it is defined
    return -1;
  }
  bool was_quiet = quiet_;
  quiet_ = true;
  int64_t k = CompileNode(*m.ast, depth + 1);
  quiet_ = was_quiet;
  return k;
}

bool Compiler::ExpandInItems(const Ast& n, std::vector<Literal>* out) {
  bool ok = true;
  for (const Literal& lit : n.values) {
    if (lit.kind == Literal::Kind::kWord) {
      auto it = lists_.find(lit.text);
      if (it != lists_.end()) {
        for (const std::string& item : it->second.items) {
          Literal l;
          l.pos = lit.pos;
          l.text = item;
          const char* end = item.data() + item.size();
          auto [p, ec] = std::from_chars(item.data(), end, l.number);
          l.kind = (!item.empty() && ec == std::errc() && p == end) ? Literal::Kind::kInt : Literal::Kind::kWord;
          out->push_back(std::move(l));
        }
        continue;
      }
      std::string hint = DidYouMean(lit.text, Keys(lists_));
      if (n.in_list_name || !hint.empty()) {
        Error(lit.pos, "unknown list \"" + lit.text + "\"" + hint +
                           (n.in_list_name ? "" : "; quote it if it is a value"));
        ok = false;
        continue;
      }
    }
    out->push_back(lit);
  }
  return ok;
}

int64_t Compiler::CompileCompare(const Ast& n) {
  FieldId id;
  const FieldInfo* info = FindField(n.name, &id);
  if (info == nullptr) {
    if (macros_.count(n.name) > 0) {
      Error(n.pos, "\"" + n.name + "\" is a macro; a macro takes no operator");
    } else {
      Error(n.pos, "unknown field \"" + n.name + "\"" + DidYouMean(n.name, AllFieldNames()));
    }
    return -1;
  }
  const EventTypeMask mask = info->carried_by;
  const std::string field(info->name);
  const std::string op_name(CmpOpName(n.op));
  Node node;
  node.field = id;
  if (n.op == CmpOp::kExists) {
    node.op = Op::kExists;
    return Emit(node, mask);
  }
  auto op_error = [&](std::string_view takes) {
    Error(n.op_pos, "operator \"" + op_name + "\" does not apply to " + std::string(FieldTypeName(info->type)) +
                        " field " + field + " (it takes " + std::string(takes) + ")");
    return -1;
  };
  auto type_error = [&](const Literal& l, std::string_view want) {
    Error(l.pos, "type mismatch: " + field + " is " + std::string(want) + ", but " + Quote(l) + " is " +
                     std::string(KindName(l)) +
                     (want == "a string" && l.kind != Literal::Kind::kString ? " (quote it)" : ""));
    return false;
  };

  std::vector<Literal> items;
  if (n.op == CmpOp::kIn) {
    if (!ExpandInItems(n, &items)) return -1;
  } else {
    items.push_back(n.values.at(0));
  }

  // event.type against type names compiles to a bit test on the event's type.
  if (id == FieldId::kEventType && (n.op == CmpOp::kEq || n.op == CmpOp::kNe || n.op == CmpOp::kIn)) {
    EventTypeMask bits = 0;
    bool ok = true;
    for (const Literal& l : items) {
      EventType t;
      if (l.kind != Literal::Kind::kString && l.kind != Literal::Kind::kWord) {
        ok = type_error(l, "a string");
      } else if (!ParseEventTypeName(l.text, &t)) {
        Error(l.pos, "unknown event type \"" + l.text + "\"" + DidYouMean(l.text, AllEventTypeNames()));
        ok = false;
      } else {
        bits |= 1u << static_cast<unsigned>(t);
      }
    }
    if (!ok) return -1;
    node.op = Op::kTypeIn;
    node.imm = bits;
    int64_t k = Emit(node, bits);
    if (n.op != CmpOp::kNe) return k;
    Node neg;
    neg.op = Op::kNot;
    neg.a = static_cast<uint32_t>(k);
    return Emit(neg, kAllEventTypes);
  }

  switch (info->type) {
    case FieldType::kString: {
      if (IsOrdering(n.op)) return op_error("=, !=, in, contains, startswith, endswith, glob, exists");
      bool ok = true;
      for (const Literal& l : items) {
        if (l.kind != Literal::Kind::kString && l.kind != Literal::Kind::kWord) ok = type_error(l, "a string");
      }
      if (!ok) return -1;
      if (n.op == CmpOp::kIn) {
        std::vector<std::string> set;
        for (const Literal& l : items) set.push_back(l.text);
        node.op = Op::kStrIn;
        node.a = static_cast<uint32_t>(prog_->str_sets_.size());
        prog_->str_sets_.push_back(Program::MakeStrSet(std::move(set)));
        return Emit(node, mask);
      }
      const Literal& l = items[0];
      if (l.kind == Literal::Kind::kWord && lists_.count(l.text) > 0) {
        Error(l.pos, "\"" + l.text + "\" is a list; write \"" + field + " in (" + l.text + ")\"");
        return -1;
      }
      node.op = n.op == CmpOp::kEq ? Op::kStrEq : n.op == CmpOp::kNe ? Op::kStrNe
              : n.op == CmpOp::kContains ? Op::kStrContains : n.op == CmpOp::kStartsWith ? Op::kStrStartsWith
              : n.op == CmpOp::kEndsWith ? Op::kStrEndsWith : Op::kStrGlob;
      node.a = static_cast<uint32_t>(prog_->strings_.size());
      prog_->strings_.push_back(l.text);
      prog_->string_hashes_.push_back(HashString(l.text));
      return Emit(node, mask);
    }
    case FieldType::kInt: {
      if (IsStringMatch(n.op)) return op_error("=, !=, <, <=, >, >=, in, exists");
      bool ok = true;
      for (const Literal& l : items) {
        if (l.kind != Literal::Kind::kInt) ok = type_error(l, "an int");
      }
      if (!ok) return -1;
      if (n.op == CmpOp::kIn) {
        std::vector<int64_t> set;
        for (const Literal& l : items) set.push_back(l.number);
        std::sort(set.begin(), set.end());
        set.erase(std::unique(set.begin(), set.end()), set.end());
        node.op = Op::kIntIn;
        node.a = static_cast<uint32_t>(prog_->int_sets_.size());
        prog_->int_sets_.push_back(std::move(set));
        return Emit(node, mask);
      }
      node.op = n.op == CmpOp::kEq ? Op::kIntEq : n.op == CmpOp::kNe ? Op::kIntNe : n.op == CmpOp::kLt ? Op::kIntLt
              : n.op == CmpOp::kLe ? Op::kIntLe : n.op == CmpOp::kGt ? Op::kIntGt : Op::kIntGe;
      node.imm = items[0].number;
      return Emit(node, mask);
    }
    case FieldType::kBool: {
      if (n.op != CmpOp::kEq && n.op != CmpOp::kNe) return op_error("=, !=, exists");
      if (items[0].kind != Literal::Kind::kBool) {
        type_error(items[0], "a bool (true or false)");
        return -1;
      }
      node.op = n.op == CmpOp::kEq ? Op::kIntEq : Op::kIntNe;
      node.imm = items[0].number;
      return Emit(node, mask);
    }
    case FieldType::kStringList: {
      if (n.op != CmpOp::kContains && n.op != CmpOp::kIn) return op_error("contains, in (any element), exists");
      bool ok = true;
      for (const Literal& l : items) {
        if (l.kind != Literal::Kind::kString && l.kind != Literal::Kind::kWord) ok = type_error(l, "a list of strings");
      }
      if (!ok) return -1;
      if (n.op == CmpOp::kContains) {
        node.op = Op::kListHasStr;
        node.a = static_cast<uint32_t>(prog_->strings_.size());
        prog_->strings_.push_back(items[0].text);
        prog_->string_hashes_.push_back(HashString(items[0].text));
        return Emit(node, mask);
      }
      std::vector<std::string> set;
      for (const Literal& l : items) set.push_back(l.text);
      node.op = Op::kListAnyIn;
      node.a = static_cast<uint32_t>(prog_->str_sets_.size());
      prog_->str_sets_.push_back(Program::MakeStrSet(std::move(set)));
      return Emit(node, mask);
    }
    case FieldType::kIntList: {
      if (n.op != CmpOp::kContains) return op_error("contains, exists");
      if (items[0].kind != Literal::Kind::kInt) {
        type_error(items[0], "a list of ints");
        return -1;
      }
      node.op = Op::kIntListHas;
      node.imm = items[0].number;
      return Emit(node, mask);
    }
  }
  return -1;
}

}  // namespace edgeward::rules::internal
