// Text and JSON renderings of a parsed log and its replay, for
// `edgeward attest log`. Strings from the log are made printable in text
// output (no terminal escapes) and JSON-escaped in JSON output.
#include <nlohmann/json.hpp>

#include "edgeward/attest/eventlog.h"
#include "eventlog_internal.h"

namespace edgeward::attest {
namespace {

using OrderedJson = nlohmann::ordered_json;

// JSON needs valid UTF-8; log strings are outside bytes, so anything else
// is shown printable instead.
std::string JsonSafe(const std::string& s) {
  try {
    (void)OrderedJson(s).dump();
    return s;
  } catch (const OrderedJson::exception&) {
    return internal::Printable(s);
  }
}

}  // namespace

std::string FormatLogText(const ParsedLog& log, const tpm::PcrValues& pcrs) {
  std::string out = "format: " + std::string(EventLogFormatName(log.format)) + "\nevents:\n";
  for (const LogEvent& e : log.events) {
    out += "- event " + std::to_string(e.index);
    if (e.line) out += " (line " + std::to_string(e.line) + ")";
    out += ": PCR " + std::to_string(e.pcr) + " " + internal::Printable(e.type);
    if (e.not_extended) out += " (not extended)";
    out += "\n";
    for (const auto& [bank, d] : e.digests) {
      out += "    " + std::string(crypto::HashAlgName(bank)) + ": " + HexEncode(d) + "\n";
    }
    if (!e.path.empty()) out += "    path: " + internal::Printable(e.path) + "\n";
    if (!e.file_digest.empty()) {
      out +=
          "    file digest: " +
          (e.file_digest_alg ? std::string(crypto::HashAlgName(*e.file_digest_alg)) + ":" : std::string()) +
          HexEncode(e.file_digest) + "\n";
    }
    if (!e.description.empty()) out += "    " + internal::Printable(e.description) + "\n";
  }
  out += "pcrs:\n";
  for (const auto& [bank, values] : pcrs) {
    out += "  " + std::string(crypto::HashAlgName(bank)) + ":\n";
    for (const auto& [index, value] : values) {
      std::string idx = std::to_string(index);
      idx.resize(3, ' ');
      out += "    " + idx + ": 0x" + HexEncode(value) + "\n";
    }
  }
  for (const std::string& w : log.warnings) out += "warning: " + internal::Printable(w) + "\n";
  return out;
}

std::string FormatLogJson(const ParsedLog& log, const tpm::PcrValues& pcrs) {
  OrderedJson events = OrderedJson::array();
  for (const LogEvent& e : log.events) {
    OrderedJson j;
    j["index"] = e.index;
    if (e.line) j["line"] = e.line;
    if (log.format == EventLogFormat::kUefi) j["offset"] = e.offset;
    j["pcr"] = e.pcr;
    j["type"] = JsonSafe(e.type);
    j["extended"] = !e.not_extended;
    OrderedJson digests = OrderedJson::object();
    for (const auto& [bank, d] : e.digests) digests[std::string(crypto::HashAlgName(bank))] = HexEncode(d);
    j["digests"] = std::move(digests);
    if (!e.path.empty()) j["path"] = JsonSafe(e.path);
    if (!e.file_digest.empty()) {
      if (e.file_digest_alg) j["file_hash_alg"] = crypto::HashAlgName(*e.file_digest_alg);
      j["file_digest"] = HexEncode(e.file_digest);
    }
    if (!e.description.empty()) j["description"] = JsonSafe(e.description);
    events.push_back(std::move(j));
  }
  OrderedJson banks = OrderedJson::object();
  for (const auto& [bank, values] : pcrs) {
    OrderedJson b = OrderedJson::object();
    for (const auto& [index, value] : values) b[std::to_string(index)] = HexEncode(value);
    banks[std::string(crypto::HashAlgName(bank))] = std::move(b);
  }
  OrderedJson warnings = OrderedJson::array();
  for (const std::string& w : log.warnings) warnings.push_back(JsonSafe(w));
  OrderedJson doc;
  doc["format"] = EventLogFormatName(log.format);
  doc["events"] = std::move(events);
  doc["pcrs"] = std::move(banks);
  doc["warnings"] = std::move(warnings);
  return doc.dump(2) + "\n";
}

}  // namespace edgeward::attest
