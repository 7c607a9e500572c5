// Evaluation of compiled conditions (the hot path: no allocation, field
// access by slot) and glob matching.
#include <algorithm>

#include "program.h"

namespace edgeward::rules::internal {

bool GlobMatch(std::string_view p, std::string_view t) {
  // Iterative matcher with single-star backtracking: O(|p|·|t|) worst case,
  // no recursion, no allocation.
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

Program::StrSet Program::MakeStrSet(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  std::vector<std::pair<uint64_t, std::string>> v;
  for (auto& s : items) v.emplace_back(HashString(s), std::move(s));
  std::sort(v.begin(), v.end());
  StrSet set;
  for (auto& [h, s] : v) {
    set.hashes.push_back(h);
    set.strings.push_back(std::move(s));
  }
  return set;
}

bool Program::InStrSet(const StrSet& set, uint64_t hash, std::string_view v) {
  size_t i = 0;
  if (set.hashes.size() <= 16) {
    while (i < set.hashes.size() && set.hashes[i] < hash) ++i;
  } else {
    i = static_cast<size_t>(std::lower_bound(set.hashes.begin(), set.hashes.end(), hash) - set.hashes.begin());
  }
  for (; i < set.hashes.size() && set.hashes[i] == hash; ++i) {
    if (set.strings[i] == v) return true;
  }
  return false;
}

namespace {
bool InIntSet(const std::vector<int64_t>& set, int64_t v) {
  return std::binary_search(set.begin(), set.end(), v);
}
}  // namespace

bool Program::EvalNode(uint32_t i, const Event& e) const {
  const Node& n = nodes_[i];
  switch (n.op) {
    case Op::kAnd:
      for (uint32_t k = 0; k < n.b; ++k) {
        if (!EvalNode(children_[n.a + k], e)) return false;
      }
      return true;
    case Op::kOr:
      for (uint32_t k = 0; k < n.b; ++k) {
        if (EvalNode(children_[n.a + k], e)) return true;
      }
      return false;
    case Op::kNot:
      return !EvalNode(n.a, e);
    case Op::kConst:
      return n.imm != 0;
    case Op::kExists:
      return e.Has(n.field);
    case Op::kTypeIn:
      return (static_cast<uint64_t>(n.imm) >> static_cast<unsigned>(e.type())) & 1u;
    default:
      break;
  }
  if (!e.Has(n.field)) return false;
  switch (n.op) {
    case Op::kStrEq:
      return e.GetStringHash(n.field) == string_hashes_[n.a] && e.GetString(n.field) == strings_[n.a];
    case Op::kStrNe:
      return e.GetStringHash(n.field) != string_hashes_[n.a] || e.GetString(n.field) != strings_[n.a];
    case Op::kStrIn: return InStrSet(str_sets_[n.a], e.GetStringHash(n.field), e.GetString(n.field));
    case Op::kStrContains: return e.GetString(n.field).find(strings_[n.a]) != std::string_view::npos;
    case Op::kStrStartsWith: return e.GetString(n.field).starts_with(strings_[n.a]);
    case Op::kStrEndsWith: return e.GetString(n.field).ends_with(strings_[n.a]);
    case Op::kStrGlob: return GlobMatch(strings_[n.a], e.GetString(n.field));
    case Op::kIntEq: return e.GetInt(n.field) == n.imm;
    case Op::kIntNe: return e.GetInt(n.field) != n.imm;
    case Op::kIntLt: return e.GetInt(n.field) < n.imm;
    case Op::kIntLe: return e.GetInt(n.field) <= n.imm;
    case Op::kIntGt: return e.GetInt(n.field) > n.imm;
    case Op::kIntGe: return e.GetInt(n.field) >= n.imm;
    case Op::kIntIn: return InIntSet(int_sets_[n.a], e.GetInt(n.field));
    case Op::kListHasStr:
      for (const auto& s : e.GetStringList(n.field)) {
        if (s == strings_[n.a]) return true;
      }
      return false;
    case Op::kListAnyIn:
      for (const auto& s : e.GetStringList(n.field)) {
        if (InStrSet(str_sets_[n.a], HashString(s), s)) return true;
      }
      return false;
    case Op::kIntListHas:
      for (int64_t v : e.GetIntList(n.field)) {
        if (v == n.imm) return true;
      }
      return false;
    default:
      return false;
  }
}

}  // namespace edgeward::rules::internal
