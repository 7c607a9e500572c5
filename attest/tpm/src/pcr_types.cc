#include "edgeward/tpm/pcr_types.h"

#include <charconv>
#include <vector>

namespace edgeward::tpm {
namespace {

StatusOr<uint32_t> ParseIndex(std::string_view s, std::string_view token) {
  uint32_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
    return InvalidArgument("PCR selection: '" + std::string(token) + "' is not a PCR index");
  }
  if (v >= kNumPcrs) {
    return InvalidArgument("PCR selection: index " + std::to_string(v) + " in '" + std::string(token) +
                           "' is out of range (0-" + std::to_string(kNumPcrs - 1) + ")");
  }
  return v;
}

}  // namespace

StatusOr<PcrSelection> ParsePcrSelection(std::string_view text) {
  if (text.empty()) return InvalidArgument("PCR selection is empty");
  PcrSelection sel;
  std::set<uint32_t>* bank = nullptr;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find_first_of(",+", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view token = text.substr(pos, end - pos);
    if (token.empty()) return InvalidArgument("PCR selection: empty item at offset " + std::to_string(pos));
    std::string_view indices = token;
    if (auto colon = token.find(':'); colon != std::string_view::npos) {
      std::string_view name = token.substr(0, colon);
      auto alg = crypto::HashAlgFromName(name);
      if (!alg) return InvalidArgument("PCR selection: unknown bank '" + std::string(name) + "'");
      bank = &sel[*alg];
      indices = token.substr(colon + 1);
    } else if (bank == nullptr || (pos > 0 && text[pos - 1] == '+')) {
      return InvalidArgument("PCR selection: '" + std::string(token) + "' needs a bank, e.g. sha256:" +
                             std::string(token));
    }
    if (auto dash = indices.find('-'); dash != std::string_view::npos) {
      EW_ASSIGN_OR_RETURN(uint32_t lo, ParseIndex(indices.substr(0, dash), token));
      EW_ASSIGN_OR_RETURN(uint32_t hi, ParseIndex(indices.substr(dash + 1), token));
      if (lo > hi) return InvalidArgument("PCR selection: range '" + std::string(token) + "' is reversed");
      for (uint32_t i = lo; i <= hi; ++i) bank->insert(i);
    } else {
      EW_ASSIGN_OR_RETURN(uint32_t i, ParseIndex(indices, token));
      bank->insert(i);
    }
    pos = end + 1;
  }
  return sel;
}

std::string FormatPcrSelection(const PcrSelection& sel) {
  std::string out;
  for (const auto& [alg, idx] : sel) {
    if (!out.empty()) out += '+';
    out += crypto::HashAlgName(alg);
    out += ':';
    std::vector<uint32_t> v(idx.begin(), idx.end());
    for (size_t i = 0; i < v.size();) {
      size_t j = i;
      while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
      if (i > 0) out += ',';
      out += std::to_string(v[i]);
      if (j > i) out += '-' + std::to_string(v[j]);
      i = j + 1;
    }
  }
  return out;
}

PcrSelection SelectionOf(const PcrValues& values) {
  PcrSelection sel;
  for (const auto& [alg, m] : values) {
    auto& s = sel[alg];
    for (const auto& [i, v] : m) s.insert(i);
  }
  return sel;
}

}  // namespace edgeward::tpm
