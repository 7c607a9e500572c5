// Strict decoders for the TPM structures in tpm_wire.h (TPM 2.0 Part 2).
#include <string>

#include "edgeward/attest/tpm_wire.h"
#include "wire_reader.h"

namespace edgeward::attest {
namespace {

using wire::Reader;

bool IsKnownHash(uint16_t alg) { return HashFromTpm(alg).has_value(); }

// A TPMI_ALG_HASH field: must be a hash we implement (or kNull when allowed).
Status ReadHash(Reader& r, std::string_view field, bool allow_null, uint16_t& alg) {
  const size_t at = r.offset();
  EW_RETURN_IF_ERROR(r.U16(field, alg));
  if (IsKnownHash(alg) || (allow_null && alg == tpm_alg::kNull)) return Status::Ok();
  return Reader::Error(field, "unsupported hash algorithm " + TpmAlgName(alg), at);
}

Status ReadSymDefObject(Reader& r, std::string_view s, TpmtSymDefObject& sym) {
  const std::string base(s);
  const size_t at = r.offset();
  EW_RETURN_IF_ERROR(r.U16(base + ".algorithm", sym.algorithm));
  switch (sym.algorithm) {
    case tpm_alg::kNull:
      return Status::Ok();
    case tpm_alg::kAes:
    case tpm_alg::kSm4:
    case tpm_alg::kCamellia:
      break;
    default:
      return Reader::Error(base + ".algorithm", "unsupported symmetric algorithm " + TpmAlgName(sym.algorithm), at);
  }
  const size_t bits_at = r.offset();
  EW_RETURN_IF_ERROR(r.U16(base + ".keyBits", sym.key_bits));
  if (sym.key_bits != 128 && sym.key_bits != 192 && sym.key_bits != 256) {
    return Reader::Error(base + ".keyBits", "unsupported key size " + std::to_string(sym.key_bits), bits_at);
  }
  const size_t mode_at = r.offset();
  EW_RETURN_IF_ERROR(r.U16(base + ".mode", sym.mode));
  switch (sym.mode) {
    case tpm_alg::kCtr:
    case tpm_alg::kOfb:
    case tpm_alg::kCbc:
    case tpm_alg::kCfb:
    case tpm_alg::kEcb:
    case tpm_alg::kNull:
      return Status::Ok();
    default:
      return Reader::Error(base + ".mode", "unsupported mode " + TpmAlgName(sym.mode), mode_at);
  }
}

// TPMT_RSA_SCHEME, TPMT_ECC_SCHEME, TPMT_KEYEDHASH_SCHEME, TPMT_KDF_SCHEME.
enum class SchemeKind { kRsa, kEcc, kKeyedHash, kKdf };

Status ReadScheme(Reader& r, std::string_view s, SchemeKind kind, TpmtScheme& sch) {
  const std::string base(s);
  const size_t at = r.offset();
  EW_RETURN_IF_ERROR(r.U16(base + ".scheme", sch.scheme));
  bool has_hash = false;
  bool ok = sch.scheme == tpm_alg::kNull;
  switch (kind) {
    case SchemeKind::kRsa:
      if (sch.scheme == tpm_alg::kRsaes) ok = true;
      if (sch.scheme == tpm_alg::kRsassa || sch.scheme == tpm_alg::kRsapss || sch.scheme == tpm_alg::kOaep) {
        ok = has_hash = true;
      }
      break;
    case SchemeKind::kEcc:
      if (sch.scheme == tpm_alg::kEcdsa || sch.scheme == tpm_alg::kEcdh || sch.scheme == tpm_alg::kEcdaa ||
          sch.scheme == tpm_alg::kSm2 || sch.scheme == tpm_alg::kEcschnorr || sch.scheme == tpm_alg::kEcmqv) {
        ok = has_hash = true;
      }
      break;
    case SchemeKind::kKeyedHash:
      if (sch.scheme == tpm_alg::kHmac || sch.scheme == tpm_alg::kXor) ok = has_hash = true;
      break;
    case SchemeKind::kKdf:
      if (sch.scheme == 0x0007 /* MGF1 */ || sch.scheme == tpm_alg::kKdf1Sp800_56a ||
          sch.scheme == tpm_alg::kKdf2 || sch.scheme == tpm_alg::kKdf1Sp800_108) {
        ok = has_hash = true;
      }
      break;
  }
  if (!ok) return Reader::Error(base + ".scheme", "unsupported scheme " + TpmAlgName(sch.scheme), at);
  if (!has_hash) return Status::Ok();
  EW_RETURN_IF_ERROR(ReadHash(r, base + ".details.hashAlg", false, sch.hash_alg));
  if (kind == SchemeKind::kEcc && sch.scheme == tpm_alg::kEcdaa) {
    EW_RETURN_IF_ERROR(r.U16(base + ".details.count", sch.count));
  }
  if (kind == SchemeKind::kKeyedHash && sch.scheme == tpm_alg::kXor) {
    const size_t kdf_at = r.offset();
    EW_RETURN_IF_ERROR(r.U16(base + ".details.kdf", sch.kdf));
    if (sch.kdf != tpm_alg::kKdf1Sp800_108 && sch.kdf != tpm_alg::kKdf1Sp800_56a && sch.kdf != tpm_alg::kKdf2 &&
        sch.kdf != 0x0007 && sch.kdf != tpm_alg::kNull) {
      return Reader::Error(base + ".details.kdf", "unsupported KDF " + TpmAlgName(sch.kdf), kdf_at);
    }
  }
  return Status::Ok();
}

Status ReadTpmtPublic(Reader& r, TpmtPublic& p) {
  const size_t at = r.offset();
  EW_RETURN_IF_ERROR(r.U16("TPMT_PUBLIC.type", p.type));
  if (p.type != tpm_alg::kRsa && p.type != tpm_alg::kEcc && p.type != tpm_alg::kKeyedHash &&
      p.type != tpm_alg::kSymCipher) {
    return Reader::Error("TPMT_PUBLIC.type", "unsupported object type " + TpmAlgName(p.type), at);
  }
  EW_RETURN_IF_ERROR(ReadHash(r, "TPMT_PUBLIC.nameAlg", true, p.name_alg));
  EW_RETURN_IF_ERROR(r.U32("TPMT_PUBLIC.objectAttributes", p.object_attributes));
  EW_RETURN_IF_ERROR(r.Tpm2b("TPMT_PUBLIC.authPolicy", kMaxDigestBytes, p.auth_policy));
  switch (p.type) {
    case tpm_alg::kRsa: {
      EW_RETURN_IF_ERROR(ReadSymDefObject(r, "TPMT_PUBLIC.parameters.rsaDetail.symmetric", p.symmetric));
      EW_RETURN_IF_ERROR(ReadScheme(r, "TPMT_PUBLIC.parameters.rsaDetail.scheme", SchemeKind::kRsa, p.scheme));
      const size_t bits_at = r.offset();
      EW_RETURN_IF_ERROR(r.U16("TPMT_PUBLIC.parameters.rsaDetail.keyBits", p.rsa_key_bits));
      if (p.rsa_key_bits != 1024 && p.rsa_key_bits != 2048 && p.rsa_key_bits != 3072 && p.rsa_key_bits != 4096) {
        return Reader::Error("TPMT_PUBLIC.parameters.rsaDetail.keyBits",
                             "unsupported RSA key size " + std::to_string(p.rsa_key_bits), bits_at);
      }
      EW_RETURN_IF_ERROR(r.U32("TPMT_PUBLIC.parameters.rsaDetail.exponent", p.rsa_exponent));
      const size_t n_at = r.offset();
      EW_RETURN_IF_ERROR(r.Tpm2b("TPMT_PUBLIC.unique.rsa", kMaxRsaKeyBytes, p.rsa_modulus));
      if (!p.rsa_modulus.empty() && p.rsa_modulus.size() != p.rsa_key_bits / 8u) {
        return Reader::Error("TPMT_PUBLIC.unique.rsa",
                             "modulus is " + std::to_string(p.rsa_modulus.size()) + " bytes, keyBits says " +
                                 std::to_string(p.rsa_key_bits / 8),
                             n_at);
      }
      break;
    }
    case tpm_alg::kEcc:
      EW_RETURN_IF_ERROR(ReadSymDefObject(r, "TPMT_PUBLIC.parameters.eccDetail.symmetric", p.symmetric));
      EW_RETURN_IF_ERROR(ReadScheme(r, "TPMT_PUBLIC.parameters.eccDetail.scheme", SchemeKind::kEcc, p.scheme));
      EW_RETURN_IF_ERROR(r.U16("TPMT_PUBLIC.parameters.eccDetail.curveID", p.ecc_curve));
      EW_RETURN_IF_ERROR(ReadScheme(r, "TPMT_PUBLIC.parameters.eccDetail.kdf", SchemeKind::kKdf, p.ecc_kdf));
      EW_RETURN_IF_ERROR(r.Tpm2b("TPMT_PUBLIC.unique.ecc.x", kMaxEccKeyBytes, p.ecc_x));
      EW_RETURN_IF_ERROR(r.Tpm2b("TPMT_PUBLIC.unique.ecc.y", kMaxEccKeyBytes, p.ecc_y));
      break;
    case tpm_alg::kKeyedHash:
      EW_RETURN_IF_ERROR(
          ReadScheme(r, "TPMT_PUBLIC.parameters.keyedHashDetail.scheme", SchemeKind::kKeyedHash, p.scheme));
      EW_RETURN_IF_ERROR(r.Tpm2b("TPMT_PUBLIC.unique.keyedHash", kMaxDigestBytes, p.unique_digest));
      break;
    case tpm_alg::kSymCipher:
      EW_RETURN_IF_ERROR(ReadSymDefObject(r, "TPMT_PUBLIC.parameters.symDetail.sym", p.symmetric));
      EW_RETURN_IF_ERROR(r.Tpm2b("TPMT_PUBLIC.unique.sym", kMaxDigestBytes, p.unique_digest));
      break;
  }
  return Status::Ok();
}

Status ReadPcrSelection(Reader& r, std::string_view s, TpmlPcrSelection& sel) {
  const std::string base(s);
  const size_t at = r.offset();
  uint32_t count = 0;
  EW_RETURN_IF_ERROR(r.U32(base + ".count", count));
  if (count > kMaxPcrBanks) {
    return Reader::Error(base + ".count", std::to_string(count) + " banks exceeds the maximum " +
                                              std::to_string(kMaxPcrBanks), at);
  }
  sel.banks.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    const std::string item = base + ".pcrSelections[" + std::to_string(i) + "]";
    TpmsPcrSelection& b = sel.banks[i];
    EW_RETURN_IF_ERROR(ReadHash(r, item + ".hash", false, b.hash_alg));
    const size_t size_at = r.offset();
    uint8_t size = 0;
    EW_RETURN_IF_ERROR(r.U8(item + ".sizeofSelect", size));
    if (size > kMaxPcrSelectBytes) {
      return Reader::Error(item + ".sizeofSelect", std::to_string(size) + " exceeds the maximum " +
                                                       std::to_string(kMaxPcrSelectBytes), size_at);
    }
    EW_RETURN_IF_ERROR(r.Raw(item + ".pcrSelect", size, b.select));
  }
  return Status::Ok();
}

}  // namespace

std::string TpmAlgName(uint16_t alg) {
  switch (alg) {
    case tpm_alg::kRsa: return "rsa";
    case tpm_alg::kSha1: return "sha1";
    case tpm_alg::kHmac: return "hmac";
    case tpm_alg::kAes: return "aes";
    case tpm_alg::kKeyedHash: return "keyedhash";
    case tpm_alg::kXor: return "xor";
    case tpm_alg::kSha256: return "sha256";
    case tpm_alg::kSha384: return "sha384";
    case tpm_alg::kSha512: return "sha512";
    case tpm_alg::kNull: return "null";
    case tpm_alg::kSm3_256: return "sm3_256";
    case tpm_alg::kSm4: return "sm4";
    case tpm_alg::kRsassa: return "rsassa";
    case tpm_alg::kRsaes: return "rsaes";
    case tpm_alg::kRsapss: return "rsapss";
    case tpm_alg::kOaep: return "oaep";
    case tpm_alg::kEcdsa: return "ecdsa";
    case tpm_alg::kEcdh: return "ecdh";
    case tpm_alg::kEcdaa: return "ecdaa";
    case tpm_alg::kSm2: return "sm2";
    case tpm_alg::kEcschnorr: return "ecschnorr";
    case tpm_alg::kEcmqv: return "ecmqv";
    case tpm_alg::kEcc: return "ecc";
    case tpm_alg::kSymCipher: return "symcipher";
    case tpm_alg::kCamellia: return "camellia";
    case tpm_alg::kCfb: return "cfb";
    default: break;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 12; shift >= 0; shift -= 4) s.push_back(kHex[(alg >> shift) & 0xf]);
  return s;
}

StatusOr<TpmtPublic> DecodeTpmtPublic(ByteView data) {
  if (data.size() > kMaxPublicBytes) {
    return InvalidArgument("TPMT_PUBLIC: " + std::to_string(data.size()) + " bytes exceeds the maximum " +
                           std::to_string(kMaxPublicBytes));
  }
  Reader r(data);
  TpmtPublic p;
  EW_RETURN_IF_ERROR(ReadTpmtPublic(r, p));
  EW_RETURN_IF_ERROR(r.ExpectEnd("TPMT_PUBLIC"));
  p.marshalled.assign(data.begin(), data.end());
  return p;
}

StatusOr<TpmtPublic> DecodeTpm2bPublic(ByteView data) {
  Reader r(data);
  uint16_t size = 0;
  EW_RETURN_IF_ERROR(r.U16("TPM2B_PUBLIC.size", size));
  if (size == 0) return Reader::Error("TPM2B_PUBLIC.size", "is zero", 0);
  if (size > kMaxPublicBytes) {
    return Reader::Error("TPM2B_PUBLIC.size",
                         std::to_string(size) + " exceeds the maximum " + std::to_string(kMaxPublicBytes), 0);
  }
  if (r.remaining() != size) {
    return Reader::Error("TPM2B_PUBLIC.size",
                         "says " + std::to_string(size) + " bytes but " + std::to_string(r.remaining()) + " follow",
                         0);
  }
  ByteView body;
  EW_RETURN_IF_ERROR(r.RawView("TPM2B_PUBLIC.publicArea", size, body));
  Reader inner(body, 2);
  TpmtPublic p;
  EW_RETURN_IF_ERROR(ReadTpmtPublic(inner, p));
  EW_RETURN_IF_ERROR(inner.ExpectEnd("TPM2B_PUBLIC.publicArea"));
  p.marshalled.assign(body.begin(), body.end());
  return p;
}

StatusOr<Bytes> ComputeName(const TpmtPublic& pub) {
  auto alg = HashFromTpm(pub.name_alg);
  if (!alg) return InvalidArgument("TPMT_PUBLIC.nameAlg: " + TpmAlgName(pub.name_alg) + " cannot compute a name");
  Bytes name;
  name.reserve(2 + crypto::DigestSize(*alg));
  name.push_back(static_cast<uint8_t>(pub.name_alg >> 8));
  name.push_back(static_cast<uint8_t>(pub.name_alg));
  Bytes h = crypto::Digest(*alg, pub.marshalled);
  name.insert(name.end(), h.begin(), h.end());
  return name;
}

std::vector<uint32_t> TpmsPcrSelection::Pcrs() const {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < select.size() * 8; ++i) {
    if (IsSelected(i)) out.push_back(i);
  }
  return out;
}

TpmlPcrSelection ToTpml(const tpm::PcrSelection& sel) {
  TpmlPcrSelection out;
  for (const auto& [alg, pcrs] : sel) {
    TpmsPcrSelection b;
    b.hash_alg = static_cast<uint16_t>(alg);
    size_t bytes = 3;
    for (uint32_t p : pcrs) bytes = std::max<size_t>(bytes, p / 8 + 1);
    b.select.assign(bytes, 0);
    for (uint32_t p : pcrs) b.select[p / 8] |= static_cast<uint8_t>(1u << (p % 8));
    out.banks.push_back(std::move(b));
  }
  return out;
}

void AppendPcrSelection(const TpmlPcrSelection& sel, Bytes& out) {
  const uint32_t n = static_cast<uint32_t>(sel.banks.size());
  out.push_back(static_cast<uint8_t>(n >> 24));
  out.push_back(static_cast<uint8_t>(n >> 16));
  out.push_back(static_cast<uint8_t>(n >> 8));
  out.push_back(static_cast<uint8_t>(n));
  for (const TpmsPcrSelection& b : sel.banks) {
    out.push_back(static_cast<uint8_t>(b.hash_alg >> 8));
    out.push_back(static_cast<uint8_t>(b.hash_alg));
    out.push_back(static_cast<uint8_t>(b.select.size()));
    out.insert(out.end(), b.select.begin(), b.select.end());
  }
}

Bytes MarshalPcrSelection(const TpmlPcrSelection& sel) {
  Bytes out;
  AppendPcrSelection(sel, out);
  return out;
}

StatusOr<TpmlPcrSelection> DecodePcrSelection(ByteView data) {
  Reader r(data);
  TpmlPcrSelection sel;
  EW_RETURN_IF_ERROR(ReadPcrSelection(r, "TPML_PCR_SELECTION", sel));
  EW_RETURN_IF_ERROR(r.ExpectEnd("TPML_PCR_SELECTION"));
  return sel;
}

StatusOr<TpmsAttest> DecodeTpmsAttest(ByteView data) {
  if (data.size() > kMaxAttestBytes) {
    return InvalidArgument("TPMS_ATTEST: " + std::to_string(data.size()) + " bytes exceeds the maximum " +
                           std::to_string(kMaxAttestBytes));
  }
  Reader r(data);
  TpmsAttest a;
  EW_RETURN_IF_ERROR(r.U32("TPMS_ATTEST.magic", a.magic));
  EW_RETURN_IF_ERROR(r.U16("TPMS_ATTEST.type", a.type));
  EW_RETURN_IF_ERROR(r.Tpm2b("TPMS_ATTEST.qualifiedSigner", kMaxNameBytes, a.qualified_signer));
  EW_RETURN_IF_ERROR(r.Tpm2b("TPMS_ATTEST.extraData", kMaxDataBytes, a.extra_data));
  EW_RETURN_IF_ERROR(r.U64("TPMS_ATTEST.clockInfo.clock", a.clock_info.clock));
  EW_RETURN_IF_ERROR(r.U32("TPMS_ATTEST.clockInfo.resetCount", a.clock_info.reset_count));
  EW_RETURN_IF_ERROR(r.U32("TPMS_ATTEST.clockInfo.restartCount", a.clock_info.restart_count));
  const size_t safe_at = r.offset();
  uint8_t safe = 0;
  EW_RETURN_IF_ERROR(r.U8("TPMS_ATTEST.clockInfo.safe", safe));
  if (safe > 1) return Reader::Error("TPMS_ATTEST.clockInfo.safe", "value " + std::to_string(safe) + " is not 0 or 1", safe_at);
  a.clock_info.safe = safe == 1;
  EW_RETURN_IF_ERROR(r.U64("TPMS_ATTEST.firmwareVersion", a.firmware_version));
  if (a.type == tpm_st::kAttestQuote) {
    a.has_quote = true;
    EW_RETURN_IF_ERROR(ReadPcrSelection(r, "TPMS_ATTEST.attested.quote.pcrSelect", a.quote.pcr_select));
    EW_RETURN_IF_ERROR(r.Tpm2b("TPMS_ATTEST.attested.quote.pcrDigest", kMaxDigestBytes, a.quote.pcr_digest));
    EW_RETURN_IF_ERROR(r.ExpectEnd("TPMS_ATTEST"));
  } else {
    EW_RETURN_IF_ERROR(r.Raw("TPMS_ATTEST.attested", r.remaining(), a.other_attested));
  }
  return a;
}

StatusOr<TpmtSignature> DecodeTpmtSignature(ByteView data) {
  Reader r(data);
  TpmtSignature s;
  EW_RETURN_IF_ERROR(r.U16("TPMT_SIGNATURE.sigAlg", s.sig_alg));
  switch (s.sig_alg) {
    case tpm_alg::kRsassa:
    case tpm_alg::kRsapss:
      EW_RETURN_IF_ERROR(ReadHash(r, "TPMT_SIGNATURE.signature.rsa.hash", false, s.hash_alg));
      EW_RETURN_IF_ERROR(r.Tpm2b("TPMT_SIGNATURE.signature.rsa.sig", kMaxRsaKeyBytes, s.rsa_sig));
      break;
    case tpm_alg::kEcdsa:
    case tpm_alg::kEcdaa:
    case tpm_alg::kSm2:
    case tpm_alg::kEcschnorr:
      EW_RETURN_IF_ERROR(ReadHash(r, "TPMT_SIGNATURE.signature.ecc.hash", false, s.hash_alg));
      EW_RETURN_IF_ERROR(r.Tpm2b("TPMT_SIGNATURE.signature.ecc.signatureR", kMaxEccKeyBytes, s.ecc_r));
      EW_RETURN_IF_ERROR(r.Tpm2b("TPMT_SIGNATURE.signature.ecc.signatureS", kMaxEccKeyBytes, s.ecc_s));
      break;
    case tpm_alg::kHmac: {
      EW_RETURN_IF_ERROR(ReadHash(r, "TPMT_SIGNATURE.signature.hmac.hashAlg", false, s.hash_alg));
      const size_t n = crypto::DigestSize(*HashFromTpm(s.hash_alg));
      EW_RETURN_IF_ERROR(r.Raw("TPMT_SIGNATURE.signature.hmac.digest", n, s.hmac));
      break;
    }
    case tpm_alg::kNull:
      break;
    default:
      return Reader::Error("TPMT_SIGNATURE.sigAlg", "unsupported signature algorithm " + TpmAlgName(s.sig_alg), 0);
  }
  EW_RETURN_IF_ERROR(r.ExpectEnd("TPMT_SIGNATURE"));
  return s;
}

}  // namespace edgeward::attest
