// MakeCredential against a software ActivateCredential written here from
// TPM 2.0 Part 1 §24 with the EK's private key (the TPM-side interop is in
// credential_interop_test.cc), plus its argument checks.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "edgeward/attest/credential.h"
#include "edgeward/crypto/kdf.h"
#include "edgeward/crypto/openssl_ptr.h"
#include "edgeward/crypto/symmetric.h"

namespace edgeward::attest {
namespace {

using crypto::EvpPkeyPtr;
using crypto::HashAlg;

Bytes Name(HashAlg alg, uint8_t fill) {
  Bytes n = {0x00, static_cast<uint8_t>(alg)};
  n.resize(2 + crypto::DigestSize(alg), fill);
  return n;
}

CredentialEk EkOf(EVP_PKEY* priv, HashAlg name_alg, uint16_t aes_bits) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(priv, &der);
  auto pub = crypto::PublicKey::FromDer(ByteView(der, static_cast<size_t>(len)));
  OPENSSL_free(der);
  CredentialEk ek;
  ek.name_alg = name_alg;
  ek.aes_key_bits = aes_bits;
  if (pub->type() == crypto::KeyType::kRsa) {
    ek.type = CredentialEk::Type::kRsa;
    ek.rsa_modulus = *pub->GetRsaModulus();
  } else {
    ek.type = CredentialEk::Type::kEcc;
    auto p = *pub->GetEcPoint();
    ek.curve = p.curve;
    ek.ecc_x = p.x;
    ek.ecc_y = p.y;
  }
  return ek;
}

// The TPM's side of §24, in software.
StatusOr<Bytes> SoftwareActivate(EVP_PKEY* priv, const CredentialEk& ek, const Bytes& name, const Credential& c) {
  ByteView enc_secret = ByteView(c.encrypted_secret).subspan(2);
  Bytes seed;
  if (ek.type == CredentialEk::Type::kRsa) {
    crypto::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, priv, nullptr));
    EXPECT_EQ(EVP_PKEY_decrypt_init(ctx.get()), 1);
    EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING), 1);
    EXPECT_EQ(EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), ek.name_alg == HashAlg::kSha384 ? EVP_sha384() : EVP_sha256()),
              1);
    EXPECT_EQ(EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), OPENSSL_memdup("IDENTITY", 9), 9), 1);
    seed.resize(512);
    size_t len = seed.size();
    if (EVP_PKEY_decrypt(ctx.get(), seed.data(), &len, enc_secret.data(), enc_secret.size()) != 1) {
      return crypto::OpensslError("EVP_PKEY_decrypt");
    }
    seed.resize(len);
  } else {
    // TPMS_ECC_POINT: x then y, each size-prefixed.
    const size_t xs = (enc_secret[0] << 8) | enc_secret[1];
    Bytes x(enc_secret.begin() + 2, enc_secret.begin() + 2 + xs);
    Bytes y(enc_secret.begin() + 4 + xs, enc_secret.end());
    auto eph = crypto::PublicKey::FromEcPoint(ek.curve, x, y);
    if (!eph.ok()) return eph.status();
    crypto::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, priv, nullptr));
    EXPECT_EQ(EVP_PKEY_derive_init(ctx.get()), 1);
    EXPECT_EQ(EVP_PKEY_derive_set_peer(ctx.get(), eph->get()), 1);
    size_t len = 0;
    EXPECT_EQ(EVP_PKEY_derive(ctx.get(), nullptr, &len), 1);
    Bytes z(len);
    EXPECT_EQ(EVP_PKEY_derive(ctx.get(), z.data(), &len), 1);
    auto s = crypto::KdfE(ek.name_alg, z, "IDENTITY", x, ek.ecc_x, 8 * crypto::DigestSize(ek.name_alg));
    if (!s.ok()) return s.status();
    seed.assign(s->begin(), s->end());
  }
  EW_ASSIGN_OR_RETURN(IdObject id, DecodeIdObject(c.credential_blob));
  EW_ASSIGN_OR_RETURN(auto hmac_key,
                      crypto::KdfA(ek.name_alg, seed, "INTEGRITY", {}, {}, 8 * crypto::DigestSize(ek.name_alg)));
  EW_ASSIGN_OR_RETURN(Bytes expected, crypto::Hmac(ek.name_alg, hmac_key, {id.enc_identity, name}));
  if (!crypto::ConstantTimeEquals(expected, id.integrity_hmac)) return InvalidArgument("integrity check failed");
  EW_ASSIGN_OR_RETURN(auto sym_key, crypto::KdfA(ek.name_alg, seed, "STORAGE", name, {}, ek.aes_key_bits));
  EW_ASSIGN_OR_RETURN(auto plain, crypto::AesCfbDecrypt(sym_key, Bytes(16, 0), id.enc_identity));
  const size_t n = (plain[0] << 8) | plain[1];
  if (n + 2 != plain.size()) return InvalidArgument("bad TPM2B_DIGEST size");
  return Bytes(plain.begin() + 2, plain.end());
}

struct Case {
  const char* alg;
  const char* param;  // group name, or "" for RSA-2048
  HashAlg name_alg;
  uint16_t aes_bits;
};

class MakeCredentialSoftware : public ::testing::TestWithParam<Case> {};

TEST_P(MakeCredentialSoftware, ActivatesWithPrivateKeyAndOnlyForItsName) {
  const Case& c = GetParam();
  EvpPkeyPtr priv(std::string(c.alg) == "RSA" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                                              : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", c.param));
  ASSERT_TRUE(priv);
  CredentialEk ek = EkOf(priv.get(), c.name_alg, c.aes_bits);
  const Bytes name = Name(HashAlg::kSha256, 0x42);
  const Bytes secret(crypto::DigestSize(c.name_alg), 0x5c);
  auto cred = MakeCredential(ek, name, secret);
  ASSERT_TRUE(cred.ok()) << cred.status().ToString();
  auto got = SoftwareActivate(priv.get(), ek, name, *cred);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, secret);
  Bytes other = name;
  other.back() ^= 1;
  EXPECT_FALSE(SoftwareActivate(priv.get(), ek, other, *cred).ok());
  // The file format carries it unchanged.
  auto decoded = DecodeCredentialFile(EncodeCredentialFile(*cred));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->credential_blob, cred->credential_blob);
  EXPECT_EQ(decoded->encrypted_secret, cred->encrypted_secret);
}

TEST_P(MakeCredentialSoftware, EachCredentialUsesAFreshSeed) {
  const Case& c = GetParam();
  EvpPkeyPtr priv(std::string(c.alg) == "RSA" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                                              : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", c.param));
  CredentialEk ek = EkOf(priv.get(), c.name_alg, c.aes_bits);
  auto a = MakeCredential(ek, Name(HashAlg::kSha256, 1), Bytes(16, 1));
  auto b = MakeCredential(ek, Name(HashAlg::kSha256, 1), Bytes(16, 1));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->encrypted_secret, b->encrypted_secret);
  EXPECT_NE(a->credential_blob, b->credential_blob);
}

INSTANTIATE_TEST_SUITE_P(Keys, MakeCredentialSoftware,
                         ::testing::Values(Case{"RSA", "", HashAlg::kSha256, 128},
                                           Case{"RSA", "", HashAlg::kSha384, 256},
                                           Case{"EC", "P-256", HashAlg::kSha256, 128},
                                           Case{"EC", "P-384", HashAlg::kSha384, 256}),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           const Case& c = p.param;
                           return std::string(c.alg) + (c.param[0] ? "_" + std::string(c.param).substr(2) : "") +
                                  "_" + std::string(crypto::HashAlgName(c.name_alg)) + "_aes" +
                                  std::to_string(c.aes_bits);
                         });

TEST(MakeCredential, RejectsBadSecretAndNameSizes) {
  EvpPkeyPtr priv(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  CredentialEk ek = EkOf(priv.get(), HashAlg::kSha256, 128);
  auto too_long = MakeCredential(ek, Name(HashAlg::kSha256, 1), Bytes(33, 1));
  EXPECT_EQ(too_long.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.status().message().find("secret of 33 bytes"), std::string::npos);
  EXPECT_EQ(MakeCredential(ek, Name(HashAlg::kSha256, 1), {}).status().code(), StatusCode::kInvalidArgument);
  auto bad_name = MakeCredential(ek, Bytes(5, 1), Bytes(8, 1));
  EXPECT_EQ(bad_name.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_name.status().message().find("object name"), std::string::npos);
}

TEST(MakeCredential, RejectsUnusableEk) {
  EvpPkeyPtr priv(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  CredentialEk ek = EkOf(priv.get(), HashAlg::kSha256, 128);
  ek.ecc_y.back() ^= 1;  // off the curve
  EXPECT_EQ(MakeCredential(ek, Name(HashAlg::kSha256, 1), Bytes(8, 1)).status().code(),
            StatusCode::kInvalidArgument);
  CredentialEk bad_aes = EkOf(priv.get(), HashAlg::kSha256, 100);
  EXPECT_EQ(MakeCredential(bad_aes, Name(HashAlg::kSha256, 1), Bytes(8, 1)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(EkForCredential, RejectsSigningKeysAndNonCfbSymmetric) {
  TpmtPublic pub;
  pub.type = tpm_alg::kRsa;
  pub.name_alg = tpm_alg::kSha256;
  pub.object_attributes = tpma_object::kRestricted | tpma_object::kSign;
  pub.symmetric = {tpm_alg::kAes, 128, tpm_alg::kCfb};
  pub.rsa_modulus = Bytes(256, 0xff);
  auto sign = EkForCredential(pub);
  EXPECT_EQ(sign.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(sign.status().message().find("objectAttributes"), std::string::npos);
  pub.object_attributes = tpma_object::kRestricted | tpma_object::kDecrypt;
  pub.symmetric.mode = tpm_alg::kCbc;
  auto cbc = EkForCredential(pub);
  EXPECT_EQ(cbc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(cbc.status().message().find("symmetric"), std::string::npos);
  pub.symmetric.mode = tpm_alg::kCfb;
  EXPECT_TRUE(EkForCredential(pub).ok());
}

}  // namespace
}  // namespace edgeward::attest
