// Rule files → RuleSet. yaml-cpp's exceptions are caught here; every problem
// becomes a located Diagnostic, and the caller rejects the set if there is
// any. Lists and macros are shared by all files of one load.
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <deque>
#include <functional>
#include <set>

#include "rule_set.h"

namespace edgeward::rules::internal {
namespace {

struct RawList {
  const RuleSource* src;
  YAML::Node node;  // the item map
  Pos pos;
};

class Loader {
 public:
  explicit Loader(Diagnostics* diags) : diags_(diags) {}

  bool Load(const std::vector<RuleSource>& sources, std::unique_ptr<RuleSet>* out);

 private:
  void ErrAt(const RuleSource& src, const YAML::Mark& m, std::string msg) {
    diags_->AddAt(src.name, m.line < 0 ? 0 : m.line + 1, m.column < 0 ? 0 : m.column + 1, std::move(msg));
  }
  const Locator* ExactLoc(const RuleSource& src, const YAML::Mark& m) {
    Locator l;
    l.file = src.name;
    l.source = src.text;
    l.mark_pos = m.pos;
    l.mark_line = m.line < 0 ? 0 : m.line;
    l.mark_col = m.column < 0 ? 0 : m.column;
    l.exact = true;
    locs_.push_back(l);
    return &locs_.back();
  }
  // A locator for a scalar's value (offsets map into the file).
  const Locator* ScalarLoc(const RuleSource& src, const YAML::Node& n) {
    values_.push_back(n.Scalar());
    Locator l;
    l.file = src.name;
    l.source = src.text;
    l.mark_pos = n.Mark().pos;
    l.mark_line = n.Mark().line < 0 ? 0 : n.Mark().line;
    l.mark_col = n.Mark().column < 0 ? 0 : n.Mark().column;
    l.value = values_.back();
    locs_.push_back(l);
    return &locs_.back();
  }
  Pos At(const RuleSource& src, const YAML::Node& n) { return Pos{ExactLoc(src, n.Mark()), 0}; }

  bool CheckKeys(const RuleSource& src, const YAML::Node& map, const std::vector<std::string_view>& allowed,
                 std::string_view what);
  void LoadFile(const RuleSource& src);
  void ExpandLists();
  void LoadRule(const RuleSource& src, const YAML::Node& node, RuleSet* set);
  std::unique_ptr<Ast> BuildExceptions(const RuleSource& src, const YAML::Node& exc, bool* ok_out);
  bool LoadWindow(const RuleSource& src, const YAML::Node& n, std::string_view what, RuleSet::Window* w);
  Literal ScalarLiteral(const RuleSource& src, const YAML::Node& n, FieldType hint);

  Diagnostics* diags_;
  std::deque<Locator> locs_;
  std::deque<std::string> values_;
  std::map<std::string, ListDef, std::less<>> lists_;
  std::map<std::string, std::vector<std::pair<std::string, Pos>>, std::less<>> raw_lists_;
  std::map<std::string, MacroDef, std::less<>> macros_;
  std::vector<std::string> macro_order_;
  std::vector<std::pair<const RuleSource*, YAML::Node>> rules_;
  std::map<std::string, Pos, std::less<>> names_;  // every list/macro/rule name → where defined
};

std::string Where(const Pos& p) {
  int line = 0, col = 0;
  if (p.loc != nullptr) p.loc->Map(p.offset, &line, &col);
  return std::string(p.loc ? p.loc->file : "") + ":" + std::to_string(line) + ":" + std::to_string(col);
}

bool Loader::CheckKeys(const RuleSource& src, const YAML::Node& map, const std::vector<std::string_view>& allowed,
                       std::string_view what) {
  bool ok = true;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) {
      ErrAt(src, it->first.Mark(), std::string(what) + " keys must be plain words");
      ok = false;
      continue;
    }
    const std::string& k = it->first.Scalar();
    bool known = false;
    for (auto a : allowed) known |= a == k;
    if (!known) {
      ErrAt(src, it->first.Mark(), "unknown key \"" + k + "\" in " + std::string(what) + DidYouMean(k, allowed));
      ok = false;
    }
  }
  return ok;
}

void Loader::LoadFile(const RuleSource& src) {
  if (src.text.size() > kMaxRuleFileBytes) {
    diags_->AddAt(src.name, 0, 0, "rule file is larger than " + std::to_string(kMaxRuleFileBytes) + " bytes");
    return;
  }
  YAML::Node root;
  try {
    root = YAML::Load(src.text);
  } catch (const YAML::Exception& e) {
    ErrAt(src, e.mark, "YAML: " + e.msg);
    return;
  }
  if (!root.IsDefined() || root.IsNull()) return;  // an empty file has no rules
  if (!root.IsSequence()) {
    ErrAt(src, root.Mark(), "a rule file is a YAML list of list/macro/rule items");
    return;
  }
  for (const YAML::Node& item : root) {
    if (!item.IsMap()) {
      ErrAt(src, item.Mark(), "each item must be a mapping with a \"list\", \"macro\" or \"rule\" key");
      continue;
    }
    const char* kind = item["rule"] ? "rule" : item["macro"] ? "macro" : item["list"] ? "list" : nullptr;
    if (kind == nullptr) {
      std::string first =
          item.size() > 0 && item.begin()->first.IsScalar() ? item.begin()->first.Scalar() : "";
      ErrAt(src, item.Mark(), "item has no \"list\", \"macro\" or \"rule\" key" +
                                  DidYouMean(first, {"list", "macro", "rule"}));
      continue;
    }
    const YAML::Node name_node = item[kind];
    if (!name_node.IsScalar() || name_node.Scalar().empty()) {
      ErrAt(src, name_node.Mark(), std::string(kind) + " name must be a non-empty string");
      continue;
    }
    const std::string& name = name_node.Scalar();
    Pos pos = At(src, name_node);
    auto [prev, fresh] = names_.emplace(name, pos);
    if (!fresh) {
      diags_->Add(pos, std::string(kind) + " \"" + name + "\" is already defined at " + Where(prev->second) +
                           " (names of lists, macros and rules are unique)");
      continue;
    }
    if (std::string_view(kind) == "rule") {
      rules_.emplace_back(&src, item);
    } else if (std::string_view(kind) == "macro") {
      CheckKeys(src, item, {"macro", "condition"}, "macro");
      MacroDef m;
      m.pos = pos;
      const YAML::Node cond = item["condition"];
      if (!cond || !cond.IsScalar()) {
        ErrAt(src, cond ? cond.Mark() : item.Mark(), "macro \"" + name + "\" needs a condition string");
      } else {
        const Locator* loc = ScalarLoc(src, cond);
        m.ast = ParseCondition(loc->value, loc, diags_);
      }
      macros_.emplace(name, std::move(m));
      macro_order_.push_back(name);
    } else {
      CheckKeys(src, item, {"list", "items"}, "list");
      const YAML::Node items = item["items"];
      std::vector<std::pair<std::string, Pos>> raw;
      if (!items || !items.IsSequence()) {
        ErrAt(src, items ? items.Mark() : item.Mark(), "list \"" + name + "\" needs items: [...]");
      } else {
        for (const YAML::Node& i : items) {
          if (!i.IsScalar()) {
            ErrAt(src, i.Mark(), "list items must be strings or numbers");
            continue;
          }
          raw.emplace_back(i.Scalar(), At(src, i));
        }
      }
      raw_lists_.emplace(name, std::move(raw));
    }
  }
}

void Loader::ExpandLists() {
  // Items that name another list are replaced by its items (Falco style);
  // cycles are errors.
  std::map<std::string, int, std::less<>> state;  // 1 visiting, 2 done
  std::function<bool(const std::string&, std::vector<std::string>&)> expand =
      [&](const std::string& name, std::vector<std::string>& out) -> bool {
    auto raw = raw_lists_.find(name);
    int& st = state[name];
    if (st == 2) {
      const auto& items = lists_[name].items;
      out.insert(out.end(), items.begin(), items.end());
      return true;
    }
    st = 1;
    std::vector<std::string> mine;
    bool ok = true;
    for (const auto& [item, pos] : raw->second) {
      if (raw_lists_.count(item) > 0) {
        if (state[item] == 1) {
          diags_->Add(pos, "list cycle: \"" + item + "\" includes itself through \"" + name + "\"");
          ok = false;
          continue;
        }
        ok &= expand(item, mine);
      } else {
        mine.push_back(item);
      }
    }
    state[name] = 2;
    ListDef& def = lists_[name];
    def.items = mine;
    out.insert(out.end(), mine.begin(), mine.end());
    return ok;
  };
  for (const auto& [name, raw] : raw_lists_) {
    if (state[name] == 2) continue;
    std::vector<std::string> sink;
    expand(name, sink);
  }
}

Literal Loader::ScalarLiteral(const RuleSource& src, const YAML::Node& n, FieldType hint) {
  Literal l;
  l.pos = At(src, n);
  l.text = n.Scalar();
  const bool quoted = n.Tag() == "!";
  l.kind = quoted ? Literal::Kind::kString : Literal::Kind::kWord;
  if (!quoted && (l.text == "true" || l.text == "false")) {
    l.kind = Literal::Kind::kBool;
    l.number = l.text == "true";
  } else if (!quoted && !l.text.empty()) {
    const char* end = l.text.data() + l.text.size();
    auto [p, ec] = std::from_chars(l.text.data(), end, l.number);
    if (ec == std::errc() && p == end) l.kind = Literal::Kind::kInt;
  }
  // YAML types a bare 5 as a number; a string field means "5".
  if ((hint == FieldType::kString || hint == FieldType::kStringList) &&
      (l.kind == Literal::Kind::kInt || l.kind == Literal::Kind::kBool)) {
    l.kind = Literal::Kind::kString;
  }
  return l;
}

std::unique_ptr<Ast> Loader::BuildExceptions(const RuleSource& src, const YAML::Node& exc, bool* ok_out) {
  *ok_out = false;
  if (!exc.IsSequence()) {
    ErrAt(src, exc.Mark(), "exceptions must be a list of {name, fields, comps, values}");
    return nullptr;
  }
  std::unique_ptr<Ast> any;
  bool ok = true;
  auto join = [](std::unique_ptr<Ast> a, std::unique_ptr<Ast> b, Ast::Kind k) {
    if (!a) return b;
    auto n = std::make_unique<Ast>();
    n->kind = k;
    n->pos = a->pos;
    n->lhs = std::move(a);
    n->rhs = std::move(b);
    return n;
  };
  std::set<std::string> seen;
  for (const YAML::Node& e : exc) {
    if (!e.IsMap()) {
      ErrAt(src, e.Mark(), "an exception is a mapping {name, fields, comps, values}");
      ok = false;
      continue;
    }
    ok &= CheckKeys(src, e, {"name", "fields", "comps", "values"}, "exception");
    const YAML::Node name = e["name"], fields = e["fields"], comps = e["comps"], values = e["values"];
    if (!name || !name.IsScalar() || name.Scalar().empty()) {
      ErrAt(src, name ? name.Mark() : e.Mark(), "exception needs a name");
      ok = false;
    } else if (!seen.insert(name.Scalar()).second) {
      ErrAt(src, name.Mark(), "exception \"" + name.Scalar() + "\" appears twice in this rule");
      ok = false;
    }
    std::vector<YAML::Node> field_nodes, comp_nodes;
    const bool single = fields && fields.IsScalar();
    if (single) {
      field_nodes.push_back(fields);
    } else if (fields && fields.IsSequence() && fields.size() > 0) {
      for (const auto& f : fields) field_nodes.push_back(f);
    } else {
      ErrAt(src, fields ? fields.Mark() : e.Mark(), "exception needs fields: FIELD or [FIELD, ...]");
      ok = false;
      continue;
    }
    bool fields_ok = true;
    for (const auto& f : field_nodes) {
      if (!f.IsScalar()) {
        ErrAt(src, f.Mark(), "exception fields are field names");
        fields_ok = false;
      }
    }
    if (!fields_ok) {
      ok = false;
      continue;
    }
    if (comps) {
      if (comps.IsScalar()) {
        for (size_t i = 0; i < field_nodes.size(); ++i) comp_nodes.push_back(comps);
      } else if (comps.IsSequence() && comps.size() == field_nodes.size()) {
        for (const auto& c : comps) comp_nodes.push_back(c);
      } else {
        ErrAt(src, comps.Mark(), "exception comps must be one operator or one per field (" +
                                     std::to_string(field_nodes.size()) + ")");
        ok = false;
        continue;
      }
    }
    std::vector<CmpOp> ops;
    for (size_t i = 0; i < field_nodes.size(); ++i) {
      CmpOp op = CmpOp::kEq;
      if (i < comp_nodes.size()) {
        std::string c = comp_nodes[i].IsScalar() ? comp_nodes[i].Scalar() : "";
        static constexpr std::pair<std::string_view, CmpOp> kOps[] = {
            {"=", CmpOp::kEq}, {"!=", CmpOp::kNe}, {"<", CmpOp::kLt}, {"<=", CmpOp::kLe},
            {">", CmpOp::kGt}, {">=", CmpOp::kGe}, {"in", CmpOp::kIn}, {"contains", CmpOp::kContains},
            {"startswith", CmpOp::kStartsWith}, {"endswith", CmpOp::kEndsWith}, {"glob", CmpOp::kGlob}};
        bool found = false;
        for (auto [s, o] : kOps) {
          if (s == c) {
            op = o;
            found = true;
          }
        }
        if (!found) {
          ErrAt(src, comp_nodes[i].Mark(), "unknown exception comparison \"" + c +
                                               "\" (use =, !=, <, <=, >, >=, in, contains, startswith, endswith, glob)");
          ok = false;
        }
      }
      ops.push_back(op);
    }
    if (!values || !values.IsSequence()) {
      ErrAt(src, values ? values.Mark() : e.Mark(), "exception needs values: [[...], ...]");
      ok = false;
      continue;
    }
    for (const YAML::Node& tuple : values) {
      std::vector<YAML::Node> vals;
      if (single) {
        vals.push_back(tuple);
      } else if (tuple.IsSequence() && tuple.size() == field_nodes.size()) {
        for (const auto& v : tuple) vals.push_back(v);
      } else {
        ErrAt(src, tuple.Mark(), "each exception value must be a list of " + std::to_string(field_nodes.size()) +
                                     " values, one per field");
        ok = false;
        continue;
      }
      std::unique_ptr<Ast> all;
      for (size_t i = 0; i < vals.size(); ++i) {
        auto cmp = std::make_unique<Ast>();
        cmp->kind = Ast::Kind::kCompare;
        cmp->name = field_nodes[i].Scalar();
        cmp->pos = At(src, field_nodes[i]);
        cmp->op = ops[i];
        cmp->op_pos = i < comp_nodes.size() ? At(src, comp_nodes[i]) : cmp->pos;
        FieldId fid;
        const FieldInfo* info = FindField(cmp->name, &fid);
        FieldType hint = info ? info->type : FieldType::kString;
        const YAML::Node& v = vals[i];
        if (ops[i] == CmpOp::kIn && v.IsSequence()) {
          for (const auto& item : v) {
            if (!item.IsScalar()) {
              ErrAt(src, item.Mark(), "exception values are scalars");
              ok = false;
              continue;
            }
            cmp->values.push_back(ScalarLiteral(src, item, hint));
          }
        } else if (v.IsScalar()) {
          cmp->values.push_back(ScalarLiteral(src, v, hint));
          cmp->in_list_name = ops[i] == CmpOp::kIn;  // "in" with a scalar names a list
          if (cmp->in_list_name) cmp->values.back().kind = Literal::Kind::kWord;
        } else {
          ErrAt(src, v.Mark(), ops[i] == CmpOp::kIn ? "an \"in\" exception value is a list or a list name"
                                                    : "exception values are scalars");
          ok = false;
          continue;
        }
        all = join(std::move(all), std::move(cmp), Ast::Kind::kAnd);
      }
      if (all) any = join(std::move(any), std::move(all), Ast::Kind::kOr);
    }
  }
  *ok_out = ok;
  if (!ok) return nullptr;
  return any;
}

bool ParseCount(const YAML::Node& n, int64_t lo, int64_t hi, int64_t* out) {
  if (!n.IsScalar()) return false;
  const std::string& s = n.Scalar();
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, *out);
  return ec == std::errc() && p == end && *out >= lo && *out <= hi;
}

bool Loader::LoadWindow(const RuleSource& src, const YAML::Node& n, std::string_view what, RuleSet::Window* w) {
  if (!n.IsMap()) {
    ErrAt(src, n.Mark(), std::string(what) + " is a mapping {count, within, per}");
    return false;
  }
  bool ok = CheckKeys(src, n, {"count", "within", "per", "max_keys"}, what);
  int64_t count = 0, within = 0, max_keys = kDefaultMaxKeys;
  const YAML::Node c = n["count"], wi = n["within"], per = n["per"], mk = n["max_keys"];
  if (!c || !ParseCount(c, 1, kMaxWindowCount, &count)) {
    ErrAt(src, c ? c.Mark() : n.Mark(), std::string(what) + " needs count: an integer from 1 to " +
                                            std::to_string(kMaxWindowCount));
    ok = false;
  }
  if (!wi || !wi.IsScalar() || !ParseDuration(wi.Scalar(), &within)) {
    ErrAt(src, wi ? wi.Mark() : n.Mark(), std::string(what) +
                                              " needs within: a duration like 500ms, 10s, 5m, 1h, 1d (at most 365d)");
    ok = false;
  }
  if (mk && !ParseCount(mk, 1, kMaxMaxKeys, &max_keys)) {
    ErrAt(src, mk.Mark(), "max_keys must be an integer from 1 to " + std::to_string(kMaxMaxKeys));
    ok = false;
  }
  if (per) {
    FieldId id;
    const FieldInfo* info = per.IsScalar() ? FindField(per.Scalar(), &id) : nullptr;
    if (info == nullptr) {
      std::string s = per.IsScalar() ? per.Scalar() : "";
      ErrAt(src, per.Mark(), "unknown field \"" + s + "\" in per" + DidYouMean(s, AllFieldNames()));
      ok = false;
    } else if (info->type == FieldType::kStringList || info->type == FieldType::kIntList) {
      ErrAt(src, per.Mark(), "per: " + per.Scalar() + " is a list; per needs a string, int or bool field");
      ok = false;
    } else {
      w->has_per = true;
      w->per = id;
    }
  }
  if (!ok) return false;
  w->enabled = true;
  w->windows = std::make_unique<KeyWindows>(static_cast<uint32_t>(count), within,
                                            w->has_per ? static_cast<uint32_t>(max_keys) : 1);
  return true;
}

void Loader::LoadRule(const RuleSource& src, const YAML::Node& node, RuleSet* set) {
  RuleSet::Rule r;
  r.name = node["rule"].Scalar();
  r.file = src.name;
  r.line = node["rule"].Mark().line + 1;
  bool ok = CheckKeys(src, node,
                      {"rule", "desc", "condition", "output", "priority", "actions", "threshold", "rate_limit",
                       "exceptions", "enabled", "tags"},
                      "rule");
  bool enabled = true;
  if (const YAML::Node en = node["enabled"]) {
    if (!en.IsScalar() || (en.Scalar() != "true" && en.Scalar() != "false")) {
      ErrAt(src, en.Mark(), "enabled must be true or false");
      ok = false;
    } else {
      enabled = en.Scalar() == "true";
    }
  }
  if (const YAML::Node p = node["priority"]) {
    if (!p.IsScalar() || !ParsePriority(p.Scalar(), &r.priority)) {
      ErrAt(src, p.Mark(), "unknown priority \"" + (p.IsScalar() ? p.Scalar() : std::string()) +
                               "\" (use info, low, medium, high or critical)");
      ok = false;
    }
  }
  std::unique_ptr<Ast> cond;
  const YAML::Node c = node["condition"];
  if (!c || !c.IsScalar()) {
    ErrAt(src, c ? c.Mark() : node.Mark(), "rule \"" + r.name + "\" needs a condition string");
    ok = false;
  } else {
    const Locator* loc = ScalarLoc(src, c);
    cond = ParseCondition(loc->value, loc, diags_);
    ok &= cond != nullptr;
  }
  if (const YAML::Node exc = node["exceptions"]) {
    bool exc_ok = false;
    auto e = BuildExceptions(src, exc, &exc_ok);
    ok &= exc_ok;
    if (e != nullptr && cond != nullptr) {
      auto neg = std::make_unique<Ast>();
      neg->kind = Ast::Kind::kNot;
      neg->pos = e->pos;
      neg->lhs = std::move(e);
      auto both = std::make_unique<Ast>();
      both->kind = Ast::Kind::kAnd;
      both->pos = cond->pos;
      both->lhs = std::move(cond);
      both->rhs = std::move(neg);
      cond = std::move(both);
    }
  }
  if (cond != nullptr) {
    Compiler compiler(lists_, macros_);
    ok &= compiler.Compile(*cond, diags_, &r.condition);
  }
  if (const YAML::Node o = node["output"]) {
    if (!o.IsScalar()) {
      ErrAt(src, o.Mark(), "output must be a string");
      ok = false;
    } else {
      const Locator* loc = ScalarLoc(src, o);
      ok &= OutputTemplate::Compile(loc->value, loc, diags_, &r.output);
    }
  } else {
    std::string literal;  // the rule name, verbatim
    for (char ch : r.name) literal += ch == '%' ? std::string("%%") : std::string(1, ch);
    ok &= OutputTemplate::Compile(literal, ExactLoc(src, node.Mark()), diags_, &r.output);
  }
  if (const YAML::Node acts = node["actions"]) {
    if (!acts.IsSequence()) {
      ErrAt(src, acts.Mark(), "actions must be a list, e.g. [kill_workload, report(priority: high)]");
      ok = false;
    } else {
      for (const YAML::Node& a : acts) {
        std::string text;
        if (a.IsScalar()) {
          text = a.Scalar();
        } else if (a.IsMap() && a.size() == 1 && a.begin()->first.IsScalar() && a.begin()->second.IsScalar()) {
          // YAML reads "report(priority: high)" as the mapping
          // {"report(priority": "high)"}; put the text back together.
          text = a.begin()->first.Scalar() + ": " + a.begin()->second.Scalar();
        } else {
          ErrAt(src, a.Mark(), "an action is written name or name(key: value)");
          ok = false;
          continue;
        }
        Action act;
        if (!ParseAction(text, lists_, r.priority, At(src, a), diags_, &act)) {
          ok = false;
          continue;
        }
        if ((act.kind == ActionKind::kKillWorkload || act.kind == ActionKind::kRestartWorkload) && cond) {
          const EventTypeMask without = r.condition.type_mask() & ~GetFieldInfo(FieldId::kWorkloadName).carried_by;
          for (int t = 0; t < kEventTypeCount; ++t) {
            if (without & (1u << t)) {
              diags_->Add(At(src, a), std::string(ActionKindName(act.kind)) +
                                          " needs workload.name, but this rule can match " +
                                          std::string(EventTypeName(static_cast<EventType>(t))) +
                                          " events, which have none; restrict the condition with event.type");
              ok = false;
              break;
            }
          }
        }
        r.actions.push_back(std::move(act));
      }
    }
  } else {
    r.actions.push_back(Action{});  // default: log
  }
  if (const YAML::Node t = node["threshold"]) ok &= LoadWindow(src, t, "threshold", &r.threshold);
  if (const YAML::Node rl = node["rate_limit"]) ok &= LoadWindow(src, rl, "rate_limit", &r.rate_limit);
  if (!ok) return;
  const uint32_t index = static_cast<uint32_t>(set->rules.size());
  if (enabled) {
    for (int t = 0; t < kEventTypeCount; ++t) {
      if (r.condition.type_mask() & (1u << t)) set->by_type[t].push_back(index);
    }
  }
  set->rules.push_back(std::move(r));
}

bool Loader::Load(const std::vector<RuleSource>& sources, std::unique_ptr<RuleSet>* out) {
  try {
    for (const auto& src : sources) LoadFile(src);
    ExpandLists();
    for (const auto& name : macro_order_) {
      Compiler compiler(lists_, macros_);
      compiler.CheckMacro(name, diags_);
    }
    auto set = std::make_unique<RuleSet>();
    for (const auto& [src, node] : rules_) LoadRule(*src, node, set.get());
    if (!diags_->empty()) return false;
    std::vector<const Program*> programs;
    for (const auto& r : set->rules) programs.push_back(&r.condition);
    set->matcher.Build(programs, set->by_type);
    *out = std::move(set);
    return true;
  } catch (const YAML::Exception& e) {
    diags_->AddAt("", e.mark.line + 1, e.mark.column + 1, std::string("YAML: ") + e.what());
    return false;
  } catch (const std::exception& e) {
    diags_->AddAt("", 0, 0, std::string("internal error while loading rules: ") + e.what());
    return false;
  }
}

}  // namespace

bool ParseDuration(std::string_view s, int64_t* ms) {
  int64_t n = 0;
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    n = n * 10 + (s[i] - '0');
    if (n > 1000000000000) return false;
    ++i;
  }
  if (i == 0) return false;
  std::string_view unit = s.substr(i);
  int64_t mult = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60000 : unit == "h" ? 3600000
               : unit == "d" ? 86400000 : 0;
  if (mult == 0 || n > int64_t{365} * 86400000 / mult) return false;
  *ms = n * mult;
  return *ms >= 1 && *ms <= int64_t{365} * 86400000;
}

bool LoadRuleSet(const std::vector<RuleSource>& sources, Diagnostics* diags, std::unique_ptr<RuleSet>* out) {
  Loader loader(diags);
  return loader.Load(sources, out);
}

}  // namespace edgeward::rules::internal
