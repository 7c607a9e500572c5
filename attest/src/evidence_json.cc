// Evidence <-> JSON (docs/evidence.md). Exceptions from nlohmann::json stay
// inside this file; every error names the JSON path of the bad field.
#include <charconv>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include "edgeward/attest/evidence.h"
#include "evidence_utf8.h"

namespace edgeward::attest {
namespace {

using json = nlohmann::json;

Status FieldError(std::string_view path, std::string_view problem) {
  std::string m;
  m.reserve(path.size() + problem.size() + 2);
  m.append(path).append(": ").append(problem);
  return InvalidArgument(std::move(m));
}

std::string Join(std::string_view a, std::string_view b) {
  std::string s;
  s.reserve(a.size() + b.size() + 1);
  s.append(a).append(".").append(b);
  return s;
}

const char* TypeName(const json& j) { return j.type_name(); }

// Rejects keys outside `allowed`, naming the first one found.
Status OnlyKeys(const json& obj, std::string_view path, std::initializer_list<std::string_view> allowed) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (std::string_view a : allowed) known = known || it.key() == a;
    if (!known) return FieldError(Join(path, it.key()), "unknown field");
  }
  return Status::Ok();
}

StatusOr<const json*> Member(const json& obj, std::string_view path, std::string_view key, bool required) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return FieldError(Join(path, key), "missing");
    return static_cast<const json*>(nullptr);
  }
  return &*it;
}

StatusOr<const json*> ObjectMember(const json& obj, std::string_view path, std::string_view key, bool required) {
  EW_ASSIGN_OR_RETURN(const json* v, Member(obj, path, key, required));
  if (v != nullptr && !v->is_object()) {
    return FieldError(Join(path, key), std::string("expected an object, got ") + TypeName(*v));
  }
  return v;
}

StatusOr<const std::string*> StringMember(const json& obj, std::string_view path, std::string_view key,
                                          bool required, size_t max_bytes) {
  EW_ASSIGN_OR_RETURN(const json* v, Member(obj, path, key, required));
  if (v == nullptr) return static_cast<const std::string*>(nullptr);
  if (!v->is_string()) return FieldError(Join(path, key), std::string("expected a string, got ") + TypeName(*v));
  const std::string* s = v->get_ptr<const std::string*>();
  if (s->size() > max_bytes) {
    return FieldError(Join(path, key),
                      std::to_string(s->size()) + " bytes exceeds the maximum " + std::to_string(max_bytes));
  }
  return s;
}

StatusOr<Bytes> Base64Member(const json& obj, std::string_view path, std::string_view key, size_t max_bytes) {
  // Base64 is 4/3 of the data: cap the text before decoding.
  EW_ASSIGN_OR_RETURN(const std::string* s, StringMember(obj, path, key, true, SIZE_MAX));
  if (s->size() > (max_bytes + 2) / 3 * 4) {
    return FieldError(Join(path, key), std::to_string(s->size()) + " base64 characters exceeds the maximum " +
                                           std::to_string((max_bytes + 2) / 3 * 4) + " (" +
                                           std::to_string(max_bytes) + " bytes)");
  }
  auto b = Base64Decode(*s);
  if (!b.ok()) return FieldError(Join(path, key), b.status().message());
  if (b->size() > max_bytes) {
    return FieldError(Join(path, key),
                      std::to_string(b->size()) + " bytes exceeds the maximum " + std::to_string(max_bytes));
  }
  return std::move(b).value();
}

StatusOr<Bytes> HexMember(const json& obj, std::string_view path, std::string_view key, size_t max_bytes) {
  EW_ASSIGN_OR_RETURN(const std::string* s, StringMember(obj, path, key, true, SIZE_MAX));
  if (s->size() > 2 * max_bytes) {
    return FieldError(Join(path, key), std::to_string(s->size()) + " hex digits exceeds the maximum " +
                                           std::to_string(2 * max_bytes) + " (" + std::to_string(max_bytes) +
                                           " bytes)");
  }
  auto b = HexDecode(*s);
  if (!b.ok()) return FieldError(Join(path, key), b.status().message());
  if (b->size() > max_bytes) {
    return FieldError(Join(path, key),
                      std::to_string(b->size()) + " bytes exceeds the maximum " + std::to_string(max_bytes));
  }
  return std::move(b).value();
}

// Wraps a wire decoder error with the evidence field it came from.
Status WireError(std::string_view path, const Status& s) {
  return Status(s.code(), std::string(path) + ": " + s.message());
}

Status DecodePcrs(const json& pcrs, Evidence& e) {
  constexpr std::string_view kPath = "evidence.pcrs";
  if (pcrs.size() > kMaxPcrBanks) return FieldError(kPath, "more than " + std::to_string(kMaxPcrBanks) + " banks");
  for (auto bank = pcrs.begin(); bank != pcrs.end(); ++bank) {
    const std::string bank_path = Join(kPath, bank.key());
    auto alg = crypto::HashAlgFromName(bank.key());
    if (!alg) return FieldError(bank_path, "unknown bank (expected sha1, sha256, sha384, sha512 or sm3_256)");
    if (!bank->is_object()) {
      return FieldError(bank_path, std::string("expected an object, got ") + TypeName(*bank));
    }
    if (bank->empty()) return FieldError(bank_path, "no PCRs");
    auto& out = e.pcrs[*alg];
    const size_t want = crypto::DigestSize(*alg);
    for (auto pcr = bank->begin(); pcr != bank->end(); ++pcr) {
      const std::string pcr_path = Join(bank_path, pcr.key());
      const std::string& k = pcr.key();
      uint32_t index = 0;
      auto [ptr, ec] = std::from_chars(k.data(), k.data() + k.size(), index);
      if (k.empty() || ec != std::errc() || ptr != k.data() + k.size() || (k.size() > 1 && k[0] == '0')) {
        return FieldError(pcr_path, "PCR index is not a decimal number");
      }
      if (index >= tpm::kNumPcrs) {
        return FieldError(pcr_path, "PCR index out of range (0-" + std::to_string(tpm::kNumPcrs - 1) + ")");
      }
      if (!pcr->is_string()) return FieldError(pcr_path, std::string("expected a hex string, got ") + TypeName(*pcr));
      const std::string& hex = *pcr->get_ptr<const std::string*>();
      if (hex.size() != 2 * want) {
        return FieldError(pcr_path, "value is " + std::to_string(hex.size()) + " hex digits, " +
                                        std::string(crypto::HashAlgName(*alg)) + " needs " +
                                        std::to_string(2 * want));
      }
      auto v = HexDecode(hex);
      if (!v.ok()) return FieldError(pcr_path, v.status().message());
      out.emplace(index, std::move(v).value());
    }
  }
  return Status::Ok();
}

Status DecodeLogs(const json& logs, Evidence& e) {
  constexpr std::string_view kPath = "evidence.event_logs";
  if (!logs.is_array()) return FieldError(kPath, std::string("expected an array, got ") + TypeName(logs));
  if (logs.size() > kMaxEventLogs) {
    return FieldError(kPath, std::to_string(logs.size()) + " logs exceeds the maximum " +
                                 std::to_string(kMaxEventLogs));
  }
  e.event_logs.reserve(logs.size());
  for (size_t i = 0; i < logs.size(); ++i) {
    const std::string path = std::string(kPath) + "[" + std::to_string(i) + "]";
    const json& l = logs[i];
    if (!l.is_object()) return FieldError(path, std::string("expected an object, got ") + TypeName(l));
    EW_RETURN_IF_ERROR(OnlyKeys(l, path, {"format", "encoding", "data", "template_hash_alg", "start_entry"}));
    EvidenceEventLog log;
    EW_ASSIGN_OR_RETURN(const std::string* format, StringMember(l, path, "format", true, 16));
    auto f = EventLogFormatFromName(*format);
    if (!f) return FieldError(Join(path, "format"), "unknown format '" + *format + "' (expected uefi, ima or cel)");
    log.format = *f;
    EW_ASSIGN_OR_RETURN(const std::string* encoding, StringMember(l, path, "encoding", false, 16));
    const bool base64 = encoding ? *encoding == "base64" : log.format == EventLogFormat::kUefi;
    if (encoding && *encoding != "base64" && *encoding != "text") {
      return FieldError(Join(path, "encoding"), "unknown encoding '" + *encoding + "' (expected base64 or text)");
    }
    if (!base64 && log.format == EventLogFormat::kUefi) {
      return FieldError(Join(path, "encoding"), "a uefi log is binary and must be base64");
    }
    if (base64) {
      EW_ASSIGN_OR_RETURN(Bytes data, Base64Member(l, path, "data", kMaxEventLogBytes));
      log.data.assign(data.begin(), data.end());
    } else {
      EW_ASSIGN_OR_RETURN(const std::string* data, StringMember(l, path, "data", true, kMaxEventLogBytes));
      log.data = *data;
    }
    EW_ASSIGN_OR_RETURN(const std::string* tha, StringMember(l, path, "template_hash_alg", false, 16));
    if (tha != nullptr) {
      if (log.format != EventLogFormat::kIma) {
        return FieldError(Join(path, "template_hash_alg"), "only allowed for ima logs");
      }
      auto alg = crypto::HashAlgFromName(*tha);
      if (!alg) return FieldError(Join(path, "template_hash_alg"), "unknown hash '" + *tha + "'");
      log.template_hash_alg = *alg;
    }
    if (auto se = l.find("start_entry"); se != l.end()) {
      if (log.format != EventLogFormat::kIma) return FieldError(Join(path, "start_entry"), "only allowed for ima logs");
      if (!se->is_number_unsigned() || se->get<uint64_t>() > kMaxImaStartEntry) {
        return FieldError(Join(path, "start_entry"), "expected an unsigned integer up to 2^53-1");
      }
      log.start_entry = se->get<uint64_t>();
    }
    e.event_logs.push_back(std::move(log));
  }
  return Status::Ok();
}

}  // namespace

bool IsRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  auto digits = [&](size_t at, size_t n) {
    if (at + n > s.size()) return false;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
    }
    return true;
  };
  auto num = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  if (!digits(0, 4) || s.size() < 20 || s[4] != '-' || !digits(5, 2) || s[7] != '-' || !digits(8, 2) ||
      (s[10] != 'T' && s[10] != 't') || !digits(11, 2) || s[13] != ':' || !digits(14, 2) || s[16] != ':' ||
      !digits(17, 2)) {
    return false;
  }
  if (num(5, 2) < 1 || num(5, 2) > 12 || num(8, 2) < 1 || num(8, 2) > 31 || num(11, 2) > 23 || num(14, 2) > 59 ||
      num(17, 2) > 60) {
    return false;
  }
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  if (i == s.size()) return false;
  if (s[i] == 'Z' || s[i] == 'z') return i + 1 == s.size();
  if (s[i] != '+' && s[i] != '-') return false;
  return i + 6 == s.size() && digits(i + 1, 2) && s[i + 3] == ':' && digits(i + 4, 2) && num(i + 1, 2) <= 23 &&
         num(i + 4, 2) <= 59;
}

Status DecodeEvidenceWire(Evidence& e) {
  auto attest = DecodeTpmsAttest(e.quote_attest);
  if (!attest.ok()) return WireError("evidence.quote.attest", attest.status());
  e.attest = std::move(attest).value();
  auto sig = DecodeTpmtSignature(e.quote_signature);
  if (!sig.ok()) return WireError("evidence.quote.signature", sig.status());
  e.signature = std::move(sig).value();
  auto ak = DecodeTpm2bPublic(e.ak_public);
  if (!ak.ok()) return WireError("evidence.ak.public", ak.status());
  e.ak = std::move(ak).value();
  if (!e.ek_public.empty()) {
    auto ek = DecodeTpm2bPublic(e.ek_public);
    if (!ek.ok()) return WireError("evidence.ek.public", ek.status());
  }
  return Status::Ok();
}

StatusOr<Evidence> DecodeEvidence(std::string_view text) {
  if (text.size() > kMaxEvidenceBytes) {
    return Status(StatusCode::kResourceExhausted, "evidence: " + std::to_string(text.size()) +
                                                      " bytes exceeds the maximum " +
                                                      std::to_string(kMaxEvidenceBytes));
  }
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& ex) {
    // ex.what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
    std::string what = ex.what();
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    return InvalidArgument("evidence: invalid JSON (byte " + std::to_string(ex.byte) + "): " + what);
  } catch (const std::exception& ex) {
    return InvalidArgument(std::string("evidence: invalid JSON: ") + ex.what());
  }
  constexpr std::string_view kRoot = "evidence";
  if (!doc.is_object()) return FieldError(kRoot, std::string("expected an object, got ") + TypeName(doc));

  Evidence e;
  // The version decides the schema, so it is checked before anything else.
  EW_ASSIGN_OR_RETURN(const json* version, Member(doc, kRoot, "version", true));
  if (!version->is_number_integer()) {
    return FieldError("evidence.version", std::string("expected an integer, got ") + TypeName(*version));
  }
  if (*version != kEvidenceVersion) {
    return FieldError("evidence.version", "unsupported version " + version->dump() + " (this verifier reads " +
                                              std::to_string(kEvidenceVersion) + ")");
  }
  EW_RETURN_IF_ERROR(
      OnlyKeys(doc, kRoot, {"version", "node_id", "collected_at", "nonce", "quote", "pcrs", "ak", "ek", "event_logs"}));

  EW_ASSIGN_OR_RETURN(const std::string* node_id, StringMember(doc, kRoot, "node_id", true, kMaxNodeIdBytes));
  e.node_id = *node_id;
  EW_ASSIGN_OR_RETURN(const std::string* collected_at, StringMember(doc, kRoot, "collected_at", true, 64));
  if (!IsRfc3339(*collected_at)) {
    return FieldError("evidence.collected_at", "'" + *collected_at + "' is not an RFC 3339 date-time");
  }
  e.collected_at = *collected_at;
  EW_ASSIGN_OR_RETURN(e.nonce, HexMember(doc, kRoot, "nonce", kMaxNonceBytes));
  if (e.nonce.empty()) return FieldError("evidence.nonce", "is empty");

  EW_ASSIGN_OR_RETURN(const json* quote, ObjectMember(doc, kRoot, "quote", true));
  EW_RETURN_IF_ERROR(OnlyKeys(*quote, "evidence.quote", {"attest", "signature"}));
  EW_ASSIGN_OR_RETURN(e.quote_attest, Base64Member(*quote, "evidence.quote", "attest", kMaxAttestBytes));
  EW_ASSIGN_OR_RETURN(e.quote_signature, Base64Member(*quote, "evidence.quote", "signature", 1024));

  EW_ASSIGN_OR_RETURN(const json* pcrs, ObjectMember(doc, kRoot, "pcrs", true));
  EW_RETURN_IF_ERROR(DecodePcrs(*pcrs, e));

  EW_ASSIGN_OR_RETURN(const json* ak, ObjectMember(doc, kRoot, "ak", true));
  EW_RETURN_IF_ERROR(OnlyKeys(*ak, "evidence.ak", {"public", "public_pem", "name"}));
  EW_ASSIGN_OR_RETURN(e.ak_public, Base64Member(*ak, "evidence.ak", "public", 2 + kMaxPublicBytes));
  EW_ASSIGN_OR_RETURN(const std::string* pem, StringMember(*ak, "evidence.ak", "public_pem", true, kMaxPemBytes));
  e.ak_public_pem = *pem;
  EW_ASSIGN_OR_RETURN(e.ak_name, HexMember(*ak, "evidence.ak", "name", kMaxNameBytes));

  EW_ASSIGN_OR_RETURN(const json* ek, ObjectMember(doc, kRoot, "ek", false));
  if (ek != nullptr) {
    e.has_ek = true;
    EW_RETURN_IF_ERROR(OnlyKeys(*ek, "evidence.ek", {"certificate_pem", "public"}));
    EW_ASSIGN_OR_RETURN(const std::string* cert,
                        StringMember(*ek, "evidence.ek", "certificate_pem", true, kMaxPemBytes));
    e.ek_certificate_pem = *cert;
    if (ek->contains("public")) {
      EW_ASSIGN_OR_RETURN(e.ek_public, Base64Member(*ek, "evidence.ek", "public", 2 + kMaxPublicBytes));
    }
  }

  EW_ASSIGN_OR_RETURN(const json* logs, Member(doc, kRoot, "event_logs", false));
  if (logs != nullptr) EW_RETURN_IF_ERROR(DecodeLogs(*logs, e));

  EW_RETURN_IF_ERROR(DecodeEvidenceWire(e));
  return e;
}

StatusOr<std::string> EncodeEvidence(const Evidence& e, int indent) {
  if (e.version != kEvidenceVersion) {
    return InvalidArgument("evidence.version: cannot encode version " + std::to_string(e.version));
  }
  if (!internal::IsValidUtf8(e.node_id)) return InvalidArgument("evidence.node_id: not valid UTF-8");
  json doc = json::object();
  doc["version"] = e.version;
  doc["node_id"] = e.node_id;
  doc["collected_at"] = e.collected_at;
  doc["nonce"] = HexEncode(e.nonce);
  doc["quote"] = {{"attest", Base64Encode(e.quote_attest)}, {"signature", Base64Encode(e.quote_signature)}};
  json pcrs = json::object();
  for (const auto& [alg, values] : e.pcrs) {
    json bank = json::object();
    for (const auto& [index, value] : values) bank[std::to_string(index)] = HexEncode(value);
    pcrs[std::string(crypto::HashAlgName(alg))] = std::move(bank);
  }
  doc["pcrs"] = std::move(pcrs);
  if (!internal::IsValidUtf8(e.ak_public_pem)) return InvalidArgument("evidence.ak.public_pem: not valid UTF-8");
  doc["ak"] = {{"public", Base64Encode(e.ak_public)}, {"public_pem", e.ak_public_pem}, {"name", HexEncode(e.ak_name)}};
  if (e.has_ek) {
    if (!internal::IsValidUtf8(e.ek_certificate_pem)) return InvalidArgument("evidence.ek.certificate_pem: not valid UTF-8");
    json ek = {{"certificate_pem", e.ek_certificate_pem}};
    if (!e.ek_public.empty()) ek["public"] = Base64Encode(e.ek_public);
    doc["ek"] = std::move(ek);
  }
  json logs = json::array();
  for (const EvidenceEventLog& log : e.event_logs) {
    json l = {{"format", std::string(EventLogFormatName(log.format))}};
    // Text logs travel as text when they can (readable, diffable); a log
    // with bytes JSON can't carry (not UTF-8) falls back to base64.
    if (log.format != EventLogFormat::kUefi && internal::IsValidUtf8(log.data)) {
      l["encoding"] = "text";
      l["data"] = log.data;
    } else {
      l["encoding"] = "base64";
      l["data"] = Base64Encode(AsBytes(log.data));
    }
    if (log.template_hash_alg) l["template_hash_alg"] = std::string(crypto::HashAlgName(*log.template_hash_alg));
    if (log.start_entry != 0) {
      if (log.format != EventLogFormat::kIma || log.start_entry > kMaxImaStartEntry) {
        return InvalidArgument("evidence.event_logs: start_entry is only for ima logs, up to 2^53-1");
      }
      l["start_entry"] = log.start_entry;
    }
    logs.push_back(std::move(l));
  }
  doc["event_logs"] = std::move(logs);
  try {
    return doc.dump(indent);
  } catch (const std::exception& ex) {
    return InvalidArgument(std::string("evidence: cannot encode: ") + ex.what());
  }
}

}  // namespace edgeward::attest
