// Hand-written tokenizer and recursive-descent parser for conditions. It only
// builds the tree; names and types are the compiler's business.
#include <charconv>

#include "condition_ast.h"

namespace edgeward::rules::internal {

std::string_view CmpOpName(CmpOp op) {
  switch (op) {
    case CmpOp::kEq: return "=";
    case CmpOp::kNe: return "!=";
    case CmpOp::kLt: return "<";
    case CmpOp::kLe: return "<=";
    case CmpOp::kGt: return ">";
    case CmpOp::kGe: return ">=";
    case CmpOp::kIn: return "in";
    case CmpOp::kContains: return "contains";
    case CmpOp::kStartsWith: return "startswith";
    case CmpOp::kEndsWith: return "endswith";
    case CmpOp::kGlob: return "glob";
    case CmpOp::kExists: return "exists";
  }
  return "?";
}

namespace {

enum class Tok : uint8_t { kEnd, kLParen, kRParen, kComma, kCmp, kString, kWord, kError };

struct Token {
  Tok kind = Tok::kEnd;
  int pos = 0;
  std::string text;  // word, string value, or operator spelling
};

bool IsWordChar(char c) {
  return !(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ')' || c == ',' ||
           c == '=' || c == '!' || c == '<' || c == '>' || c == '"' || c == '\'');
}

class Parser {
 public:
  Parser(std::string_view text, const Locator* loc, Diagnostics* diags)
      : text_(text), loc_(loc), diags_(diags) {}

  std::unique_ptr<Ast> Parse() {
    if (text_.size() > kMaxConditionBytes) {
      Error(0, "condition is longer than " + std::to_string(kMaxConditionBytes) + " bytes");
      return nullptr;
    }
    Next();
    auto e = Expr(0);
    if (!e) return nullptr;
    if (tok_.kind != Tok::kEnd) {
      Error(tok_.pos, "unexpected " + Describe(tok_) + " after a complete condition (missing \"and\"/\"or\"?)");
      return nullptr;
    }
    if (failed_) return nullptr;
    return e;
  }

 private:
  Pos At(int offset) const { return Pos{loc_, offset}; }

  void Error(int offset, std::string msg) {
    if (failed_) return;
    failed_ = true;
    diags_->Add(At(offset), std::move(msg));
  }

  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEnd: return "end of condition";
      case Tok::kLParen: return "\"(\"";
      case Tok::kRParen: return "\")\"";
      case Tok::kComma: return "\",\"";
      case Tok::kCmp: return "operator \"" + t.text + "\"";
      case Tok::kString: return "string \"" + t.text + "\"";
      case Tok::kWord: return "\"" + t.text + "\"";
      case Tok::kError: return "invalid token";
    }
    return "?";
  }

  void Next() {
    tok_ = Lex();
  }

  Token Lex() {
    while (i_ < text_.size() && (text_[i_] == ' ' || text_[i_] == '\t' || text_[i_] == '\n' || text_[i_] == '\r')) ++i_;
    Token t;
    t.pos = static_cast<int>(i_);
    if (i_ >= text_.size()) return t;
    char c = text_[i_];
    switch (c) {
      case '(': ++i_; t.kind = Tok::kLParen; return t;
      case ')': ++i_; t.kind = Tok::kRParen; return t;
      case ',': ++i_; t.kind = Tok::kComma; return t;
      case '=':
        ++i_;
        if (i_ < text_.size() && text_[i_] == '=') ++i_;  // "==" means "="
        t.kind = Tok::kCmp;
        t.text = "=";
        return t;
      case '!':
        if (i_ + 1 < text_.size() && text_[i_ + 1] == '=') {
          i_ += 2;
          t.kind = Tok::kCmp;
          t.text = "!=";
          return t;
        }
        Error(t.pos, "\"!\" must be followed by \"=\" (use \"not\" to negate)");
        t.kind = Tok::kError;
        return t;
      case '<':
      case '>':
        ++i_;
        t.kind = Tok::kCmp;
        t.text = std::string(1, c);
        if (i_ < text_.size() && text_[i_] == '=') {
          ++i_;
          t.text += '=';
        }
        return t;
      case '"':
      case '\'': {
        ++i_;
        t.kind = Tok::kString;
        while (i_ < text_.size() && text_[i_] != c) {
          char ch = text_[i_];
          if (ch == '\\' && i_ + 1 < text_.size()) {
            char e = text_[i_ + 1];
            i_ += 2;
            switch (e) {
              case 'n': t.text += '\n'; break;
              case 't': t.text += '\t'; break;
              case '\\': case '"': case '\'': t.text += e; break;
              default:
                Error(static_cast<int>(i_) - 2, std::string("unknown escape \"\\") + e + "\" in string");
                t.kind = Tok::kError;
                return t;
            }
            continue;
          }
          t.text += ch;
          ++i_;
        }
        if (i_ >= text_.size()) {
          Error(t.pos, "unterminated string (no closing " + std::string(1, c) + ")");
          t.kind = Tok::kError;
          return t;
        }
        ++i_;
        return t;
      }
      default:
        break;
    }
    size_t start = i_;
    while (i_ < text_.size() && IsWordChar(text_[i_])) ++i_;
    t.kind = Tok::kWord;
    t.text = std::string(text_.substr(start, i_ - start));
    return t;
  }

  std::unique_ptr<Ast> TooMany(int offset) {
    Error(offset, "condition has more than " + std::to_string(kMaxConditionTerms) + " and/or terms");
    return nullptr;
  }

  bool IsWord(std::string_view w) const { return tok_.kind == Tok::kWord && tok_.text == w; }

  std::unique_ptr<Ast> Expr(int depth) {
    if (depth > kMaxConditionDepth) {
      Error(tok_.pos, "condition nests deeper than " + std::to_string(kMaxConditionDepth) + " levels");
      return nullptr;
    }
    auto lhs = And(depth);
    while (lhs && IsWord("or")) {
      Pos p = At(tok_.pos);
      if (++terms_ > kMaxConditionTerms) return TooMany(p.offset);
      Next();
      auto rhs = And(depth);
      if (!rhs) return nullptr;
      auto n = std::make_unique<Ast>();
      n->kind = Ast::Kind::kOr;
      n->pos = p;
      n->lhs = std::move(lhs);
      n->rhs = std::move(rhs);
      lhs = std::move(n);
    }
    return lhs;
  }

  std::unique_ptr<Ast> And(int depth) {
    auto lhs = Unary(depth);
    while (lhs && IsWord("and")) {
      Pos p = At(tok_.pos);
      if (++terms_ > kMaxConditionTerms) return TooMany(p.offset);
      Next();
      auto rhs = Unary(depth);
      if (!rhs) return nullptr;
      auto n = std::make_unique<Ast>();
      n->kind = Ast::Kind::kAnd;
      n->pos = p;
      n->lhs = std::move(lhs);
      n->rhs = std::move(rhs);
      lhs = std::move(n);
    }
    return lhs;
  }

  std::unique_ptr<Ast> Unary(int depth) {
    if (depth > kMaxConditionDepth) {
      Error(tok_.pos, "condition nests deeper than " + std::to_string(kMaxConditionDepth) + " levels");
      return nullptr;
    }
    if (IsWord("not")) {
      Pos p = At(tok_.pos);
      Next();
      auto child = Unary(depth + 1);
      if (!child) return nullptr;
      auto n = std::make_unique<Ast>();
      n->kind = Ast::Kind::kNot;
      n->pos = p;
      n->lhs = std::move(child);
      return n;
    }
    return Primary(depth);
  }

  static bool IsKeyword(std::string_view w) {
    return w == "and" || w == "or" || w == "not" || w == "in" || w == "exists" || w == "contains" ||
           w == "startswith" || w == "endswith" || w == "glob";
  }

  std::unique_ptr<Ast> Primary(int depth) {
    if (tok_.kind == Tok::kLParen) {
      Next();
      auto e = Expr(depth + 1);
      if (!e) return nullptr;
      if (tok_.kind != Tok::kRParen) {
        Error(tok_.pos, "expected \")\", got " + Describe(tok_));
        return nullptr;
      }
      Next();
      return e;
    }
    if (tok_.kind != Tok::kWord || IsKeyword(tok_.text) || tok_.text == "true" || tok_.text == "false") {
      if (tok_.kind != Tok::kError) {
        Error(tok_.pos, "expected a field, a macro or \"(\", got " + Describe(tok_));
      }
      return nullptr;
    }
    auto n = std::make_unique<Ast>();
    n->pos = At(tok_.pos);
    n->name = tok_.text;
    Next();
    // A name followed by an operator is a field; otherwise a macro.
    if (tok_.kind == Tok::kCmp) {
      n->kind = Ast::Kind::kCompare;
      n->op_pos = At(tok_.pos);
      const std::string& o = tok_.text;
      n->op = o == "=" ? CmpOp::kEq : o == "!=" ? CmpOp::kNe : o == "<" ? CmpOp::kLt
            : o == "<=" ? CmpOp::kLe : o == ">" ? CmpOp::kGt : CmpOp::kGe;
      Next();
      return Value(std::move(n));
    }
    if (tok_.kind == Tok::kWord) {
      static constexpr std::pair<std::string_view, CmpOp> kWordOps[] = {
          {"contains", CmpOp::kContains}, {"startswith", CmpOp::kStartsWith},
          {"endswith", CmpOp::kEndsWith}, {"glob", CmpOp::kGlob}};
      for (auto [w, op] : kWordOps) {
        if (tok_.text == w) {
          n->kind = Ast::Kind::kCompare;
          n->op = op;
          n->op_pos = At(tok_.pos);
          Next();
          return Value(std::move(n));
        }
      }
      if (tok_.text == "exists") {
        n->kind = Ast::Kind::kCompare;
        n->op = CmpOp::kExists;
        n->op_pos = At(tok_.pos);
        Next();
        return n;
      }
      if (tok_.text == "in") {
        n->kind = Ast::Kind::kCompare;
        n->op = CmpOp::kIn;
        n->op_pos = At(tok_.pos);
        Next();
        return InList(std::move(n));
      }
    }
    n->kind = Ast::Kind::kMacro;
    return n;
  }

  bool ParseLiteral(Literal* lit) {
    lit->pos = At(tok_.pos);
    if (tok_.kind == Tok::kString) {
      lit->kind = Literal::Kind::kString;
      lit->text = tok_.text;
      Next();
      return true;
    }
    if (tok_.kind != Tok::kWord || IsKeyword(tok_.text)) {
      if (tok_.kind != Tok::kError) Error(tok_.pos, "expected a value, got " + Describe(tok_));
      return false;
    }
    const std::string& w = tok_.text;
    lit->text = w;
    if (w == "true" || w == "false") {
      lit->kind = Literal::Kind::kBool;
      lit->number = w == "true";
    } else if ((w[0] >= '0' && w[0] <= '9') || (w[0] == '-' && w.size() > 1 && w[1] >= '0' && w[1] <= '9')) {
      const char* end = w.data() + w.size();
      auto [p, ec] = std::from_chars(w.data(), end, lit->number);
      if (ec != std::errc() || p != end) {
        Error(tok_.pos, ec == std::errc::result_out_of_range ? "integer " + w + " is out of range (64-bit signed)"
                                                              : "malformed number \"" + w + "\"");
        return false;
      }
      lit->kind = Literal::Kind::kInt;
    } else {
      lit->kind = Literal::Kind::kWord;
    }
    Next();
    return true;
  }

  std::unique_ptr<Ast> Value(std::unique_ptr<Ast> n) {
    Literal lit;
    if (!ParseLiteral(&lit)) return nullptr;
    n->values.push_back(std::move(lit));
    return n;
  }

  std::unique_ptr<Ast> InList(std::unique_ptr<Ast> n) {
    if (tok_.kind == Tok::kWord && !IsKeyword(tok_.text)) {  // in list_name
      Literal lit;
      lit.pos = At(tok_.pos);
      lit.kind = Literal::Kind::kWord;
      lit.text = tok_.text;
      n->values.push_back(std::move(lit));
      n->in_list_name = true;
      Next();
      return n;
    }
    if (tok_.kind != Tok::kLParen) {
      if (tok_.kind != Tok::kError) Error(tok_.pos, "expected \"(\" or a list name after \"in\", got " + Describe(tok_));
      return nullptr;
    }
    Next();
    if (tok_.kind == Tok::kRParen) {
      Next();
      return n;  // "in ()" is an empty set: always false
    }
    while (true) {
      Literal lit;
      if (!ParseLiteral(&lit)) return nullptr;
      n->values.push_back(std::move(lit));
      if (tok_.kind == Tok::kComma) {
        Next();
        continue;
      }
      if (tok_.kind == Tok::kRParen) {
        Next();
        return n;
      }
      if (tok_.kind != Tok::kError) Error(tok_.pos, "expected \",\" or \")\" in the list, got " + Describe(tok_));
      return nullptr;
    }
  }

  std::string_view text_;
  const Locator* loc_;
  Diagnostics* diags_;
  size_t i_ = 0;
  Token tok_;
  bool failed_ = false;
  int terms_ = 0;
};

}  // namespace

std::unique_ptr<Ast> ParseCondition(std::string_view text, const Locator* loc, Diagnostics* diags) {
  Parser p(text, loc, diags);
  auto ast = p.Parse();
  return ast;
}

}  // namespace edgeward::rules::internal
