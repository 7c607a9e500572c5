// Linux IMA ascii_runtime_measurements parser.
//
// Each line is "PCR TEMPLATE-HASH TEMPLATE-NAME FIELD...". The kernel
// extends H_bank(template data) into PCR 10 of every bank, where the
// template data is the binary form of the fields (kernel
// security/integrity/ima/ima_template_lib.c, ima_api.c):
//   ima-ng/ima-sig/ima-buf: each field is u32 little-endian length + bytes;
//     d-ng = "<algo>:\0" + digest, n-ng = name + '\0', sig/buf = raw bytes.
//   ima: no length prefixes; d = the 20-byte SHA-1 (or 16-byte MD5)
//     digest, n = name + '\0' zero-padded to IMA_EVENT_NAME_LEN_MAX+1 = 256.
// The kernel replaces spaces in names with '_' when it records them, so
// fields never contain spaces and a single space separates them. We rebuild
// the template data from the text, hash it per bank, and require the
// template-hash column to match (a zero column marks a violation, which
// the kernel extends as all 0xff and which has nothing to check).
//
// This is a hot path (logs of 10^5..10^6 lines): lines are string_views,
// hex is decoded into fixed buffers and the template data buffer and the
// hashers are reused across lines.
#include <algorithm>
#include <array>
#include <cstring>

#include "edgeward/attest/eventlog.h"
#include "eventlog_internal.h"

namespace edgeward::attest {
namespace {

constexpr size_t kImaEventNameLenMax = 255;  // IMA_EVENT_NAME_LEN_MAX
constexpr size_t kMaxDigestSize = 64;
constexpr size_t kMaxAlgoName = 32;
constexpr size_t kMaxLineBytes = 1u << 20;

enum class Template { kIma, kImaNg, kImaSig, kImaBuf };

Status LineError(size_t line, const std::string& what) {
  return InvalidArgument("ima log: line " + std::to_string(line) + ": " + what);
}

constexpr std::array<int8_t, 256> MakeHexTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<int8_t>(c - 'A' + 10);
  return t;
}
constexpr auto kHexTable = MakeHexTable();

// Decodes hex into out[0..hex.size()/2); false on odd length or bad digit.
bool DecodeHex(std::string_view hex, uint8_t* out) {
  if (hex.size() % 2 != 0) return false;
  int bad = 0;
  for (size_t i = 0; i < hex.size() / 2; ++i) {
    int hi = kHexTable[static_cast<uint8_t>(hex[2 * i])],
        lo = kHexTable[static_cast<uint8_t>(hex[2 * i + 1])];
    bad |= hi | lo;  // negative if either is -1
    out[i] = static_cast<uint8_t>((static_cast<unsigned>(hi) << 4) | static_cast<unsigned>(lo));
  }
  return bad >= 0;
}

// Splits off the text up to the next space; `rest` keeps what follows it.
// Returns false when there is no space (the token is then all of `rest`).
bool NextToken(std::string_view& rest, std::string_view& token) {
  size_t sp = rest.find(' ');
  if (sp == std::string_view::npos) {
    token = rest;
    rest = {};
    return false;
  }
  token = rest.substr(0, sp);
  rest.remove_prefix(sp + 1);
  return true;
}

void PutU32(Bytes& b, size_t v) {
  uint32_t x = static_cast<uint32_t>(v);
  uint8_t le[4] = {static_cast<uint8_t>(x), static_cast<uint8_t>(x >> 8), static_cast<uint8_t>(x >> 16),
                   static_cast<uint8_t>(x >> 24)};
  b.insert(b.end(), le, le + 4);
}

void PutBytes(Bytes& b, std::string_view s) { b.insert(b.end(), s.begin(), s.end()); }

std::optional<HashAlg> FileDigestAlg(std::string_view kernel_name) {
  if (kernel_name == "sm3") return HashAlg::kSm3_256;  // the kernel's name for it
  return crypto::HashAlgFromName(kernel_name);
}

bool ValidAlgoName(std::string_view a) {
  if (a.empty() || a.size() > kMaxAlgoName) return false;
  return std::all_of(a.begin(), a.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

bool ValidName(std::string_view n) {
  // No NUL (the template data terminates the name with one) and no control
  // characters: a name is a path or a buffer label.
  return std::none_of(n.begin(), n.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

// The parser's reusable state for one log.
class ImaParser {
 public:
  ImaParser(HashAlg column_alg, std::span<const HashAlg> banks) : column_alg_(column_alg) {
    hashers_.emplace_back(column_alg);
    for (HashAlg b : banks) {
      if (std::none_of(hashers_.begin(), hashers_.end(), [&](const auto& h) { return h.alg() == b; })) {
        hashers_.emplace_back(b);
      }
    }
    data_.reserve(1024);
  }

  std::vector<HashAlg> Banks() const {
    std::vector<HashAlg> out;
    for (const auto& h : hashers_) out.push_back(h.alg());
    return out;
  }

  Status ParseLine(std::string_view line, size_t lineno, LogEvent& e);

 private:
  // Parses "algo:hex" (d-ng) into the event and appends its template field.
  Status DigestNg(std::string_view field, size_t lineno, LogEvent& e);
  // Parses the legacy "ima" template's bare hex digest.
  Status DigestLegacy(std::string_view field, size_t lineno, LogEvent& e);
  Status NameField(std::string_view name, size_t lineno, LogEvent& e, bool legacy);
  Status HexField(std::string_view hex, size_t lineno, const char* what, size_t& out_size);

  HashAlg column_alg_;
  std::vector<crypto::Hasher> hashers_;  // [0] is the column's bank
  Bytes data_;                                 // template data of the current line
};

Status ImaParser::DigestNg(std::string_view field, size_t lineno, LogEvent& e) {
  std::string_view algo, hex;
  size_t colon = field.find(':');
  if (colon == std::string_view::npos) {
    // Keylime accepts a bare SHA-1/MD5 digest here and encodes it with its
    // algorithm prefix, as the kernel always writes one for d-ng.
    hex = field;
    algo = hex.size() == 40 ? "sha1" : hex.size() == 32 ? "md5" : "";
    if (algo.empty())
      return LineError(lineno,
                       "file digest '" + internal::Printable(field.substr(0, 80)) + "' has no algorithm");
  } else {
    algo = field.substr(0, colon);
    hex = field.substr(colon + 1);
  }
  if (!ValidAlgoName(algo))
    return LineError(lineno, "bad digest algorithm '" + internal::Printable(algo.substr(0, 40)) + "'");
  if (hex.empty() || hex.size() > 2 * kMaxDigestSize) {
    return LineError(lineno, "file digest of " + std::to_string(hex.size()) + " hex digits");
  }
  std::array<uint8_t, kMaxDigestSize> d;
  if (!DecodeHex(hex, d.data())) return LineError(lineno, "file digest is not hex");
  const size_t n = hex.size() / 2;
  e.file_digest_alg = FileDigestAlg(algo);
  if ((e.file_digest_alg && crypto::DigestSize(*e.file_digest_alg) != n) || (algo == "md5" && n != 16)) {
    return LineError(lineno, std::string(algo) + " digest of " + std::to_string(n) + " bytes");
  }
  if (!e.file_digest_alg) e.description = "file digest algorithm " + std::string(algo);
  e.file_digest.assign(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(n));
  PutU32(data_, algo.size() + 2 + n);
  PutBytes(data_, algo);
  data_.push_back(':');
  data_.push_back('\0');
  data_.insert(data_.end(), d.begin(), d.begin() + static_cast<std::ptrdiff_t>(n));
  return Status::Ok();
}

Status ImaParser::DigestLegacy(std::string_view hex, size_t lineno, LogEvent& e) {
  std::array<uint8_t, 20> d;
  if ((hex.size() != 40 && hex.size() != 32) || !DecodeHex(hex, d.data())) {
    return LineError(lineno, "ima template digest must be 40 (SHA-1) or 32 (MD5) hex digits");
  }
  const size_t n = hex.size() / 2;
  if (n == 20) {
    e.file_digest_alg = HashAlg::kSha1;
  } else {
    e.description = "file digest algorithm md5";
  }
  e.file_digest.assign(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(n));
  data_.insert(data_.end(), d.begin(), d.begin() + static_cast<std::ptrdiff_t>(n));
  return Status::Ok();
}

Status ImaParser::NameField(std::string_view name, size_t lineno, LogEvent& e, bool legacy) {
  if (!ValidName(name)) return LineError(lineno, "name contains a control character");
  if (legacy) {
    if (name.size() > kImaEventNameLenMax) {
      return LineError(lineno, "ima template name longer than " + std::to_string(kImaEventNameLenMax));
    }
    PutBytes(data_, name);
    data_.resize(data_.size() + (kImaEventNameLenMax + 1 - name.size()), 0);
  } else {
    PutU32(data_, name.size() + 1);
    PutBytes(data_, name);
    data_.push_back('\0');
  }
  e.path.assign(name);
  return Status::Ok();
}

Status ImaParser::HexField(std::string_view hex, size_t lineno, const char* what, size_t& out_size) {
  if (hex.size() % 2 != 0) return LineError(lineno, std::string(what) + " has odd hex length");
  const size_t n = hex.size() / 2;
  PutU32(data_, n);
  const size_t at = data_.size();
  data_.resize(at + n);
  if (!DecodeHex(hex, data_.data() + at)) return LineError(lineno, std::string(what) + " is not hex");
  out_size = n;
  return Status::Ok();
}

Status ImaParser::ParseLine(std::string_view line, size_t lineno, LogEvent& e) {
  if (line.size() > kMaxLineBytes)
    return LineError(lineno, "longer than " + std::to_string(kMaxLineBytes) + " bytes");
  std::string_view rest = line, pcr_s, hash_s, tmpl_s;
  if (!NextToken(rest, pcr_s) || !NextToken(rest, hash_s) || !NextToken(rest, tmpl_s)) {
    return LineError(lineno, "expected 'PCR TEMPLATE-HASH TEMPLATE-NAME FIELDS'");
  }
  // PCR: 1 or 2 decimal digits, < 24.
  if (pcr_s.empty() || pcr_s.size() > 2 ||
      !std::all_of(pcr_s.begin(), pcr_s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return LineError(lineno, "PCR '" + internal::Printable(pcr_s.substr(0, 16)) + "' is not a number");
  }
  e.pcr = 0;
  for (char c : pcr_s) e.pcr = e.pcr * 10 + static_cast<uint32_t>(c - '0');
  if (e.pcr >= tpm::kNumPcrs) return LineError(lineno, "PCR " + std::to_string(e.pcr) + " out of range");

  const size_t hsize = hashers_[0].size();
  std::array<uint8_t, kMaxDigestSize> column;
  if (hash_s.size() != 2 * hsize || !DecodeHex(hash_s, column.data())) {
    return LineError(lineno, "template hash must be " + std::to_string(2 * hsize) + " hex digits (" +
                                 std::string(crypto::HashAlgName(column_alg_)) + ")");
  }
  Template t;
  if (tmpl_s == "ima-ng") {
    t = Template::kImaNg;
  } else if (tmpl_s == "ima-sig") {
    t = Template::kImaSig;
  } else if (tmpl_s == "ima") {
    t = Template::kIma;
  } else if (tmpl_s == "ima-buf") {
    t = Template::kImaBuf;
  } else {
    return LineError(lineno, "unsupported template '" + internal::Printable(tmpl_s.substr(0, 40)) + "'");
  }
  e.type.assign(tmpl_s);

  data_.clear();
  std::string_view f1, f2, f3;
  const bool more1 = NextToken(rest, f1);
  if (!more1) return LineError(lineno, "template " + e.type + " needs a name field");
  const bool more2 = NextToken(rest, f2);
  if (t == Template::kIma || t == Template::kImaNg) {
    if (more2) return LineError(lineno, "template " + e.type + " has 2 fields, found more");
    if (t == Template::kIma) {
      EW_RETURN_IF_ERROR(DigestLegacy(f1, lineno, e));
      EW_RETURN_IF_ERROR(NameField(f2, lineno, e, /*legacy=*/true));
    } else {
      EW_RETURN_IF_ERROR(DigestNg(f1, lineno, e));
      EW_RETURN_IF_ERROR(NameField(f2, lineno, e, /*legacy=*/false));
    }
  } else {
    // The third field may be empty (the kernel still writes its separating
    // space; tolerate the space being lost too).
    if (more2 && NextToken(rest, f3))
      return LineError(lineno, "template " + e.type + " has 3 fields, found more");
    EW_RETURN_IF_ERROR(DigestNg(f1, lineno, e));
    EW_RETURN_IF_ERROR(NameField(f2, lineno, e, /*legacy=*/false));
    size_t n = 0;
    EW_RETURN_IF_ERROR(HexField(f3, lineno, t == Template::kImaSig ? "signature" : "buffer", n));
    if (t == Template::kImaSig) {
      e.description = n ? "signature " + std::to_string(n) + " bytes" : "no signature";
    } else {
      e.description = "buffer " + std::to_string(n) + " bytes";
    }
  }

  const bool violation = std::all_of(column.begin(), column.begin() + static_cast<std::ptrdiff_t>(hsize),
                                     [](uint8_t c) { return c == 0; });
  for (size_t i = 0; i < hashers_.size(); ++i) {
    auto& h = hashers_[i];
    Bytes& out = e.digests[h.alg()];
    out.assign(h.size(), 0);
    if (violation) continue;  // Replay extends 0xff..; nothing to check
    h.Update(data_);
    h.FinishInto(out.data());
    if (i == 0 && std::memcmp(out.data(), column.data(), hsize) != 0) {
      return LineError(lineno,
                       "template hash " + std::string(hash_s) + " does not match the template data (" +
                           std::string(crypto::HashAlgName(column_alg_)) + " " + HexEncode(out) + ")");
    }
  }
  if (violation) e.description = e.description.empty() ? "violation" : "violation; " + e.description;
  return Status::Ok();
}

}  // namespace

StatusOr<ParsedLog> ParseImaLog(std::string_view text, HashAlg template_hash_alg,
                                std::span<const HashAlg> banks) {
  if (text.size() > kMaxEventLogBytes) {
    return ResourceExhausted("ima log: " + std::to_string(text.size()) + " bytes exceeds the cap of " +
                             std::to_string(kMaxEventLogBytes));
  }
  ImaParser parser(template_hash_alg, banks);
  ParsedLog log;
  log.format = EventLogFormat::kIma;
  log.banks = parser.Banks();
  // ~100 bytes per line is typical; reserving avoids regrowth copies.
  log.events.reserve(std::min<size_t>(text.size() / 96 + 1, kMaxEventLogEvents));
  size_t lineno = 0;
  while (!text.empty()) {
    ++lineno;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) {
      if (text.empty()) break;  // the final newline
      return LineError(lineno, "empty line");
    }
    if (log.events.size() >= kMaxEventLogEvents) {
      return ResourceExhausted("ima log: more than " + std::to_string(kMaxEventLogEvents) + " entries");
    }
    LogEvent& e = log.events.emplace_back();
    e.index = log.events.size() - 1;
    e.line = lineno;
    EW_RETURN_IF_ERROR(parser.ParseLine(line, lineno, e));
  }
  return log;
}

}  // namespace edgeward::attest
