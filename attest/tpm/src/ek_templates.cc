// TCG EK Credential Profile for TPM Family 2.0, default EK templates
// (section B.3, templates L-1, L-2, H-1, H-2, H-3).
#include <algorithm>

#include "internal/ek_impl.h"
#include "internal/marshal.h"

namespace edgeward::tpm::internal {
namespace {

// PolicySecret(TPM_RH_ENDORSEMENT), SHA-256: the low-range authPolicy.
constexpr uint8_t kPolicyA_Sha256[] = {0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC,
                                       0x8D, 0x46, 0xA5, 0xD7, 0x24, 0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52,
                                       0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA};
// PolicyOR(PolicyA, PolicyC) — "PolicyB" — for the high range.
constexpr uint8_t kPolicyB_Sha256[] = {0xCA, 0x3D, 0x0A, 0x99, 0xA2, 0xB9, 0x39, 0x06, 0xF7, 0xA3, 0x34,
                                       0x24, 0x14, 0xEF, 0xCF, 0xB3, 0xA3, 0x85, 0xD4, 0x4C, 0xD1, 0xFD,
                                       0x45, 0x90, 0x89, 0xD1, 0x9B, 0x50, 0x71, 0xC0, 0xB7, 0xA0};
constexpr uint8_t kPolicyB_Sha384[] = {
    0xB2, 0x6E, 0x7D, 0x28, 0xD1, 0x1A, 0x50, 0xBC, 0x53, 0xD8, 0x82, 0xBC, 0xF5, 0xFD, 0x3A, 0x1A,
    0x07, 0x41, 0x48, 0xBB, 0x35, 0xD3, 0xB4, 0xE4, 0xCB, 0x1C, 0x0A, 0xD9, 0xBD, 0xE4, 0x19, 0xCA,
    0xCB, 0x47, 0xBA, 0x09, 0x69, 0x96, 0x46, 0x15, 0x0F, 0x9F, 0xC0, 0x00, 0xF3, 0xF8, 0x0E, 0x12};

constexpr TPMA_OBJECT kLowAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
                                       TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;  // 0x000300b2
constexpr TPMA_OBJECT kHighAttributes = kLowAttributes | TPMA_OBJECT_USERWITHAUTH;    // 0x000300f2

template <size_t N>
void SetPolicy(TPMT_PUBLIC& t, const uint8_t (&policy)[N]) {
  t.authPolicy.size = N;
  std::copy(policy, policy + N, t.authPolicy.buffer);
}

TPMT_PUBLIC Rsa2048(bool high) {
  TPMT_PUBLIC t{};
  t.type = TPM2_ALG_RSA;
  t.nameAlg = TPM2_ALG_SHA256;
  t.objectAttributes = high ? kHighAttributes : kLowAttributes;
  if (high) {
    SetPolicy(t, kPolicyB_Sha256);
  } else {
    SetPolicy(t, kPolicyA_Sha256);
  }
  TPMS_RSA_PARMS& p = t.parameters.rsaDetail;
  p.symmetric.algorithm = TPM2_ALG_AES;
  p.symmetric.keyBits.aes = 128;
  p.symmetric.mode.aes = TPM2_ALG_CFB;
  p.scheme.scheme = TPM2_ALG_NULL;
  p.keyBits = 2048;
  p.exponent = 0;
  t.unique.rsa.size = high ? 0 : 256;  // zeros
  return t;
}

TPMT_PUBLIC Ecc(TPM2_ECC_CURVE curve, bool high) {
  TPMT_PUBLIC t{};
  t.type = TPM2_ALG_ECC;
  const bool p384 = curve == TPM2_ECC_NIST_P384;
  t.nameAlg = p384 ? TPM2_ALG_SHA384 : TPM2_ALG_SHA256;
  t.objectAttributes = high ? kHighAttributes : kLowAttributes;
  if (p384) {
    SetPolicy(t, kPolicyB_Sha384);
  } else if (high) {
    SetPolicy(t, kPolicyB_Sha256);
  } else {
    SetPolicy(t, kPolicyA_Sha256);
  }
  TPMS_ECC_PARMS& p = t.parameters.eccDetail;
  p.symmetric.algorithm = TPM2_ALG_AES;
  p.symmetric.keyBits.aes = p384 ? 256 : 128;
  p.symmetric.mode.aes = TPM2_ALG_CFB;
  p.scheme.scheme = TPM2_ALG_NULL;
  p.curveID = curve;
  p.kdf.scheme = TPM2_ALG_NULL;
  t.unique.ecc.x.size = high ? 0 : 32;  // zeros
  t.unique.ecc.y.size = high ? 0 : 32;
  return t;
}

}  // namespace

TPMT_PUBLIC EkTemplate(EkKind kind) {
  switch (kind) {
    case EkKind::kRsa2048Low:
      return Rsa2048(false);
    case EkKind::kEccP256Low:
      return Ecc(TPM2_ECC_NIST_P256, false);
    case EkKind::kRsa2048High:
      return Rsa2048(true);
    case EkKind::kEccP256High:
      return Ecc(TPM2_ECC_NIST_P256, true);
    case EkKind::kEccP384High:
      return Ecc(TPM2_ECC_NIST_P384, true);
  }
  return Rsa2048(false);
}

StatusOr<bool> MatchesEkTemplate(const TPMT_PUBLIC& pub, EkKind kind) {
  TPMT_PUBLIC tmpl = EkTemplate(kind);
  if (pub.type != tmpl.type) return false;
  TPMT_PUBLIC candidate = pub;
  candidate.unique = tmpl.unique;
  EW_ASSIGN_OR_RETURN(Bytes a, EW_MU_MARSHAL(TPMT_PUBLIC, candidate));
  EW_ASSIGN_OR_RETURN(Bytes b, EW_MU_MARSHAL(TPMT_PUBLIC, tmpl));
  return a == b;
}

}  // namespace edgeward::tpm::internal
