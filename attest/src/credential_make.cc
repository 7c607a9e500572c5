// Software TPM2_MakeCredential. Every step follows TPM 2.0 Part 1 §24 and
// the seed annexes; names in comments are the spec's.
#include <string>

#include "edgeward/attest/credential.h"
#include "edgeward/crypto/kdf.h"
#include "edgeward/crypto/random.h"
#include "edgeward/crypto/symmetric.h"

namespace edgeward::attest {
namespace {

using crypto::HashAlg;
using crypto::SecureBytes;

void PutU16(Bytes& out, size_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

// The label of both seed paths. RSA-OAEP takes it with its NUL (Annex B.10.4);
// KDFe appends the NUL itself.
constexpr char kIdentityLabel[] = "IDENTITY";

struct Seed {
  SecureBytes seed;
  Bytes encrypted;  // TPM2B_ENCRYPTED_SECRET.buffer
};

// Annex B.10.4: a random seed of the nameAlg's digest size, RSA-OAEP
// encrypted to the EK with nameAlg and label "IDENTITY\0".
StatusOr<Seed> RsaSeed(const CredentialEk& ek) {
  auto key = crypto::PublicKey::FromRsaModulus(ek.rsa_modulus, ek.rsa_exponent);
  if (!key.ok()) return key.status().WithContext("MakeCredential: EK");
  EW_ASSIGN_OR_RETURN(SecureBytes seed, crypto::RandomBytes(crypto::DigestSize(ek.name_alg)));
  auto encrypted =
      key->EncryptOaep(ek.name_alg, ByteView(reinterpret_cast<const uint8_t*>(kIdentityLabel), sizeof kIdentityLabel),
                       seed);
  if (!encrypted.ok()) return encrypted.status().WithContext("MakeCredential: RSA-OAEP seed");
  return Seed{std::move(seed), std::move(encrypted).value()};
}

// Annex C.6.4: one-pass ECDH with an ephemeral key on the EK's curve;
// seed = KDFe(nameAlg, Z, "IDENTITY", ephemeral.x, EK.x, digest bits), and
// the encrypted secret is the ephemeral point (TPMS_ECC_POINT).
StatusOr<Seed> EccSeed(const CredentialEk& ek) {
  auto key = crypto::PublicKey::FromEcPoint(ek.curve, ek.ecc_x, ek.ecc_y);
  if (!key.ok()) return key.status().WithContext("MakeCredential: EK");
  EW_ASSIGN_OR_RETURN(crypto::EcdhResult ecdh, key->EcdhEphemeral());
  const size_t bits = 8 * crypto::DigestSize(ek.name_alg);
  // The TPM recomputes this from the point as marshalled below and from its
  // own public area, so party U/V are exactly those bytes.
  EW_ASSIGN_OR_RETURN(SecureBytes seed,
                      crypto::KdfE(ek.name_alg, ecdh.z, kIdentityLabel, ecdh.ephemeral.x, ek.ecc_x, bits));
  Bytes point;
  PutU16(point, ecdh.ephemeral.x.size());
  point.insert(point.end(), ecdh.ephemeral.x.begin(), ecdh.ephemeral.x.end());
  PutU16(point, ecdh.ephemeral.y.size());
  point.insert(point.end(), ecdh.ephemeral.y.begin(), ecdh.ephemeral.y.end());
  return Seed{std::move(seed), std::move(point)};
}

Status CheckEk(const CredentialEk& ek) {
  if (ek.name_alg == HashAlg::kSm3_256 || crypto::DigestSize(ek.name_alg) == 0) {
    return InvalidArgument("MakeCredential: EK nameAlg " + std::string(crypto::HashAlgName(ek.name_alg)) +
                           " is not supported");
  }
  if (ek.aes_key_bits != 128 && ek.aes_key_bits != 192 && ek.aes_key_bits != 256) {
    return InvalidArgument("MakeCredential: EK symmetric key size " + std::to_string(ek.aes_key_bits) +
                           " is not an AES key size");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<CredentialEk> EkForCredential(const TpmtPublic& pub) {
  CredentialEk ek;
  if (pub.type == tpm_alg::kRsa) {
    ek.type = CredentialEk::Type::kRsa;
  } else if (pub.type == tpm_alg::kEcc) {
    ek.type = CredentialEk::Type::kEcc;
  } else {
    return InvalidArgument("EK TPMT_PUBLIC.type: " + TpmAlgName(pub.type) + " is neither rsa nor ecc");
  }
  auto name_alg = HashFromTpm(pub.name_alg);
  if (!name_alg || *name_alg == HashAlg::kSm3_256) {
    return InvalidArgument("EK TPMT_PUBLIC.nameAlg: " + TpmAlgName(pub.name_alg) + " is not supported");
  }
  ek.name_alg = *name_alg;
  // Only a restricted decryption (storage) key can activate a credential.
  const uint32_t attrs = pub.object_attributes;
  if (!(attrs & tpma_object::kRestricted) || !(attrs & tpma_object::kDecrypt)) {
    return InvalidArgument("EK TPMT_PUBLIC.objectAttributes: not a restricted decryption key");
  }
  if (pub.symmetric.algorithm != tpm_alg::kAes || pub.symmetric.mode != tpm_alg::kCfb) {
    return InvalidArgument("EK TPMT_PUBLIC.parameters.symmetric: " + TpmAlgName(pub.symmetric.algorithm) + "/" +
                           TpmAlgName(pub.symmetric.mode) + " is not aes/cfb");
  }
  ek.aes_key_bits = pub.symmetric.key_bits;
  if (ek.type == CredentialEk::Type::kRsa) {
    if (pub.rsa_modulus.empty()) return InvalidArgument("EK TPMT_PUBLIC.unique.rsa: empty modulus");
    ek.rsa_modulus = pub.rsa_modulus;
    ek.rsa_exponent = pub.rsa_exponent;
  } else {
    auto curve = crypto::EcCurveFromTpmId(pub.ecc_curve);
    if (!curve) {
      return InvalidArgument("EK TPMT_PUBLIC.parameters.eccDetail.curveID: " + TpmAlgName(pub.ecc_curve) +
                             " is not supported");
    }
    if (pub.ecc_x.empty() || pub.ecc_y.empty()) return InvalidArgument("EK TPMT_PUBLIC.unique.ecc: empty point");
    ek.curve = *curve;
    ek.ecc_x = pub.ecc_x;
    ek.ecc_y = pub.ecc_y;
  }
  EW_RETURN_IF_ERROR(CheckEk(ek));
  return ek;
}

StatusOr<CredentialEk> EkForCredentialFromTpm2bPublic(ByteView tpm2b_public) {
  EW_ASSIGN_OR_RETURN(TpmtPublic pub, DecodeTpm2bPublic(tpm2b_public));
  return EkForCredential(pub);
}

StatusOr<Credential> MakeCredential(const CredentialEk& ek, ByteView object_name, ByteView secret) {
  EW_RETURN_IF_ERROR(CheckEk(ek));
  const size_t digest_size = crypto::DigestSize(ek.name_alg);
  if (secret.empty() || secret.size() > digest_size) {
    return InvalidArgument("MakeCredential: secret of " + std::to_string(secret.size()) + " bytes (1.." +
                           std::to_string(digest_size) + " for " + std::string(crypto::HashAlgName(ek.name_alg)) +
                           ")");
  }
  // A TPM name is nameAlg (2 bytes) || digest; the TPM compares the HMAC over
  // it byte for byte, so any other length can never activate.
  if (object_name.size() < 2 + 20 || object_name.size() > kMaxNameBytes) {
    return InvalidArgument("MakeCredential: object name of " + std::to_string(object_name.size()) +
                           " bytes is not a TPM name");
  }

  StatusOr<Seed> seed = ek.type == CredentialEk::Type::kRsa ? RsaSeed(ek) : EccSeed(ek);
  if (!seed.ok()) return seed.status();

  // §24.4: symKey = KDFa(nameAlg, seed, "STORAGE", name, "", symBits).
  EW_ASSIGN_OR_RETURN(SecureBytes sym_key,
                      crypto::KdfA(ek.name_alg, seed->seed, "STORAGE", object_name, {}, ek.aes_key_bits));
  // encIdentity = CFB(symKey, IV = 0, marshalled TPM2B_DIGEST(secret)).
  SecureBytes plain_identity;
  plain_identity.reserve(2 + secret.size());
  plain_identity.push_back(static_cast<uint8_t>(secret.size() >> 8));
  plain_identity.push_back(static_cast<uint8_t>(secret.size()));
  plain_identity.insert(plain_identity.end(), secret.begin(), secret.end());
  const Bytes zero_iv(16, 0);
  EW_ASSIGN_OR_RETURN(Bytes enc_identity, crypto::AesCfbEncrypt(sym_key, zero_iv, plain_identity));

  // §24.5: HMACkey = KDFa(nameAlg, seed, "INTEGRITY", "", "", digest bits);
  // integrityHMAC = HMAC(HMACkey, encIdentity || name).
  EW_ASSIGN_OR_RETURN(SecureBytes hmac_key,
                      crypto::KdfA(ek.name_alg, seed->seed, "INTEGRITY", {}, {}, 8 * digest_size));
  EW_ASSIGN_OR_RETURN(Bytes integrity, crypto::Hmac(ek.name_alg, hmac_key, {enc_identity, object_name}));

  Credential out;
  PutU16(out.credential_blob, 2 + integrity.size() + enc_identity.size());
  PutU16(out.credential_blob, integrity.size());
  out.credential_blob.insert(out.credential_blob.end(), integrity.begin(), integrity.end());
  out.credential_blob.insert(out.credential_blob.end(), enc_identity.begin(), enc_identity.end());
  PutU16(out.encrypted_secret, seed->encrypted.size());
  out.encrypted_secret.insert(out.encrypted_secret.end(), seed->encrypted.begin(), seed->encrypted.end());
  return out;
}

}  // namespace edgeward::attest
