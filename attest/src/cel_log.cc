// CEL-JSON measurement log: building records and parsing the log. The
// layout and the canonical content encoding are specified in cel.h.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "edgeward/attest/cel.h"
#include "edgeward/attest/eventlog.h"
#include "eventlog_internal.h"

namespace edgeward::attest {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr char kContentTag[16] = "edgeward.file/1";  // 15 chars + NUL
constexpr int kMaxJsonDepth = 8;

void PutBe(Bytes& b, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

Status LineError(size_t line, const std::string& what) {
  return InvalidArgument("cel log: line " + std::to_string(line) + ": " + what);
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Nesting depth of a JSON text, counted outside strings. nlohmann's parser
// is not recursive, but a record never nests deeper than 3, so anything
// deeper is garbage we need not build.
int JsonDepth(std::string_view s) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : s) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

// True when `s` is valid UTF-8 (nlohmann's dump would throw otherwise).
bool IsUtf8(std::string_view s) {
  try {
    (void)Json(std::string(s)).dump();
    return true;
  } catch (const Json::exception&) {
    return false;
  }
}

// Reads and validates the "content" object of an edgeward.file record.
Status ParseFileContent(const Json& c, size_t line, CelFileMeasurement& m) {
  if (!c.is_object()) return LineError(line, "content is not an object");
  for (const auto& [key, value] : c.items()) {
    (void)value;
    if (key != "path" && key != "path_hex" && key != "file_hash_alg" && key != "file_digest" &&
        key != "size" && key != "mtime") {
      return LineError(line, "unknown content field '" + internal::Printable(key.substr(0, 40)) + "'");
    }
  }
  const bool has_path = c.contains("path"), has_hex = c.contains("path_hex");
  if (has_path == has_hex) return LineError(line, "content needs exactly one of path, path_hex");
  if (has_path) {
    if (!c["path"].is_string()) return LineError(line, "content.path is not a string");
    m.path = c["path"].get<std::string>();
  } else {
    if (!c["path_hex"].is_string()) return LineError(line, "content.path_hex is not a string");
    const auto& hex = c["path_hex"].get_ref<const std::string&>();
    if (!IsLowerHex(hex)) return LineError(line, "content.path_hex is not lower-case hex");
    auto bytes = HexDecode(hex);
    if (!bytes.ok()) return LineError(line, "content.path_hex: " + bytes.status().message());
    m.path.assign(bytes->begin(), bytes->end());
  }
  if (!c.contains("file_hash_alg") || !c["file_hash_alg"].is_string()) {
    return LineError(line, "content.file_hash_alg missing or not a string");
  }
  auto alg = crypto::HashAlgFromName(c["file_hash_alg"].get_ref<const std::string&>());
  if (!alg)
    return LineError(line, "content.file_hash_alg '" +
                               internal::Printable(c["file_hash_alg"].get<std::string>().substr(0, 40)) +
                               "' unknown");
  m.file_hash_alg = *alg;
  if (!c.contains("file_digest") || !c["file_digest"].is_string()) {
    return LineError(line, "content.file_digest missing or not a string");
  }
  const auto& fd = c["file_digest"].get_ref<const std::string&>();
  if (fd.size() != 2 * crypto::DigestSize(*alg) || !IsLowerHex(fd)) {
    return LineError(line, "content.file_digest must be " + std::to_string(2 * crypto::DigestSize(*alg)) +
                               " lower-case hex digits");
  }
  m.file_digest = *HexDecode(fd);
  if (c.contains("size")) {
    if (!c["size"].is_number_unsigned()) return LineError(line, "content.size is not an unsigned integer");
    m.size = c["size"].get<uint64_t>();
  }
  if (c.contains("mtime")) {
    const Json& t = c["mtime"];
    if (t.is_number_integer() && !t.is_number_unsigned()) {
      m.mtime = t.get<int64_t>();
    } else if (t.is_number_unsigned() && t.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
      m.mtime = static_cast<int64_t>(t.get<uint64_t>());
    } else {
      return LineError(line, "content.mtime is not a 64-bit integer");
    }
  }
  auto canonical = CanonicalFileContent(m);
  if (!canonical.ok()) return LineError(line, "content: " + canonical.status().message());
  return Status::Ok();
}

// Parses one complete record line into `e`; `recnum` is what it must carry.
Status ParseRecord(std::string_view text, size_t line, uint64_t recnum, LogEvent& e) {
  if (text.size() > kMaxCelLineBytes) {
    return LineError(line, "longer than " + std::to_string(kMaxCelLineBytes) + " bytes");
  }
  if (JsonDepth(text) > kMaxJsonDepth) return LineError(line, "JSON nested too deeply");
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return LineError(line, "not valid JSON");
  if (!j.is_object()) return LineError(line, "record is not a JSON object");
  for (const auto& [key, value] : j.items()) {
    (void)value;
    if (key != "recnum" && key != "pcr" && key != "digests" && key != "content_type" && key != "content") {
      return LineError(line, "unknown field '" + internal::Printable(key.substr(0, 40)) + "'");
    }
  }
  if (!j.contains("recnum") || !j["recnum"].is_number_unsigned()) {
    return LineError(line, "recnum missing or not an unsigned integer");
  }
  const uint64_t got = j["recnum"].get<uint64_t>();
  if (got != recnum) {
    return LineError(line, "recnum " + std::to_string(got) + " where " + std::to_string(recnum) +
                               " was expected (" +
                               (got < recnum ? "duplicate or out of order" : "records missing") + ")");
  }
  if (!j.contains("pcr") || !j["pcr"].is_number_unsigned() || j["pcr"].get<uint64_t>() >= tpm::kNumPcrs) {
    return LineError(line, "pcr missing or not an index below " + std::to_string(tpm::kNumPcrs));
  }
  e.pcr = static_cast<uint32_t>(j["pcr"].get<uint64_t>());
  if (!j.contains("content_type") || !j["content_type"].is_string()) {
    return LineError(line, "content_type missing or not a string");
  }
  if (j["content_type"].get_ref<const std::string&>() != kCelFileContentType) {
    return LineError(line, "unsupported content_type '" +
                               internal::Printable(j["content_type"].get<std::string>().substr(0, 40)) + "'");
  }
  e.type = std::string(kCelFileContentType);
  if (!j.contains("content")) return LineError(line, "content missing");
  CelFileMeasurement m;
  EW_RETURN_IF_ERROR(ParseFileContent(j["content"], line, m));
  const Bytes canonical = *CanonicalFileContent(m);

  if (!j.contains("digests") || !j["digests"].is_array() || j["digests"].empty()) {
    return LineError(line, "digests missing or not a non-empty array");
  }
  for (const Json& d : j["digests"]) {
    if (!d.is_object() || d.size() != 2 || !d.contains("hashAlg") || !d["hashAlg"].is_string() ||
        !d.contains("digest") || !d["digest"].is_string()) {
      return LineError(line, "each digest must be {\"hashAlg\": name, \"digest\": hex}");
    }
    auto bank = crypto::HashAlgFromName(d["hashAlg"].get_ref<const std::string&>());
    if (!bank) {
      return LineError(line, "unknown hashAlg '" +
                                 internal::Printable(d["hashAlg"].get<std::string>().substr(0, 40)) + "'");
    }
    const auto& hex = d["digest"].get_ref<const std::string&>();
    if (hex.size() != 2 * crypto::DigestSize(*bank) || !IsLowerHex(hex)) {
      return LineError(line, std::string(crypto::HashAlgName(*bank)) + " digest must be " +
                                 std::to_string(2 * crypto::DigestSize(*bank)) + " lower-case hex digits");
    }
    Bytes value = *HexDecode(hex);
    if (value != crypto::Digest(*bank, canonical)) {
      return LineError(line, std::string(crypto::HashAlgName(*bank)) + " digest " + hex +
                                 " does not match the record's content");
    }
    if (!e.digests.emplace(*bank, std::move(value)).second) {
      return LineError(line, "two " + std::string(crypto::HashAlgName(*bank)) + " digests");
    }
  }
  e.path = std::move(m.path);
  e.file_digest_alg = m.file_hash_alg;
  e.file_digest = std::move(m.file_digest);
  if (m.size) e.description = "size " + std::to_string(*m.size);
  if (m.mtime)
    e.description += std::string(e.description.empty() ? "" : ", ") + "mtime " + std::to_string(*m.mtime);
  return Status::Ok();
}

}  // namespace

StatusOr<Bytes> CanonicalFileContent(const CelFileMeasurement& m) {
  if (m.path.empty() || m.path.size() > kMaxCelPathBytes) {
    return InvalidArgument("file measurement: path of " + std::to_string(m.path.size()) + " bytes (1.." +
                           std::to_string(kMaxCelPathBytes) + " allowed)");
  }
  if (m.path.find('\0') != std::string::npos) return InvalidArgument("file measurement: path contains NUL");
  if (m.file_digest.size() != crypto::DigestSize(m.file_hash_alg)) {
    return InvalidArgument("file measurement: " + std::string(crypto::HashAlgName(m.file_hash_alg)) +
                           " digest of " + std::to_string(m.file_digest.size()) + " bytes");
  }
  Bytes out(kContentTag, kContentTag + sizeof kContentTag);
  out.reserve(64 + m.path.size() + m.file_digest.size());
  PutBe(out, m.path.size(), 4);
  out.insert(out.end(), m.path.begin(), m.path.end());
  PutBe(out, static_cast<uint16_t>(m.file_hash_alg), 2);
  PutBe(out, m.file_digest.size(), 2);
  out.insert(out.end(), m.file_digest.begin(), m.file_digest.end());
  out.push_back(m.size ? 1 : 0);
  if (m.size) PutBe(out, *m.size, 8);
  out.push_back(m.mtime ? 1 : 0);
  if (m.mtime) PutBe(out, static_cast<uint64_t>(*m.mtime), 8);
  return out;
}

StatusOr<CelRecord> BuildCelFileRecord(uint64_t recnum, uint32_t pcr, const CelFileMeasurement& m,
                                       std::span<const crypto::HashAlg> banks) {
  if (pcr >= tpm::kNumPcrs)
    return InvalidArgument("cel record: PCR " + std::to_string(pcr) + " out of range");
  if (banks.empty()) return InvalidArgument("cel record: no banks");
  EW_ASSIGN_OR_RETURN(Bytes canonical, CanonicalFileContent(m));
  CelRecord rec;
  OrderedJson digests = OrderedJson::array();
  for (crypto::HashAlg bank : banks) {
    if (rec.digests.count(bank)) {
      return InvalidArgument("cel record: bank " + std::string(crypto::HashAlgName(bank)) + " given twice");
    }
    Bytes d = crypto::Digest(bank, canonical);
    digests.push_back({{"hashAlg", crypto::HashAlgName(bank)}, {"digest", HexEncode(d)}});
    rec.digests.emplace(bank, std::move(d));
  }
  OrderedJson content = OrderedJson::object();
  if (IsUtf8(m.path)) {
    content["path"] = m.path;
  } else {
    content["path_hex"] = HexEncode(AsBytes(m.path));
  }
  content["file_hash_alg"] = crypto::HashAlgName(m.file_hash_alg);
  content["file_digest"] = HexEncode(m.file_digest);
  if (m.size) content["size"] = *m.size;
  if (m.mtime) content["mtime"] = *m.mtime;
  OrderedJson j = {{"recnum", recnum},
                   {"pcr", pcr},
                   {"digests", std::move(digests)},
                   {"content_type", kCelFileContentType},
                   {"content", std::move(content)}};
  rec.line = j.dump();  // the path is valid UTF-8 or hex, so dump() can't throw
  return rec;
}

StatusOr<ParsedLog> ParseCelLog(std::string_view text) {
  if (text.size() > kMaxEventLogBytes) {
    return ResourceExhausted("cel log: " + std::to_string(text.size()) + " bytes exceeds the cap of " +
                             std::to_string(kMaxEventLogBytes));
  }
  ParsedLog log;
  log.format = EventLogFormat::kCel;
  size_t lineno = 0;
  while (!text.empty()) {
    ++lineno;
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      // Our writer emits each record and its newline in one write and
      // extends the PCR only after fsync, so a last line without its
      // newline is a write cut short: its extend never happened.
      log.warnings.push_back("cel log: line " + std::to_string(lineno) + ": trailing partial record (" +
                             std::to_string(text.size()) + " bytes without a newline) ignored");
      break;
    }
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (line.empty()) return LineError(lineno, "empty line");
    if (log.events.size() >= kMaxEventLogEvents) {
      return ResourceExhausted("cel log: more than " + std::to_string(kMaxEventLogEvents) + " records");
    }
    LogEvent e;
    e.index = log.events.size();
    e.line = lineno;
    EW_RETURN_IF_ERROR(ParseRecord(line, lineno, e.index, e));
    for (const auto& [bank, d] : e.digests) {
      (void)d;
      if (std::find(log.banks.begin(), log.banks.end(), bank) == log.banks.end()) log.banks.push_back(bank);
    }
    log.events.push_back(std::move(e));
  }
  return log;
}

}  // namespace edgeward::attest
