// Matcher: per-type value index over top-level conjuncts, interned and
// memoised leaves, and the residual conditions (see matcher.h).
#include "matcher.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <set>

namespace edgeward::rules::internal {
namespace {

// Index bitmaps of one (type, field) are capped at this many 64-bit words
// (8 MiB); a field with more constants than that stays in the residual
// conditions for that type (still correct, just not indexed).
constexpr size_t kMaxIndexWords = size_t{1} << 20;

bool IsIndexable(Op op) {
  switch (op) {
    case Op::kExists:
    case Op::kStrEq:
    case Op::kStrNe:
    case Op::kStrIn:
    case Op::kIntEq:
    case Op::kIntNe:
    case Op::kIntIn:
      return true;
    default:
      return false;
  }
}

// splitmix64's finaliser: ints spread over the open-addressing table.
uint64_t MixInt(int64_t v) {
  uint64_t x = static_cast<uint64_t>(v);
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

// The value of a conjunct that is constant for events of type t (a kConst,
// an event-type test, or a negation of one); -1 when it depends on fields.
int ConstAt(const std::vector<Node>& nodes, uint32_t i, EventType t) {
  const Node& n = nodes[i];
  switch (n.op) {
    case Op::kConst: return n.imm != 0 ? 1 : 0;
    case Op::kTypeIn: return static_cast<int>((static_cast<uint64_t>(n.imm) >> static_cast<unsigned>(t)) & 1u);
    case Op::kNot: {
      int v = ConstAt(nodes, n.a, t);
      return v < 0 ? -1 : 1 - v;
    }
    default: return -1;
  }
}

void AppendBytes(std::string* k, const void* p, size_t n) { k->append(static_cast<const char*>(p), n); }

}  // namespace

uint32_t Matcher::InternLeaf(const Program& p, const Node& n) {
  // The key spells out everything the leaf's result depends on.
  std::string key;
  key.push_back(static_cast<char>(n.op));
  key.push_back(static_cast<char>(n.field));
  AppendBytes(&key, &n.imm, sizeof n.imm);
  auto add_str = [&](const std::string& s) {
    uint64_t len = s.size();
    AppendBytes(&key, &len, sizeof len);
    key += s;
  };
  Leaf leaf;
  leaf.op = n.op;
  leaf.field = n.field;
  leaf.imm = n.imm;
  switch (n.op) {
    case Op::kStrEq:
    case Op::kStrNe:
    case Op::kStrContains:
    case Op::kStrStartsWith:
    case Op::kStrEndsWith:
    case Op::kStrGlob:
    case Op::kListHasStr:
      leaf.str = p.strings_[n.a];
      leaf.hash = p.string_hashes_[n.a];
      add_str(leaf.str);
      break;
    case Op::kStrIn:
    case Op::kListAnyIn:
      leaf.set = p.str_sets_[n.a];
      for (const auto& s : leaf.set.strings) add_str(s);
      break;
    case Op::kIntIn:
      leaf.ints = p.int_sets_[n.a];
      for (int64_t v : leaf.ints) AppendBytes(&key, &v, sizeof v);
      break;
    default:
      break;
  }
  auto [it, inserted] = leaf_ids_.try_emplace(std::move(key), static_cast<uint32_t>(leaves_.size()));
  if (!inserted) return it->second;
  switch (n.op) {
    case Op::kConst:
    case Op::kExists:
    case Op::kTypeIn:
    case Op::kIntEq:
    case Op::kIntNe:
    case Op::kIntLt:
    case Op::kIntLe:
    case Op::kIntGt:
    case Op::kIntGe:
    case Op::kIntIn:
    case Op::kIntListHas:
      leaf.memo = false;  // cheaper to recompute than to look up
      break;
    default:
      leaf.memo = true;
      break;
  }
  leaves_.push_back(std::move(leaf));
  return it->second;
}

uint32_t Matcher::InternX(XNode x, const std::vector<uint32_t>& kids) {
  std::string key;
  key.push_back(static_cast<char>(x.kind));
  const uint32_t head[2] = {x.kind == XKind::kAnd || x.kind == XKind::kOr ? 0 : x.a, x.b};
  AppendBytes(&key, head, sizeof head);
  for (uint32_t k : kids) AppendBytes(&key, &k, sizeof k);
  auto it = xnode_ids_.find(key);
  if (it != xnode_ids_.end()) return it->second;
  if (x.kind == XKind::kAnd || x.kind == XKind::kOr) {
    x.a = static_cast<uint32_t>(xkids_.size());
    x.b = static_cast<uint32_t>(kids.size());
    xkids_.insert(xkids_.end(), kids.begin(), kids.end());
  }
  xnodes_.push_back(x);
  const uint32_t id = static_cast<uint32_t>(xnodes_.size() - 1);
  xnode_ids_.emplace(std::move(key), id);
  return id;
}

uint32_t Matcher::Convert(const Program& p, uint32_t i) {
  const Node& n = p.nodes_[i];
  XNode x;
  std::vector<uint32_t> kids;
  switch (n.op) {
    case Op::kAnd:
    case Op::kOr: {
      for (uint32_t k = 0; k < n.b; ++k) kids.push_back(Convert(p, p.children_[n.a + k]));
      std::stable_sort(kids.begin(), kids.end(), [&](uint32_t l, uint32_t r) { return Cost(l) < Cost(r); });
      x.kind = n.op == Op::kAnd ? XKind::kAnd : XKind::kOr;
      x.b = static_cast<uint32_t>(kids.size());
      break;
    }
    case Op::kNot:
      x.kind = XKind::kNot;
      x.a = Convert(p, n.a);
      break;
    case Op::kConst:
      x.kind = XKind::kConst;
      x.a = n.imm != 0 ? 1 : 0;
      break;
    default:
      x.kind = XKind::kLeaf;
      x.a = InternLeaf(p, n);
      break;
  }
  return InternX(x, kids);
}

uint32_t Matcher::Cost(uint32_t i) const {
  const XNode& x = xnodes_[i];
  switch (x.kind) {
    case XKind::kConst: return 0;
    case XKind::kNot: return Cost(x.a);
    case XKind::kAnd:
    case XKind::kOr: {
      uint32_t c = 1;
      for (uint32_t k = 0; k < x.b; ++k) c += Cost(xkids_[x.a + k]);
      return c;
    }
    case XKind::kLeaf: break;
  }
  switch (leaves_[x.a].op) {
    case Op::kStrEq:
    case Op::kStrNe: return 2;
    case Op::kStrIn:
    case Op::kStrStartsWith:
    case Op::kStrEndsWith: return 3;
    case Op::kStrContains: return 4;
    case Op::kStrGlob: return 6;
    case Op::kListHasStr:
    case Op::kListAnyIn:
    case Op::kIntListHas: return 8;
    default: return 1;
  }
}

void Matcher::Build(const std::vector<const Program*>& programs, const ByType& by_type) {
  struct Conj {
    uint32_t pos;
    const Program* p;
    uint32_t node;      // the indexable leaf
    bool neg;           // the conjunct is "not leaf"
    uint32_t conjunct;  // the conjunct's own node (for the residual fallback)
  };
  // Per type: the indexable conjuncts by field, and the other conjuncts
  // (program node ids) per position.
  std::array<std::map<FieldId, std::vector<Conj>>, kEventTypeCount> absorbable;
  std::array<std::vector<std::vector<uint32_t>>, kEventTypeCount> rest;
  size_t max_rules = 0, max_words = 0;
  for (int t = 0; t < kEventTypeCount; ++t) {
    TypeIndex& ti = types_[t];
    ti.rules = by_type[t];
    const size_t n = ti.rules.size();
    ti.words = static_cast<uint32_t>((n + 63) / 64);
    max_rules = std::max(max_rules, n);
    max_words = std::max<size_t>(max_words, ti.words);
    ti.base.assign(ti.words, 0);
    for (size_t j = 0; j < n; ++j) ti.base[j / 64] |= uint64_t{1} << (j % 64);
    rest[t].resize(n);
    for (size_t j = 0; j < n; ++j) {
      const Program& p = *programs[ti.rules[j]];
      std::vector<uint32_t> conj;
      const Node& root = p.nodes_[p.root_];
      if (root.op == Op::kAnd) {
        for (uint32_t k = 0; k < root.b; ++k) conj.push_back(p.children_[root.a + k]);
      } else {
        conj.push_back(p.root_);
      }
      for (uint32_t c : conj) {
        int v = ConstAt(p.nodes_, c, static_cast<EventType>(t));
        if (v == 1) continue;
        if (v == 0) {
          ti.base[j / 64] &= ~(uint64_t{1} << (j % 64));
          continue;
        }
        const Node& cn = p.nodes_[c];
        if (IsIndexable(cn.op)) {
          absorbable[t][cn.field].push_back(Conj{static_cast<uint32_t>(j), &p, c, false, c});
        } else if (cn.op == Op::kNot && IsIndexable(p.nodes_[cn.a].op)) {
          absorbable[t][p.nodes_[cn.a].field].push_back(Conj{static_cast<uint32_t>(j), &p, cn.a, true, c});
        } else {
          rest[t][j].push_back(c);
        }
      }
    }
  }

  // One dictionary per field, holding every constant its indexable tests
  // name (over all types).
  std::map<FieldId, std::pair<std::set<std::string>, std::set<int64_t>>> constants;
  for (const auto& by_field : absorbable) {
    for (const auto& [field, conjs] : by_field) {
      auto& [strs, ints] = constants[field];
      for (const Conj& c : conjs) {
        const Node& n = c.p->nodes_[c.node];
        switch (n.op) {
          case Op::kStrEq:
          case Op::kStrNe: strs.insert(c.p->strings_[n.a]); break;
          case Op::kStrIn: strs.insert(c.p->str_sets_[n.a].strings.begin(), c.p->str_sets_[n.a].strings.end()); break;
          case Op::kIntEq:
          case Op::kIntNe: ints.insert(n.imm); break;
          case Op::kIntIn: ints.insert(c.p->int_sets_[n.a].begin(), c.p->int_sets_[n.a].end()); break;
          default: break;
        }
      }
    }
  }
  std::map<FieldId, uint32_t> dict_of;
  for (auto& [field, sets] : constants) {
    Dict d;
    d.is_string = GetFieldInfo(field).type == FieldType::kString;
    if (d.is_string) {
      for (const auto& s : sets.first) {
        d.strs.push_back(s);
        d.hashes.push_back(HashString(s));
      }
    } else {
      for (int64_t v : sets.second) {
        d.ints.push_back(v);
        d.hashes.push_back(MixInt(v));
      }
    }
    size_t cap = 8;
    while (cap < 2 * d.size()) cap *= 2;
    d.table.assign(cap, 0);
    d.mask = cap - 1;
    for (size_t k = 0; k < d.size(); ++k) {
      size_t i = d.hashes[k] & d.mask;
      while (d.table[i] != 0) i = (i + 1) & d.mask;
      d.table[i] = static_cast<uint32_t>(k + 1);
    }
    dict_of[field] = static_cast<uint32_t>(dicts_.size());
    dicts_.push_back(std::move(d));
  }

  for (int t = 0; t < kEventTypeCount; ++t) {
    TypeIndex& ti = types_[t];
    for (const auto& [field, conjs] : absorbable[t]) {
      const Dict& d = dicts_[dict_of[field]];
      const size_t values = d.size() + 2;
      if (values * ti.words > kMaxIndexWords) {
        for (const Conj& c : conjs) rest[t][c.pos].push_back(c.conjunct);
        continue;
      }
      FieldIndex fi;
      fi.field = field;
      fi.dict = dict_of[field];
      fi.masks.assign(values * ti.words, ~uint64_t{0});
      for (const Conj& c : conjs) {
        const Node& n = c.p->nodes_[c.node];
        for (size_t vid = 0; vid < values; ++vid) {
          bool v;
          if (vid == 0) {
            v = false;  // every test on an absent field is false, exists too
          } else if (n.op == Op::kExists) {
            v = true;
          } else if (vid == 1) {
            v = n.op == Op::kStrNe || n.op == Op::kIntNe;  // a value equal to no constant
          } else {
            const size_t k = vid - 2;
            switch (n.op) {
              case Op::kStrEq: v = d.strs[k] == c.p->strings_[n.a]; break;
              case Op::kStrNe: v = d.strs[k] != c.p->strings_[n.a]; break;
              case Op::kStrIn: v = Program::InStrSet(c.p->str_sets_[n.a], d.hashes[k], d.strs[k]); break;
              case Op::kIntEq: v = d.ints[k] == n.imm; break;
              case Op::kIntNe: v = d.ints[k] != n.imm; break;
              case Op::kIntIn: v = std::binary_search(c.p->int_sets_[n.a].begin(), c.p->int_sets_[n.a].end(), d.ints[k]); break;
              default: v = false; break;
            }
          }
          if (v == c.neg) fi.masks[vid * ti.words + c.pos / 64] &= ~(uint64_t{1} << (c.pos % 64));
        }
      }
      ti.fields.push_back(std::move(fi));
    }
    // Residual conditions, cheapest conjunct first. The conjuncts keep
    // their relative order among equal costs (stable sort).
    ti.residual.assign(ti.rules.size(), kAlways);
    for (size_t j = 0; j < ti.rules.size(); ++j) {
      if (rest[t][j].empty()) continue;
      const Program& p = *programs[ti.rules[j]];
      std::vector<uint32_t> kids;
      for (uint32_t c : rest[t][j]) kids.push_back(Convert(p, c));
      std::stable_sort(kids.begin(), kids.end(), [&](uint32_t l, uint32_t r) { return Cost(l) < Cost(r); });
      if (kids.size() == 1) {
        ti.residual[j] = kids[0];
        continue;
      }
      XNode x;
      x.kind = XKind::kAnd;
      x.b = static_cast<uint32_t>(kids.size());
      ti.residual[j] = InternX(x, kids);
    }
  }
  // And/Or nodes reached from more than one place get a memo slot.
  std::vector<uint32_t> refs(xnodes_.size(), 0);
  for (const XNode& x : xnodes_) {
    if (x.kind == XKind::kAnd || x.kind == XKind::kOr) {
      for (uint32_t k = 0; k < x.b; ++k) ++refs[xkids_[x.a + k]];
    } else if (x.kind == XKind::kNot) {
      ++refs[x.a];
    }
  }
  for (const TypeIndex& ti : types_) {
    for (uint32_t r : ti.residual) {
      if (r != kAlways) ++refs[r];
    }
  }
  uint32_t slots = static_cast<uint32_t>(leaves_.size());
  for (size_t i = 0; i < xnodes_.size(); ++i) {
    XNode& x = xnodes_[i];
    if ((x.kind == XKind::kAnd || x.kind == XKind::kOr) && refs[i] > 1) x.memo = slots++;
  }
  leaf_ids_.clear();
  xnode_ids_.clear();
  memo_.assign(slots, 0);
  gen_ = 0;
  cand_.assign(max_words, 0);
  out_.assign(max_rules, 0);
}

uint32_t Matcher::ValueId(const Dict& d, const Event& e, FieldId f) {
  if (!e.Has(f)) return 0;
  if (d.is_string) {
    const uint64_t h = e.GetStringHash(f);
    for (size_t i = h & d.mask;; i = (i + 1) & d.mask) {
      const uint32_t k = d.table[i];
      if (k == 0) return 1;
      if (d.hashes[k - 1] == h) {
        const std::string& s = d.strs[k - 1];
        std::string_view v = e.GetString(f);
        if (s.size() == v.size() && std::memcmp(s.data(), v.data(), v.size()) == 0) return k + 1;
      }
    }
  }
  const int64_t v = e.GetInt(f);
  for (size_t i = MixInt(v) & d.mask;; i = (i + 1) & d.mask) {
    const uint32_t k = d.table[i];
    if (k == 0) return 1;
    if (d.ints[k - 1] == v) return k + 1;
  }
}

bool Matcher::ComputeLeaf(const Leaf& l, const Event& e) {
  // Mirrors Program::EvalNode's leaves exactly (the reference).
  switch (l.op) {
    case Op::kConst: return l.imm != 0;
    case Op::kExists: return e.Has(l.field);
    case Op::kTypeIn: return (static_cast<uint64_t>(l.imm) >> static_cast<unsigned>(e.type())) & 1u;
    default: break;
  }
  if (!e.Has(l.field)) return false;
  switch (l.op) {
    case Op::kStrEq: return e.GetStringHash(l.field) == l.hash && e.GetString(l.field) == l.str;
    case Op::kStrNe: return e.GetStringHash(l.field) != l.hash || e.GetString(l.field) != l.str;
    case Op::kStrIn: return Program::InStrSet(l.set, e.GetStringHash(l.field), e.GetString(l.field));
    case Op::kStrContains: return e.GetString(l.field).find(l.str) != std::string_view::npos;
    case Op::kStrStartsWith: return e.GetString(l.field).starts_with(l.str);
    case Op::kStrEndsWith: return e.GetString(l.field).ends_with(l.str);
    case Op::kStrGlob: return GlobMatch(l.str, e.GetString(l.field));
    case Op::kIntEq: return e.GetInt(l.field) == l.imm;
    case Op::kIntNe: return e.GetInt(l.field) != l.imm;
    case Op::kIntLt: return e.GetInt(l.field) < l.imm;
    case Op::kIntLe: return e.GetInt(l.field) <= l.imm;
    case Op::kIntGt: return e.GetInt(l.field) > l.imm;
    case Op::kIntGe: return e.GetInt(l.field) >= l.imm;
    case Op::kIntIn: return std::binary_search(l.ints.begin(), l.ints.end(), e.GetInt(l.field));
    case Op::kListHasStr:
      for (const auto& s : e.GetStringList(l.field)) {
        if (s == l.str) return true;
      }
      return false;
    case Op::kListAnyIn:
      for (const auto& s : e.GetStringList(l.field)) {
        if (Program::InStrSet(l.set, HashString(s), s)) return true;
      }
      return false;
    case Op::kIntListHas:
      for (int64_t v : e.GetIntList(l.field)) {
        if (v == l.imm) return true;
      }
      return false;
    default:
      return false;
  }
}

bool Matcher::EvalLeaf(uint32_t id, const Event& e) {
  const Leaf& l = leaves_[id];
  if (!l.memo) return ComputeLeaf(l, e);
  uint32_t& m = memo_[id];
  if ((m >> 1) == gen_) return (m & 1u) != 0;
  const bool v = ComputeLeaf(l, e);
  m = (gen_ << 1) | (v ? 1u : 0u);
  return v;
}

bool Matcher::EvalComposite(const XNode& x, const Event& e) {
  switch (x.kind) {
    case XKind::kAnd:
      for (uint32_t k = 0; k < x.b; ++k) {
        if (!EvalX(xkids_[x.a + k], e)) return false;
      }
      return true;
    case XKind::kOr:
      for (uint32_t k = 0; k < x.b; ++k) {
        if (EvalX(xkids_[x.a + k], e)) return true;
      }
      return false;
    case XKind::kNot: return !EvalX(x.a, e);
    case XKind::kConst: return x.a != 0;
    case XKind::kLeaf: return EvalLeaf(x.a, e);
  }
  return false;
}

bool Matcher::EvalX(uint32_t i, const Event& e) {
  const XNode& x = xnodes_[i];
  if (x.kind == XKind::kLeaf) return EvalLeaf(x.a, e);
  if (x.memo == kNoMemo) return EvalComposite(x, e);
  uint32_t& m = memo_[x.memo];
  if ((m >> 1) == gen_) return (m & 1u) != 0;
  const bool v = EvalComposite(x, e);
  m = (gen_ << 1) | (v ? 1u : 0u);
  return v;
}

std::span<const uint32_t> Matcher::Match(const Event& e) {
  const TypeIndex& ti = types_[static_cast<unsigned>(e.type())];
  if (ti.rules.empty()) return {};
  if (++gen_ == (1u << 31)) {  // gen_ * 2 would overflow: forget every memo
    std::fill(memo_.begin(), memo_.end(), 0);
    gen_ = 1;
  }
  const uint32_t words = ti.words;
  uint64_t* cand = cand_.data();
  std::memcpy(cand, ti.base.data(), words * sizeof(uint64_t));
  for (const FieldIndex& fi : ti.fields) {
    const uint64_t* m = fi.masks.data() + size_t{ValueId(dicts_[fi.dict], e, fi.field)} * words;
    for (uint32_t w = 0; w < words; ++w) cand[w] &= m[w];
  }
  size_t n = 0;
  for (uint32_t w = 0; w < words; ++w) {
    for (uint64_t bits = cand[w]; bits != 0; bits &= bits - 1) {
      const size_t j = size_t{w} * 64 + static_cast<size_t>(std::countr_zero(bits));
      ++candidates_;
      const uint32_t r = ti.residual[j];
      if (r == kAlways || EvalX(r, e)) out_[n++] = ti.rules[j];
    }
  }
  return {out_.data(), n};
}

}  // namespace edgeward::rules::internal
