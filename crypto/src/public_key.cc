#include "edgeward/crypto/public_key.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstring>
#include <utility>

#include "edgeward/crypto/openssl_ptr.h"

namespace edgeward::crypto {
namespace {

constexpr size_t kMaxKeyEncodingBytes = 64 * 1024;

const char* GroupName(EcCurve curve) {
  switch (curve) {
    case EcCurve::kNistP256: return "prime256v1";
    case EcCurve::kNistP384: return "secp384r1";
    case EcCurve::kNistP521: return "secp521r1";
  }
  return "";
}

std::optional<EcCurve> CurveFromGroupName(std::string_view name) {
  for (EcCurve c : {EcCurve::kNistP256, EcCurve::kNistP384, EcCurve::kNistP521}) {
    if (name == GroupName(c)) return c;
  }
  // OpenSSL may report the NIST alias for the same group.
  if (name == "P-256") return EcCurve::kNistP256;
  if (name == "P-384") return EcCurve::kNistP384;
  if (name == "P-521") return EcCurve::kNistP521;
  return std::nullopt;
}

const EVP_MD* SignatureMd(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1: return EVP_sha1();
    case HashAlg::kSha256: return EVP_sha256();
    case HashAlg::kSha384: return EVP_sha384();
    case HashAlg::kSha512: return EVP_sha512();
    case HashAlg::kSm3_256: return nullptr;  // not used for TPM signatures we accept
  }
  return nullptr;
}

// Strips leading zero bytes from a big-endian unsigned integer.
ByteView StripLeadingZeros(ByteView v) {
  size_t i = 0;
  while (i < v.size() && v[i] == 0) ++i;
  return v.subspan(i);
}

StatusOr<Bytes> BnParamPadded(EVP_PKEY* pkey, const char* param, size_t width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, param, &raw) != 1) return OpensslError("EVP_PKEY_get_bn_param");
  BignumPtr bn(raw);
  if (static_cast<size_t>(BN_num_bytes(bn.get())) > width) {
    return Internal(std::string("key parameter ") + param + " is wider than its field");
  }
  Bytes out(width);
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(width)) != static_cast<int>(width)) {
    return OpensslError("BN_bn2binpad");
  }
  return out;
}

}  // namespace

std::string_view EcCurveName(EcCurve curve) {
  switch (curve) {
    case EcCurve::kNistP256: return "P-256";
    case EcCurve::kNistP384: return "P-384";
    case EcCurve::kNistP521: return "P-521";
  }
  return "unknown";
}

size_t EcCurveBytes(EcCurve curve) {
  switch (curve) {
    case EcCurve::kNistP256: return 32;
    case EcCurve::kNistP384: return 48;
    case EcCurve::kNistP521: return 66;
  }
  return 0;
}

std::optional<EcCurve> EcCurveFromTpmId(uint16_t id) {
  switch (id) {
    case 0x0003: return EcCurve::kNistP256;
    case 0x0004: return EcCurve::kNistP384;
    case 0x0005: return EcCurve::kNistP521;
    default: return std::nullopt;
  }
}

StatusOr<PublicKey> PublicKey::FromEvpPkey(EVP_PKEY* pkey) {
  EvpPkeyPtr owned(pkey);
  if (!owned) return InvalidArgument("public key: null EVP_PKEY");
  const int bits = EVP_PKEY_get_bits(owned.get());
  switch (EVP_PKEY_get_base_id(owned.get())) {
    case EVP_PKEY_RSA: {
      if (bits < 1024 || bits > 16384) {
        return InvalidArgument("public key: RSA modulus of " + std::to_string(bits) + " bits is not supported");
      }
      return PublicKey(owned.release(), KeyType::kRsa, bits, EcCurve::kNistP256);
    }
    case EVP_PKEY_EC: {
      char name[64] = {};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(owned.get(), OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1) {
        ERR_clear_error();
        return InvalidArgument("public key: EC key without a named curve (explicit parameters are not supported)");
      }
      std::optional<EcCurve> curve = CurveFromGroupName(std::string_view(name, len));
      if (!curve) return InvalidArgument("public key: EC curve " + std::string(name, len) + " is not supported");
      return PublicKey(owned.release(), KeyType::kEc, bits, *curve);
    }
    default:
      return InvalidArgument("public key: key type " + std::to_string(EVP_PKEY_get_base_id(owned.get())) +
                             " is neither RSA nor EC");
  }
}

StatusOr<PublicKey> PublicKey::FromDer(ByteView der) {
  if (der.empty()) return InvalidArgument("public key (DER): empty input");
  if (der.size() > kMaxKeyEncodingBytes) return InvalidArgument("public key (DER): larger than 64 KiB");
  const unsigned char* p = der.data();
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (pkey == nullptr) {
    return OpensslError("d2i_PUBKEY", StatusCode::kInvalidArgument).WithContext("public key (DER)");
  }
  EvpPkeyPtr owned(pkey);
  if (p != der.data() + der.size()) {
    return InvalidArgument("public key (DER): " + std::to_string(der.data() + der.size() - p) +
                           " trailing bytes after SubjectPublicKeyInfo");
  }
  return FromEvpPkey(owned.release());
}

StatusOr<PublicKey> PublicKey::FromPem(std::string_view pem) {
  if (pem.size() > kMaxKeyEncodingBytes) return InvalidArgument("public key (PEM): larger than 64 KiB");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpensslError("BIO_new_mem_buf");
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (pkey == nullptr) {
    return OpensslError("PEM_read_bio_PUBKEY", StatusCode::kInvalidArgument).WithContext("public key (PEM)");
  }
  return FromEvpPkey(pkey);
}

StatusOr<PublicKey> PublicKey::FromEcPoint(EcCurve curve, ByteView x, ByteView y) {
  const size_t width = EcCurveBytes(curve);
  if (width == 0) return InvalidArgument("EC public key: unsupported curve");
  ByteView xs = StripLeadingZeros(x);
  ByteView ys = StripLeadingZeros(y);
  if (xs.size() > width || ys.size() > width) {
    return InvalidArgument("EC public key: coordinate longer than " + std::to_string(width) + " bytes for " +
                           std::string(EcCurveName(curve)));
  }
  Bytes point(1 + 2 * width, 0);
  point[0] = 0x04;  // uncompressed (SEC 1 §2.3.3)
  std::memcpy(point.data() + 1 + width - xs.size(), xs.data(), xs.size());
  std::memcpy(point.data() + 1 + 2 * width - ys.size(), ys.data(), ys.size());

  OsslParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld) return OpensslError("OSSL_PARAM_BLD_new");
  if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, GroupName(curve), 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return OpensslError("OSSL_PARAM_BLD_push");
  }
  OsslParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (!params) return OpensslError("OSSL_PARAM_BLD_to_param");
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!ctx) return OpensslError("EVP_PKEY_CTX_new_from_name");
  if (EVP_PKEY_fromdata_init(ctx.get()) != 1) return OpensslError("EVP_PKEY_fromdata_init");
  EVP_PKEY* raw = nullptr;
  // A point that is not on the curve fails here (EC_POINT_oct2point checks).
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpensslError("EVP_PKEY_fromdata", StatusCode::kInvalidArgument)
        .WithContext("EC public key on " + std::string(EcCurveName(curve)));
  }
  EvpPkeyPtr pkey(raw);
  EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check) return OpensslError("EVP_PKEY_CTX_new_from_pkey");
  if (EVP_PKEY_public_check(check.get()) != 1) {
    return OpensslError("EVP_PKEY_public_check", StatusCode::kInvalidArgument)
        .WithContext("EC public key on " + std::string(EcCurveName(curve)));
  }
  return FromEvpPkey(pkey.release());
}

StatusOr<PublicKey> PublicKey::FromRsaModulus(ByteView n, uint32_t exponent) {
  ByteView ns = StripLeadingZeros(n);
  if (ns.size() < 128 || ns.size() > 2048) {
    return InvalidArgument("RSA public key: modulus of " + std::to_string(ns.size()) +
                           " bytes (after leading zeros) is not supported");
  }
  if ((ns.back() & 1) == 0) return InvalidArgument("RSA public key: modulus is even");
  const uint32_t e = exponent == 0 ? 65537 : exponent;
  if (e < 3 || (e & 1) == 0) return InvalidArgument("RSA public key: exponent " + std::to_string(e) + " is invalid");

  BignumPtr bn_n(BN_bin2bn(ns.data(), static_cast<int>(ns.size()), nullptr));
  BignumPtr bn_e(BN_new());
  if (!bn_n || !bn_e) return OpensslError("BN_bin2bn");
  if (BN_set_word(bn_e.get(), e) != 1) return OpensslError("BN_set_word");
  OsslParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld) return OpensslError("OSSL_PARAM_BLD_new");
  if (OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return OpensslError("OSSL_PARAM_BLD_push_BN");
  }
  OsslParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (!params) return OpensslError("OSSL_PARAM_BLD_to_param");
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!ctx) return OpensslError("EVP_PKEY_CTX_new_from_name");
  if (EVP_PKEY_fromdata_init(ctx.get()) != 1) return OpensslError("EVP_PKEY_fromdata_init");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpensslError("EVP_PKEY_fromdata", StatusCode::kInvalidArgument).WithContext("RSA public key");
  }
  return FromEvpPkey(raw);
}

PublicKey::PublicKey(PublicKey&& o) noexcept
    : pkey_(std::exchange(o.pkey_, nullptr)), type_(o.type_), bits_(o.bits_), curve_(o.curve_) {}

PublicKey& PublicKey::operator=(PublicKey&& o) noexcept {
  if (this != &o) {
    EVP_PKEY_free(pkey_);
    pkey_ = std::exchange(o.pkey_, nullptr);
    type_ = o.type_;
    bits_ = o.bits_;
    curve_ = o.curve_;
  }
  return *this;
}

PublicKey::~PublicKey() { EVP_PKEY_free(pkey_); }

StatusOr<std::string> PublicKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return OpensslError("BIO_new");
  if (PEM_write_bio_PUBKEY(bio.get(), pkey_) != 1) return OpensslError("PEM_write_bio_PUBKEY");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return OpensslError("BIO_get_mem_data");
  return std::string(data, static_cast<size_t>(len));
}

StatusOr<Bytes> PublicKey::ToDer() const {
  int len = i2d_PUBKEY(pkey_, nullptr);
  if (len <= 0) return OpensslError("i2d_PUBKEY");
  Bytes out(static_cast<size_t>(len));
  unsigned char* p = out.data();
  if (i2d_PUBKEY(pkey_, &p) != len) return OpensslError("i2d_PUBKEY");
  return out;
}

std::string PublicKey::Description() const {
  if (type_ == KeyType::kRsa) return "RSA-" + std::to_string(bits_);
  return "EC " + std::string(EcCurveName(curve_));
}

StatusOr<EcPoint> PublicKey::GetEcPoint() const {
  if (type_ != KeyType::kEc) return FailedPrecondition("GetEcPoint: " + Description() + " is not an EC key");
  const size_t width = EcCurveBytes(curve_);
  EW_ASSIGN_OR_RETURN(Bytes x, BnParamPadded(pkey_, OSSL_PKEY_PARAM_EC_PUB_X, width));
  EW_ASSIGN_OR_RETURN(Bytes y, BnParamPadded(pkey_, OSSL_PKEY_PARAM_EC_PUB_Y, width));
  return EcPoint{curve_, std::move(x), std::move(y)};
}

StatusOr<Bytes> PublicKey::GetRsaModulus() const {
  if (type_ != KeyType::kRsa) return FailedPrecondition("GetRsaModulus: " + Description() + " is not an RSA key");
  return BnParamPadded(pkey_, OSSL_PKEY_PARAM_RSA_N, static_cast<size_t>((bits_ + 7) / 8));
}

StatusOr<uint32_t> PublicKey::GetRsaExponent() const {
  if (type_ != KeyType::kRsa) return FailedPrecondition("GetRsaExponent: " + Description() + " is not an RSA key");
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey_, OSSL_PKEY_PARAM_RSA_E, &raw) != 1) return OpensslError("EVP_PKEY_get_bn_param");
  BignumPtr e(raw);
  if (BN_num_bits(e.get()) > 32) return OutOfRange("RSA exponent does not fit in 32 bits");
  return static_cast<uint32_t>(BN_get_word(e.get()));
}

bool PublicKey::Equals(const PublicKey& other) const {
  if (pkey_ == nullptr || other.pkey_ == nullptr) return false;
  const bool eq = EVP_PKEY_eq(pkey_, other.pkey_) == 1;
  ERR_clear_error();  // EVP_PKEY_eq queues errors for mismatched types
  return eq;
}

StatusOr<SignatureCheck> PublicKey::VerifyDigest(SignatureScheme scheme, HashAlg alg, ByteView digest,
                                                 ByteView signature) const {
  const EVP_MD* md = SignatureMd(alg);
  if (md == nullptr) {
    return InvalidArgument("verify: hash " + std::string(HashAlgName(alg)) + " is not supported for signatures");
  }
  if (digest.size() != DigestSize(alg)) {
    return InvalidArgument("verify: digest is " + std::to_string(digest.size()) + " bytes, " +
                           std::string(HashAlgName(alg)) + " needs " + std::to_string(DigestSize(alg)));
  }
  const bool ec_scheme = scheme == SignatureScheme::kEcdsa;
  if (ec_scheme != (type_ == KeyType::kEc)) {
    return InvalidArgument("verify: signature scheme does not fit a " + Description() + " key");
  }
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey_, nullptr));
  if (!ctx) return OpensslError("EVP_PKEY_CTX_new_from_pkey");
  if (EVP_PKEY_verify_init(ctx.get()) != 1) return OpensslError("EVP_PKEY_verify_init");
  if (EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1) return OpensslError("EVP_PKEY_CTX_set_signature_md");
  if (scheme == SignatureScheme::kRsaPkcs1v15) {
    if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) {
      return OpensslError("EVP_PKEY_CTX_set_rsa_padding");
    }
  } else if (scheme == SignatureScheme::kRsaPss) {
    if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) != 1) {
      return OpensslError("EVP_PKEY_CTX_set_rsa_padding");
    }
    if (EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) != 1) return OpensslError("EVP_PKEY_CTX_set_rsa_mgf1_md");
    if (EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_AUTO) != 1) {
      return OpensslError("EVP_PKEY_CTX_set_rsa_pss_saltlen");
    }
  }
  if (signature.empty()) return SignatureCheck::kInvalid;
  // 1 is a valid signature; 0 or a negative value (malformed encoding,
  // wrong length) means the signature does not verify. The error queue then
  // holds why, which is about the untrusted input, so it is discarded.
  const int rc = EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), digest.data(), digest.size());
  if (rc == 1) return SignatureCheck::kValid;
  ERR_clear_error();
  return SignatureCheck::kInvalid;
}

StatusOr<SignatureCheck> PublicKey::VerifySignature(SignatureScheme scheme, HashAlg alg, ByteView message,
                                                    ByteView signature) const {
  if (SignatureMd(alg) == nullptr) {
    return InvalidArgument("verify: hash " + std::string(HashAlgName(alg)) + " is not supported for signatures");
  }
  Bytes digest = Digest(alg, message);
  return VerifyDigest(scheme, alg, digest, signature);
}

StatusOr<Bytes> PublicKey::EncryptOaep(HashAlg alg, ByteView label, ByteView plaintext) const {
  if (type_ != KeyType::kRsa) return FailedPrecondition("EncryptOaep: " + Description() + " is not an RSA key");
  const EVP_MD* md = SignatureMd(alg);
  if (md == nullptr) return InvalidArgument("EncryptOaep: hash " + std::string(HashAlgName(alg)) + " not supported");
  const size_t k = static_cast<size_t>((bits_ + 7) / 8);
  const size_t h = DigestSize(alg);
  if (k < 2 * h + 2 || plaintext.size() > k - 2 * h - 2) {
    return InvalidArgument("EncryptOaep: " + std::to_string(plaintext.size()) + " bytes do not fit " +
                           Description() + " with OAEP-" + std::string(HashAlgName(alg)));
  }
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey_, nullptr));
  if (!ctx) return OpensslError("EVP_PKEY_CTX_new_from_pkey");
  if (EVP_PKEY_encrypt_init(ctx.get()) != 1) return OpensslError("EVP_PKEY_encrypt_init");
  if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1) {
    return OpensslError("EVP_PKEY_CTX_set_rsa_padding");
  }
  if (EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md) != 1) return OpensslError("EVP_PKEY_CTX_set_rsa_oaep_md");
  if (EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) != 1) return OpensslError("EVP_PKEY_CTX_set_rsa_mgf1_md");
  if (!label.empty()) {
    // set0 takes ownership of an OPENSSL_malloc'ed copy on success only.
    void* copy = OPENSSL_memdup(label.data(), label.size());
    if (copy == nullptr) return OpensslError("OPENSSL_memdup");
    if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), copy, static_cast<int>(label.size())) != 1) {
      OPENSSL_free(copy);
      return OpensslError("EVP_PKEY_CTX_set0_rsa_oaep_label");
    }
  }
  size_t out_len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &out_len, plaintext.data(), plaintext.size()) != 1) {
    return OpensslError("EVP_PKEY_encrypt");
  }
  Bytes out(out_len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &out_len, plaintext.data(), plaintext.size()) != 1) {
    return OpensslError("EVP_PKEY_encrypt");
  }
  out.resize(out_len);
  return out;
}

StatusOr<EcdhResult> PublicKey::EcdhEphemeral() const {
  if (type_ != KeyType::kEc) return FailedPrecondition("EcdhEphemeral: " + Description() + " is not an EC key");
  EvpPkeyCtxPtr gen(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!gen) return OpensslError("EVP_PKEY_CTX_new_from_name");
  if (EVP_PKEY_keygen_init(gen.get()) != 1) return OpensslError("EVP_PKEY_keygen_init");
  if (EVP_PKEY_CTX_set_group_name(gen.get(), GroupName(curve_)) != 1) {
    return OpensslError("EVP_PKEY_CTX_set_group_name");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_keygen(gen.get(), &raw) != 1) return OpensslError("EVP_PKEY_keygen");
  EvpPkeyPtr eph(raw);  // EVP_PKEY_free clears the private scalar

  EvpPkeyCtxPtr dctx(EVP_PKEY_CTX_new_from_pkey(nullptr, eph.get(), nullptr));
  if (!dctx) return OpensslError("EVP_PKEY_CTX_new_from_pkey");
  if (EVP_PKEY_derive_init(dctx.get()) != 1) return OpensslError("EVP_PKEY_derive_init");
  // Validates the peer (our EK) point as part of setting it.
  if (EVP_PKEY_derive_set_peer(dctx.get(), pkey_) != 1) return OpensslError("EVP_PKEY_derive_set_peer");
  size_t z_len = 0;
  if (EVP_PKEY_derive(dctx.get(), nullptr, &z_len) != 1) return OpensslError("EVP_PKEY_derive");
  EcdhResult result{SecureBytes(z_len), EcPoint{curve_, {}, {}}};
  if (EVP_PKEY_derive(dctx.get(), result.z.data(), &z_len) != 1) return OpensslError("EVP_PKEY_derive");
  result.z.resize(z_len);
  if (z_len != EcCurveBytes(curve_)) return Internal("ECDH: shared secret has unexpected length");

  const size_t width = EcCurveBytes(curve_);
  EW_ASSIGN_OR_RETURN(result.ephemeral.x, BnParamPadded(eph.get(), OSSL_PKEY_PARAM_EC_PUB_X, width));
  EW_ASSIGN_OR_RETURN(result.ephemeral.y, BnParamPadded(eph.get(), OSSL_PKEY_PARAM_EC_PUB_Y, width));
  return result;
}

StatusOr<Bytes> EcdsaRawToDer(ByteView r, ByteView s) {
  if (r.empty() || s.empty()) return InvalidArgument("ECDSA signature: empty r or s");
  if (r.size() > 66 || s.size() > 66) return InvalidArgument("ECDSA signature: r or s longer than 66 bytes");
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!sig) return OpensslError("ECDSA_SIG_new");
  BIGNUM* br = BN_bin2bn(r.data(), static_cast<int>(r.size()), nullptr);
  BIGNUM* bs = BN_bin2bn(s.data(), static_cast<int>(s.size()), nullptr);
  if (br == nullptr || bs == nullptr || ECDSA_SIG_set0(sig.get(), br, bs) != 1) {
    BN_free(br);
    BN_free(bs);
    return OpensslError("ECDSA_SIG_set0");
  }
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return OpensslError("i2d_ECDSA_SIG");
  Bytes out(static_cast<size_t>(len));
  unsigned char* p = out.data();
  if (i2d_ECDSA_SIG(sig.get(), &p) != len) return OpensslError("i2d_ECDSA_SIG");
  return out;
}

}  // namespace edgeward::crypto
