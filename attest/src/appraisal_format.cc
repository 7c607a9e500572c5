// Verdict text/JSON and the appraisal state's JSON form.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "edgeward/attest/appraisal.h"

namespace edgeward::attest {
namespace {

using json = nlohmann::json;

json StateJson(const AppraisalState& s) {
  json j = {{"ak_name", HexEncode(s.ak_name)},
            {"clock", s.clock},
            {"reset_count", s.reset_count},
            {"restart_count", s.restart_count}};
  if (s.ima) {
    json pcrs = json::object();
    for (const auto& [bank, values] : s.ima->pcrs) {
      json b = json::object();
      for (const auto& [pcr, value] : values) b[std::to_string(pcr)] = HexEncode(value);
      pcrs[std::string(crypto::HashAlgName(bank))] = std::move(b);
    }
    j["ima"] = {{"entries", s.ima->entries}, {"reset_count", s.ima->reset_count}, {"pcrs", std::move(pcrs)}};
  }
  return j;
}

Status GetUnsigned(const json& j, const std::string& path, const char* key, uint64_t max, uint64_t& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned() || it->get<uint64_t>() > max) {
    return InvalidArgument(path + "." + key + ": missing or not an unsigned integer");
  }
  out = it->get<uint64_t>();
  return Status::Ok();
}

StatusOr<ImaState> DecodeImaState(const json& j) {
  const std::string path = "appraisal state.ima";
  if (!j.is_object()) return InvalidArgument(path + ": not an object");
  ImaState s;
  uint64_t reset = 0;
  EW_RETURN_IF_ERROR(GetUnsigned(j, path, "entries", kMaxImaStartEntry, s.entries));
  EW_RETURN_IF_ERROR(GetUnsigned(j, path, "reset_count", UINT32_MAX, reset));
  s.reset_count = static_cast<uint32_t>(reset);
  auto pcrs = j.find("pcrs");
  if (pcrs == j.end() || !pcrs->is_object()) return InvalidArgument(path + ".pcrs: missing or not an object");
  for (const auto& [bank_name, values] : pcrs->items()) {
    const std::string bank_path = path + ".pcrs." + bank_name;
    auto bank = crypto::HashAlgFromName(bank_name);
    if (!bank) return InvalidArgument(bank_path + ": unknown hash algorithm");
    if (!values.is_object()) return InvalidArgument(bank_path + ": not an object");
    auto& out = s.pcrs[*bank];
    for (const auto& [index, hex] : values.items()) {
      uint32_t pcr = 0;
      const bool digits = !index.empty() && index.size() <= 2 &&
                          std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (digits) pcr = static_cast<uint32_t>(std::stoul(index));
      if (!digits || pcr >= tpm::kNumPcrs) return InvalidArgument(bank_path + "." + index + ": not a PCR index");
      if (!hex.is_string()) return InvalidArgument(bank_path + "." + index + ": not a string");
      auto value = HexDecode(hex.get<std::string>());
      if (!value.ok() || value->size() != crypto::DigestSize(*bank)) {
        return InvalidArgument(bank_path + "." + index + ": not a " + std::string(crypto::HashAlgName(*bank)) +
                               " digest in hex");
      }
      out.emplace(pcr, std::move(value).value());
    }
  }
  return s;
}

// Paths come from outside and may hold bytes JSON can't carry; replace them
// rather than fail the whole verdict.
std::string Dump(const json& j, int indent) { return j.dump(indent, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string EncodeAppraisalState(const AppraisalState& state) { return Dump(StateJson(state), -1); }

StatusOr<AppraisalState> DecodeAppraisalState(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("appraisal state: not a JSON object");
  AppraisalState s;
  auto get_u = [&](const char* key, uint64_t max, uint64_t& out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_unsigned() || it->get<uint64_t>() > max) {
      return InvalidArgument(std::string("appraisal state.") + key + ": missing or not an unsigned integer");
    }
    out = it->get<uint64_t>();
    return Status::Ok();
  };
  uint64_t reset = 0, restart = 0;
  EW_RETURN_IF_ERROR(get_u("clock", UINT64_MAX, s.clock));
  EW_RETURN_IF_ERROR(get_u("reset_count", UINT32_MAX, reset));
  EW_RETURN_IF_ERROR(get_u("restart_count", UINT32_MAX, restart));
  s.reset_count = static_cast<uint32_t>(reset);
  s.restart_count = static_cast<uint32_t>(restart);
  auto name = j.find("ak_name");
  if (name == j.end() || !name->is_string()) return InvalidArgument("appraisal state.ak_name: missing or not a string");
  auto bytes = HexDecode(name->get<std::string>());
  if (!bytes.ok()) return InvalidArgument("appraisal state.ak_name: " + bytes.status().message());
  s.ak_name = std::move(bytes).value();
  if (auto ima = j.find("ima"); ima != j.end()) {
    EW_ASSIGN_OR_RETURN(ImaState is, DecodeImaState(*ima));
    s.ima = std::move(is);
  }
  return s;
}

std::string FormatVerdictText(const Verdict& v) {
  std::string out;
  size_t fails = 0, warns = 0;
  for (const Finding& f : v.findings) {
    if (f.severity == Severity::kFail) ++fails;
    if (f.severity == Severity::kWarn) ++warns;
    std::string line = f.severity == Severity::kFail ? "FAIL " : f.severity == Severity::kWarn ? "WARN " : "INFO ";
    line += f.check;
    line += ":";
    if (f.bank) line += " bank " + std::string(crypto::HashAlgName(*f.bank));
    if (f.pcr) line += " PCR " + std::to_string(*f.pcr);
    if (f.log_index) line += " log " + std::to_string(*f.log_index);
    if (f.event_index) line += " event " + std::to_string(*f.event_index);
    if (!f.path.empty()) line += " path " + f.path;
    line += " — " + f.message;
    if (!f.expected.empty()) line += "; expected " + f.expected;
    if (!f.actual.empty()) line += "; actual " + f.actual;
    // One finding per line, whatever the path contains.
    for (char& c : line) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    out += line;
    out += '\n';
  }
  out += v.pass ? "verdict: PASS" : "verdict: FAIL";
  out += " (" + std::to_string(fails) + (fails == 1 ? " failure, " : " failures, ") + std::to_string(warns) +
         (warns == 1 ? " warning" : " warnings");
  if (v.files_checked) out += ", " + std::to_string(v.files_checked) + " files checked";
  out += ")\n";
  return out;
}

std::string FormatVerdictJson(const Verdict& v, int indent) {
  json findings = json::array();
  for (const Finding& f : v.findings) {
    json j = {{"check", f.check}, {"severity", std::string(SeverityName(f.severity))}};
    if (f.bank) j["bank"] = std::string(crypto::HashAlgName(*f.bank));
    if (f.pcr) j["pcr"] = *f.pcr;
    if (f.log_index) j["log_index"] = *f.log_index;
    if (f.event_index) j["event_index"] = *f.event_index;
    if (!f.path.empty()) j["path"] = f.path;
    if (!f.expected.empty()) j["expected"] = f.expected;
    if (!f.actual.empty()) j["actual"] = f.actual;
    j["message"] = f.message;
    findings.push_back(std::move(j));
  }
  json doc = {{"pass", v.pass}, {"findings", std::move(findings)}};
  if (v.state) doc["state"] = StateJson(*v.state);
  return Dump(doc, indent);
}

}  // namespace edgeward::attest
