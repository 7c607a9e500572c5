// TPM 2.0 wire formats that a verifier needs, decoded strictly by our own
// code (TPM 2.0 Library Part 2, big-endian marshalling), without TSS: the
// cloud-side verifier links this on machines that have no TPM.
//
// Decoders take outside bytes and return a typed value or kInvalidArgument
// whose message names the structure, the field and the byte offset, e.g.
// "TPMS_ATTEST.extraData: size 70 exceeds 66 at offset 12". Every size is
// checked against the buffer and against the spec maximum; trailing bytes
// after a complete structure are rejected. Decoded values own their bytes
// (no views into the input), so the input may be freed afterwards.
//
// Nothing here verifies anything: a decoded TPMS_ATTEST is not yet trusted.
// All functions are thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/hash.h"
#include "edgeward/crypto/public_key.h"
#include "edgeward/tpm/pcr_types.h"

namespace edgeward::attest {

// TPM_ALG_ID values used below (Part 2, Table 9).
namespace tpm_alg {
inline constexpr uint16_t kRsa = 0x0001;
inline constexpr uint16_t kSha1 = 0x0004;
inline constexpr uint16_t kHmac = 0x0005;
inline constexpr uint16_t kAes = 0x0006;
inline constexpr uint16_t kKeyedHash = 0x0008;
inline constexpr uint16_t kXor = 0x000A;
inline constexpr uint16_t kSha256 = 0x000B;
inline constexpr uint16_t kSha384 = 0x000C;
inline constexpr uint16_t kSha512 = 0x000D;
inline constexpr uint16_t kNull = 0x0010;
inline constexpr uint16_t kSm3_256 = 0x0012;
inline constexpr uint16_t kSm4 = 0x0013;
inline constexpr uint16_t kRsassa = 0x0014;
inline constexpr uint16_t kRsaes = 0x0015;
inline constexpr uint16_t kRsapss = 0x0016;
inline constexpr uint16_t kOaep = 0x0017;
inline constexpr uint16_t kEcdsa = 0x0018;
inline constexpr uint16_t kEcdh = 0x0019;
inline constexpr uint16_t kEcdaa = 0x001A;
inline constexpr uint16_t kSm2 = 0x001B;
inline constexpr uint16_t kEcschnorr = 0x001C;
inline constexpr uint16_t kEcmqv = 0x001D;
inline constexpr uint16_t kKdf1Sp800_56a = 0x0020;
inline constexpr uint16_t kKdf2 = 0x0021;
inline constexpr uint16_t kKdf1Sp800_108 = 0x0022;
inline constexpr uint16_t kEcc = 0x0023;
inline constexpr uint16_t kSymCipher = 0x0025;
inline constexpr uint16_t kCamellia = 0x0026;
inline constexpr uint16_t kCtr = 0x0040;
inline constexpr uint16_t kOfb = 0x0041;
inline constexpr uint16_t kCbc = 0x0042;
inline constexpr uint16_t kCfb = 0x0043;
inline constexpr uint16_t kEcb = 0x0044;
}  // namespace tpm_alg

// TPM_ECC_CURVE values.
namespace tpm_ecc {
inline constexpr uint16_t kNistP192 = 0x0001;
inline constexpr uint16_t kNistP224 = 0x0002;
inline constexpr uint16_t kNistP256 = 0x0003;
inline constexpr uint16_t kNistP384 = 0x0004;
inline constexpr uint16_t kNistP521 = 0x0005;
inline constexpr uint16_t kBnP256 = 0x0010;
inline constexpr uint16_t kBnP638 = 0x0011;
inline constexpr uint16_t kSm2P256 = 0x0020;
}  // namespace tpm_ecc

// TPMA_OBJECT bits.
namespace tpma_object {
inline constexpr uint32_t kFixedTpm = 1u << 1;
inline constexpr uint32_t kStClear = 1u << 2;
inline constexpr uint32_t kFixedParent = 1u << 4;
inline constexpr uint32_t kSensitiveDataOrigin = 1u << 5;
inline constexpr uint32_t kUserWithAuth = 1u << 6;
inline constexpr uint32_t kAdminWithPolicy = 1u << 7;
inline constexpr uint32_t kNoDa = 1u << 10;
inline constexpr uint32_t kEncryptedDuplication = 1u << 11;
inline constexpr uint32_t kRestricted = 1u << 16;
inline constexpr uint32_t kDecrypt = 1u << 17;
inline constexpr uint32_t kSign = 1u << 18;
inline constexpr uint32_t kX509Sign = 1u << 19;
}  // namespace tpma_object

inline constexpr uint32_t kTpmGenerated = 0xff544347;  // TPM_GENERATED_VALUE

// TPM_ST values for TPMS_ATTEST.type.
namespace tpm_st {
inline constexpr uint16_t kAttestNv = 0x8014;
inline constexpr uint16_t kAttestCommandAudit = 0x8015;
inline constexpr uint16_t kAttestSessionAudit = 0x8016;
inline constexpr uint16_t kAttestCertify = 0x8017;
inline constexpr uint16_t kAttestQuote = 0x8018;
inline constexpr uint16_t kAttestTime = 0x8019;
inline constexpr uint16_t kAttestCreation = 0x801A;
inline constexpr uint16_t kAttestNvDigest = 0x801C;
}  // namespace tpm_st

// Size caps (the TPM's own maxima, Part 2 with the reference implementation's
// constants): anything larger is rejected before it is allocated.
inline constexpr size_t kMaxRsaKeyBytes = 512;     // TPM2B_PUBLIC_KEY_RSA
inline constexpr size_t kMaxEccKeyBytes = 128;     // TPM2B_ECC_PARAMETER
inline constexpr size_t kMaxDigestBytes = 64;      // TPM2B_DIGEST
inline constexpr size_t kMaxNameBytes = 2 + 64;    // TPM2B_NAME (sizeof TPMU_NAME)
inline constexpr size_t kMaxDataBytes = 2 + 64;    // TPM2B_DATA (sizeof TPMT_HA)
inline constexpr size_t kMaxPcrBanks = 16;         // TPML_PCR_SELECTION.count
inline constexpr size_t kMaxPcrSelectBytes = 4;    // TPMS_PCR_SELECTION.sizeofSelect
inline constexpr size_t kMaxAttestBytes = 1024;    // TPM2B_ATTEST
inline constexpr size_t kMaxPublicBytes = 1024;    // TPM2B_PUBLIC (TPMT_PUBLIC)

// Short algorithm names for messages: "rsa", "ecdsa", "sha256", "0x1234".
std::string TpmAlgName(uint16_t alg);

// ---- TPMT_PUBLIC ------------------------------------------------------------

// TPMT_SYM_DEF_OBJECT; algorithm == kNull → key_bits/mode are 0.
struct TpmtSymDefObject {
  uint16_t algorithm = tpm_alg::kNull;
  uint16_t key_bits = 0;
  uint16_t mode = 0;
};

// TPMT_RSA_SCHEME / TPMT_ECC_SCHEME / TPMT_KEYEDHASH_SCHEME / TPMT_KDF_SCHEME:
// the scheme and, where the scheme has details, its hash (ECDAA's count and
// XOR's KDF are kept too). scheme == kNull → the rest is 0.
struct TpmtScheme {
  uint16_t scheme = tpm_alg::kNull;
  uint16_t hash_alg = 0;
  uint16_t count = 0;  // ECDAA only
  uint16_t kdf = 0;    // keyed-hash XOR only
};

struct TpmtPublic {
  uint16_t type = 0;       // kRsa, kEcc, kKeyedHash, kSymCipher
  uint16_t name_alg = 0;   // a hash alg, or kNull
  uint32_t object_attributes = 0;
  Bytes auth_policy;       // TPM2B_DIGEST
  // Parameters.
  TpmtSymDefObject symmetric;  // RSA, ECC, SYMCIPHER (unused for KEYEDHASH)
  TpmtScheme scheme;           // RSA, ECC, KEYEDHASH
  uint16_t rsa_key_bits = 0;
  uint32_t rsa_exponent = 0;   // 0 means the default 65537
  uint16_t ecc_curve = 0;
  TpmtScheme ecc_kdf;
  // Unique: RSA modulus, or ECC x/y, or the keyed-hash/symcipher digest (in x).
  Bytes rsa_modulus;
  Bytes ecc_x;
  Bytes ecc_y;
  Bytes unique_digest;

  // The exact marshalled TPMT_PUBLIC bytes this was decoded from (what the
  // name is computed over).
  Bytes marshalled;

  bool is_restricted_signing_key() const {
    return (object_attributes & tpma_object::kRestricted) && (object_attributes & tpma_object::kSign) &&
           !(object_attributes & tpma_object::kDecrypt);
  }
};

// TPMT_PUBLIC on its own (no size prefix); the whole of `data` must be used.
StatusOr<TpmtPublic> DecodeTpmtPublic(ByteView data);
// TPM2B_PUBLIC: UINT16 size, then exactly that many bytes of TPMT_PUBLIC.
// What `tpm2_createak -u` and `tpm2_readpublic -o` (default format) write.
StatusOr<TpmtPublic> DecodeTpm2bPublic(ByteView data);

// The object's TPM name: nameAlg (big-endian) || H_nameAlg(marshalled).
// kInvalidArgument when nameAlg is not a hash we implement.
StatusOr<Bytes> ComputeName(const TpmtPublic& pub);

// The object's public key: RSA (exponent 0 → 65537) or ECC on NIST
// P-256/P-384/P-521 (other curves → kUnimplemented; keyed-hash and
// symcipher objects → kInvalidArgument). A point not on the curve →
// kInvalidArgument naming TPMT_PUBLIC.unique.ecc.
StatusOr<crypto::PublicKey> PublicKeyOf(const TpmtPublic& pub);
// The same as a SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
StatusOr<std::string> PublicKeyPem(const TpmtPublic& pub);

// ---- TPML_PCR_SELECTION -----------------------------------------------------

// One TPMS_PCR_SELECTION. Bit n of select[i] selects PCR 8*i + n.
struct TpmsPcrSelection {
  uint16_t hash_alg = 0;
  Bytes select;  // sizeofSelect bytes (1..kMaxPcrSelectBytes)

  bool IsSelected(uint32_t pcr) const {
    return pcr / 8 < select.size() && (select[pcr / 8] >> (pcr % 8)) & 1;
  }
  // Selected PCR indices, ascending.
  std::vector<uint32_t> Pcrs() const;
};

// The banks keep their wire order: a quote's pcrDigest is computed over the
// banks in this order, each bank's PCRs ascending.
struct TpmlPcrSelection {
  std::vector<TpmsPcrSelection> banks;
};

// Encodes a selection as the TPM wants it (sizeofSelect = 3 for 24 PCRs),
// banks in the map's order (ascending TPM_ALG_ID).
TpmlPcrSelection ToTpml(const tpm::PcrSelection& sel);
// Marshals TPML_PCR_SELECTION (count, then each hash/sizeofSelect/bitmap).
Bytes MarshalPcrSelection(const TpmlPcrSelection& sel);
void AppendPcrSelection(const TpmlPcrSelection& sel, Bytes& out);
StatusOr<TpmlPcrSelection> DecodePcrSelection(ByteView data);

// ---- TPMS_ATTEST ------------------------------------------------------------

struct TpmsClockInfo {
  uint64_t clock = 0;  // ms the TPM has been powered (monotonic; safe → not rolled back)
  uint32_t reset_count = 0;
  uint32_t restart_count = 0;
  bool safe = false;
};

struct TpmsQuoteInfo {
  TpmlPcrSelection pcr_select;
  Bytes pcr_digest;  // TPM2B_DIGEST
};

struct TpmsAttest {
  uint32_t magic = 0;
  uint16_t type = 0;
  Bytes qualified_signer;  // TPM2B_NAME
  Bytes extra_data;        // TPM2B_DATA: the caller's qualifying data (nonce)
  TpmsClockInfo clock_info;
  uint64_t firmware_version = 0;
  // Set when type == TPM_ST_ATTEST_QUOTE.
  bool has_quote = false;
  TpmsQuoteInfo quote;
  // The undecoded TPMU_ATTEST bytes for the other attest types.
  Bytes other_attested;
};

// TPMS_ATTEST as returned in a TPM2B_ATTEST's buffer (what `tpm2_quote -m`
// writes). The magic and the type are decoded but not judged here (appraisal
// reports a wrong magic as a finding); for TPM_ST_ATTEST_QUOTE the quote info
// is decoded strictly, for any other type the rest is kept as bytes.
StatusOr<TpmsAttest> DecodeTpmsAttest(ByteView data);

// ---- TPMT_SIGNATURE ---------------------------------------------------------

struct TpmtSignature {
  uint16_t sig_alg = tpm_alg::kNull;  // kRsassa, kRsapss, kEcdsa, kEcdaa, kSm2, kEcschnorr, kHmac, kNull
  uint16_t hash_alg = 0;
  Bytes rsa_sig;  // RSASSA/RSAPSS
  Bytes ecc_r;    // ECC schemes
  Bytes ecc_s;
  Bytes hmac;     // HMAC: the digest
};

// What `tpm2_quote -s` (default "tss" format) writes.
StatusOr<TpmtSignature> DecodeTpmtSignature(ByteView data);

// ---- helpers ----------------------------------------------------------------

// Maps a TPM hash alg id to HashAlg; nullopt for kNull and unknown ids.
inline std::optional<crypto::HashAlg> HashFromTpm(uint16_t alg) { return crypto::HashAlgFromTpmId(alg); }

}  // namespace edgeward::attest
