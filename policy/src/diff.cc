// A small line-based LCS diff for `policy learn` (policy files are small;
// large inputs fall back to one replacement hunk after trimming the common
// prefix and suffix, so the cost stays bounded).
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/policy/learn.h"

namespace edgeward::policy {
namespace {

// Lines keep their '\n', so "c" at the end of a file differs from "c\n".
std::vector<std::string_view> SplitLines(const std::string& text) {
  std::vector<std::string_view> out;
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const size_t len = nl == std::string_view::npos ? rest.size() : nl + 1;
    out.push_back(rest.substr(0, len));
    rest.remove_prefix(len);
  }
  return out;
}

enum class Op : char { kKeep = ' ', kDel = '-', kAdd = '+' };
struct Edit {
  Op op;
  size_t a;  // index in a (kKeep, kDel)
  size_t b;  // index in b (kKeep, kAdd)
};

// Beyond this many DP cells the middle is shown as delete-all + add-all.
constexpr size_t kMaxCells = 16 * 1024 * 1024;

std::vector<Edit> Diff(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b) {
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre && a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) ++suf;
  const size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  std::vector<Edit> edits;
  for (size_t i = 0; i < pre; ++i) edits.push_back({Op::kKeep, i, i});
  if (n * m <= kMaxCells && n > 0 && m > 0) {
    // lcs[i][j]: LCS length of a[pre+i..] and b[pre+j..].
    std::vector<uint32_t> lcs((n + 1) * (m + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& { return lcs[i * (m + 1) + j]; };
    for (size_t i = n; i-- > 0;) {
      for (size_t j = m; j-- > 0;) {
        at(i, j) = a[pre + i] == b[pre + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
      }
    }
    size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[pre + i] == b[pre + j]) {
        edits.push_back({Op::kKeep, pre + i++, pre + j++});
      } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
        edits.push_back({Op::kDel, pre + i++, 0});  // deletions first, like diff -u
      } else {
        edits.push_back({Op::kAdd, 0, pre + j++});
      }
    }
  } else {
    for (size_t i = 0; i < n; ++i) edits.push_back({Op::kDel, pre + i, 0});
    for (size_t j = 0; j < m; ++j) edits.push_back({Op::kAdd, 0, pre + j});
  }
  for (size_t k = 0; k < suf; ++k) edits.push_back({Op::kKeep, a.size() - suf + k, b.size() - suf + k});
  return edits;
}

}  // namespace

std::string UnifiedDiff(const std::string& a, const std::string& b, const std::string& a_label,
                        const std::string& b_label, int context) {
  if (a == b) return "";
  const std::vector<std::string_view> la = SplitLines(a), lb = SplitLines(b);
  const std::vector<Edit> edits = Diff(la, lb);
  const size_t ctx = context < 0 ? 0 : static_cast<size_t>(context);
  std::string out = "--- " + a_label + "\n+++ " + b_label + "\n";

  auto emit_line = [&](Op op, const Edit& e) {
    const std::string_view line = op != Op::kAdd ? la[e.a] : lb[e.b];
    out += static_cast<char>(op);
    out += line;
    if (line.empty() || line.back() != '\n') out += "\n\\ No newline at end of file\n";
  };

  size_t k = 0;
  while (k < edits.size()) {
    // Find the next change, then grow the hunk while changes are within 2*ctx.
    while (k < edits.size() && edits[k].op == Op::kKeep) ++k;
    if (k == edits.size()) break;
    const size_t start = k >= ctx ? k - ctx : 0;
    size_t end = k;
    size_t last_change = k;
    while (end < edits.size()) {
      if (edits[end].op != Op::kKeep) last_change = end;
      else if (end - last_change > 2 * ctx) break;
      ++end;
    }
    end = std::min(edits.size(), last_change + ctx + 1);
    // Hunk header: 1-based starts; a count of 0 gives the line before.
    size_t a_start = 0, a_count = 0, b_start = 0, b_count = 0;
    bool a_set = false, b_set = false;
    size_t a_before = 0, b_before = 0;
    for (size_t i = 0; i < start; ++i) {
      if (edits[i].op != Op::kAdd) a_before = edits[i].a + 1;
      if (edits[i].op != Op::kDel) b_before = edits[i].b + 1;
    }
    for (size_t i = start; i < end; ++i) {
      if (edits[i].op != Op::kAdd) {
        if (!a_set) a_start = edits[i].a + 1, a_set = true;
        ++a_count;
      }
      if (edits[i].op != Op::kDel) {
        if (!b_set) b_start = edits[i].b + 1, b_set = true;
        ++b_count;
      }
    }
    if (!a_set) a_start = a_before;
    if (!b_set) b_start = b_before;
    out += "@@ -" + std::to_string(a_start) + (a_count == 1 ? "" : "," + std::to_string(a_count)) + " +" +
           std::to_string(b_start) + (b_count == 1 ? "" : "," + std::to_string(b_count)) + " @@\n";
    for (size_t i = start; i < end; ++i) emit_line(edits[i].op, edits[i]);
    k = end;
  }
  return out;
}

}  // namespace edgeward::policy
