// Software TPM2_MakeCredential (TPM 2.0 Part 1 §24 "Credential Protection",
// seeds per Annex B (RSA-OAEP) and Annex C (ECDH + KDFe)), and the
// credential file format of tpm2-tools.
//
// A verifier seals a secret to (EK public key, AK name): only a TPM that
// holds that EK's private key and has an object with that name loaded can
// recover it with TPM2_ActivateCredential (see edgeward/tpm/credential.h).
// Everything here is OpenSSL only; no TPM is involved. Thread-safe.
#pragma once

#include <cstdint>

#include "edgeward/attest/tpm_wire.h"
#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/hash.h"
#include "edgeward/crypto/public_key.h"

namespace edgeward::attest {

// The parts of an EK's public area that MakeCredential uses. Build it from
// the TPM's public area with EkForCredential (which also checks that the key
// is a restricted decryption key with an AES-CFB symmetric definition), or
// fill it by hand for keys that come from elsewhere.
struct CredentialEk {
  enum class Type { kRsa, kEcc };
  Type type = Type::kRsa;
  crypto::HashAlg name_alg = crypto::HashAlg::kSha256;
  uint16_t aes_key_bits = 128;  // 128, 192 or 256; mode is always CFB
  // kRsa: big-endian modulus; exponent 0 means 65537.
  Bytes rsa_modulus;
  uint32_t rsa_exponent = 0;
  // kEcc: the curve and the point exactly as in TPMT_PUBLIC.unique (the x
  // bytes enter KDFe as they are).
  crypto::EcCurve curve = crypto::EcCurve::kNistP256;
  Bytes ecc_x;
  Bytes ecc_y;
};

// From a decoded EK public area. Not a restricted decryption key, an
// unsupported nameAlg/curve, or a symmetric definition other than AES-CFB →
// kInvalidArgument naming the field.
StatusOr<CredentialEk> EkForCredential(const TpmtPublic& ek_public);
// From a marshalled TPM2B_PUBLIC (what `tpm2_createek -u` writes).
StatusOr<CredentialEk> EkForCredentialFromTpm2bPublic(ByteView tpm2b_public);

// The two TPM inputs of TPM2_ActivateCredential, each marshalled with its
// UINT16 size prefix.
struct Credential {
  Bytes credential_blob;   // TPM2B_ID_OBJECT: size || TPM2B_DIGEST integrityHMAC || encIdentity
  Bytes encrypted_secret;  // TPM2B_ENCRYPTED_SECRET: OAEP ciphertext, or a TPMS_ECC_POINT
};

// Seals `secret` (1..DigestSize(ek.name_alg) bytes) to the EK and to
// `object_name` (the AK's TPM name: nameAlg || digest). The seed and every
// derived key are wiped before return. Bad sizes or an unusable EK key →
// kInvalidArgument; OpenSSL failures → kInternal.
StatusOr<Credential> MakeCredential(const CredentialEk& ek, ByteView object_name, ByteView secret);

// A TPM2B_ID_OBJECT split into its fields (no size prefixes).
struct IdObject {
  Bytes integrity_hmac;  // TPM2B_DIGEST.buffer
  Bytes enc_identity;    // the encrypted TPM2B_DIGEST (size || secret)
};
// Strict: size prefixes must match the data exactly; integrityHMAC at most
// 64 bytes; encIdentity at least the 2-byte size of what it encrypts.
// Malformed → kInvalidArgument naming the field and offset.
StatusOr<IdObject> DecodeIdObject(ByteView credential_blob);

// tpm2-tools' credential file (`tpm2_makecredential -o`,
// `tpm2_activatecredential -i`): UINT32 BE magic 0xBADCC0DE, UINT32 BE
// version 1, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET, nothing after.
inline constexpr uint32_t kCredentialFileMagic = 0xBADCC0DE;
inline constexpr uint32_t kCredentialFileVersion = 1;
inline constexpr size_t kMaxIdObjectBytes = 2 * (2 + 64);  // sizeof(TPMS_ID_OBJECT)
inline constexpr size_t kMaxEncryptedSecretBytes = 512;    // sizeof(TPMU_ENCRYPTED_SECRET)

Bytes EncodeCredentialFile(const Credential& credential);
// Truncation, wrong magic/version, a size above the structure's maximum, a
// malformed ID object or trailing bytes → kInvalidArgument naming the field
// and byte offset, e.g. "credential file: TPM2B_ENCRYPTED_SECRET: truncated:
// need 256 bytes, 20 left at offset 80".
StatusOr<Credential> DecodeCredentialFile(ByteView data);

}  // namespace edgeward::attest
