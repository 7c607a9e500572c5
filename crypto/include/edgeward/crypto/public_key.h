// PublicKey: an RSA or EC public key (an owned EVP_PKEY) and the operations a
// verifier needs on it: signature checks, RSA-OAEP encryption and ECDH with
// a fresh ephemeral key (for TPM credential and seed establishment).
//
// Keys come from PEM/DER SubjectPublicKeyInfo, from X.509 certificates
// (x509.h), or from the raw parameters found in TPM public areas.
// PublicKey is move-only and immutable; const methods are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/hash.h"
#include "edgeward/crypto/secure_bytes.h"

struct evp_pkey_st;  // EVP_PKEY, kept out of this header

namespace edgeward::crypto {

enum class KeyType { kRsa, kEc };

// Values are the TCG TPM_ECC_CURVE identifiers.
enum class EcCurve : uint16_t {
  kNistP256 = 0x0003,
  kNistP384 = 0x0004,
  kNistP521 = 0x0005,
};
// "P-256", "P-384", "P-521".
std::string_view EcCurveName(EcCurve curve);
// Size of a field element / coordinate in bytes (32, 48, 66).
size_t EcCurveBytes(EcCurve curve);
// From a TPM_ECC_CURVE id; nullopt for curves we don't support.
std::optional<EcCurve> EcCurveFromTpmId(uint16_t id);

enum class SignatureScheme {
  kEcdsa,         // signature is DER ECDSA-Sig-Value (see EcdsaRawToDer)
  kRsaPkcs1v15,   // RSASSA-PKCS1-v1_5 (TPM_ALG_RSASSA)
  kRsaPss,        // RSASSA-PSS, MGF1 with the same hash (TPM_ALG_RSAPSS);
                  // any salt length is accepted when verifying, as TPMs
                  // differ (max vs. digest length)
};

// The outcome of a well-formed verification request. kInvalid is a normal
// answer about untrusted input ("signature does not verify"), not an error;
// malformed signature bytes are kInvalid too.
enum class SignatureCheck { kValid, kInvalid };

// An EC point as affine coordinates, each left-padded to EcCurveBytes().
struct EcPoint {
  EcCurve curve;
  Bytes x;
  Bytes y;
};

// Result of EcdhEphemeral: the shared secret Z (x coordinate of the shared
// point, EcCurveBytes() long) and the ephemeral public point to send.
struct EcdhResult {
  SecureBytes z;
  EcPoint ephemeral;
};

class PublicKey {
 public:
  // SubjectPublicKeyInfo in PEM ("-----BEGIN PUBLIC KEY-----") or DER.
  // Anything else, trailing bytes, or a key that is neither RSA nor an EC
  // key on a supported curve → kInvalidArgument naming what was wrong.
  static StatusOr<PublicKey> FromPem(std::string_view pem);
  static StatusOr<PublicKey> FromDer(ByteView der);
  // From TPM public-area parameters. Coordinates are big-endian unsigned
  // and may be shorter than the field (leading zeros); a point not on the
  // curve → kInvalidArgument. `exponent` 0 means 65537, as in TPMS_RSA_PARMS.
  static StatusOr<PublicKey> FromEcPoint(EcCurve curve, ByteView x, ByteView y);
  static StatusOr<PublicKey> FromRsaModulus(ByteView n, uint32_t exponent);
  // Takes ownership of `pkey` (must be non-null, RSA or EC on a supported
  // curve). For the crypto module itself and for x509.cc.
  static StatusOr<PublicKey> FromEvpPkey(evp_pkey_st* pkey);

  PublicKey(PublicKey&&) noexcept;
  PublicKey& operator=(PublicKey&&) noexcept;
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;
  ~PublicKey();

  StatusOr<std::string> ToPem() const;
  StatusOr<Bytes> ToDer() const;  // SubjectPublicKeyInfo

  KeyType type() const { return type_; }
  // RSA modulus size in bits, or the curve's size (256, 384, 521).
  int bits() const { return bits_; }
  // Only meaningful for kEc.
  EcCurve curve() const { return curve_; }
  // "RSA-2048", "EC P-256".
  std::string Description() const;

  // For kEc keys; kFailedPrecondition on an RSA key.
  StatusOr<EcPoint> GetEcPoint() const;
  // For kRsa keys: big-endian modulus (bits()/8 bytes) and public exponent.
  StatusOr<Bytes> GetRsaModulus() const;
  StatusOr<uint32_t> GetRsaExponent() const;

  // Same key type and same public parameters.
  bool Equals(const PublicKey& other) const;

  // Hashes `message` with `alg` and checks `signature`. A scheme that does
  // not fit the key type or an unsupported hash → kInvalidArgument;
  // OpenSSL failures unrelated to the signature → kInternal.
  StatusOr<SignatureCheck> VerifySignature(SignatureScheme scheme, HashAlg alg, ByteView message,
                                           ByteView signature) const;
  // Same over a precomputed digest; digest.size() must be DigestSize(alg).
  StatusOr<SignatureCheck> VerifyDigest(SignatureScheme scheme, HashAlg alg, ByteView digest,
                                        ByteView signature) const;

  // RSA-OAEP encryption with `alg` for both the OAEP hash and MGF1, and
  // `label` used byte for byte (TPM callers include the trailing NUL,
  // e.g. "IDENTITY\0"). kFailedPrecondition on an EC key; plaintext too long
  // for the key → kInvalidArgument.
  StatusOr<Bytes> EncryptOaep(HashAlg alg, ByteView label, ByteView plaintext) const;

  // Generates an ephemeral key on this key's curve and derives the shared
  // secret with it; the ephemeral private key is freed (and wiped by
  // OpenSSL) before return. kFailedPrecondition on an RSA key.
  StatusOr<EcdhResult> EcdhEphemeral() const;

  // Borrowed; valid as long as this PublicKey.
  evp_pkey_st* get() const { return pkey_; }

 private:
  PublicKey(evp_pkey_st* pkey, KeyType type, int bits, EcCurve curve)
      : pkey_(pkey), type_(type), bits_(bits), curve_(curve) {}

  evp_pkey_st* pkey_ = nullptr;  // owned
  KeyType type_ = KeyType::kRsa;
  int bits_ = 0;
  EcCurve curve_ = EcCurve::kNistP256;
};

// Converts a raw ECDSA signature (r, s as big-endian unsigned integers, as
// in TPMS_SIGNATURE_ECC) to the DER encoding VerifySignature expects.
// Empty or over-long (> 66 bytes) components → kInvalidArgument.
StatusOr<Bytes> EcdsaRawToDer(ByteView r, ByteView s);

}  // namespace edgeward::crypto
