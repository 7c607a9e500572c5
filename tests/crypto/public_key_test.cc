// PublicKey: parsing, TPM-parameter constructors, signature checks for
// every scheme (signatures made independently with OpenSSL private keys),
// RSA-OAEP and ECDH against the private-key side.
#include "edgeward/crypto/public_key.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "edgeward/crypto/openssl_ptr.h"

namespace edgeward::crypto {
namespace {

EvpPkeyPtr GenRsa(unsigned bits = 2048) {
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
}
EvpPkeyPtr GenEc(const char* group) { return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group)); }

PublicKey PublicOf(EVP_PKEY* priv) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(priv, &der);
  EXPECT_GT(len, 0);
  auto key = PublicKey::FromDer(ByteView(der, static_cast<size_t>(len)));
  OPENSSL_free(der);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return std::move(key).value();
}

Bytes Sign(EVP_PKEY* priv, const EVP_MD* md, ByteView msg, int padding = 0) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, priv), 1);
  if (padding != 0) {
    EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(pctx, padding), 1);
    if (padding == RSA_PKCS1_PSS_PADDING) {
      EXPECT_EQ(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), 1);
    }
  }
  size_t len = 0;
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, msg.data(), msg.size()), 1);
  Bytes sig(len);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), sig.data(), &len, msg.data(), msg.size()), 1);
  sig.resize(len);
  return sig;
}

const Bytes kMessage = {'t', 'p', 'm', 's', '_', 'a', 't', 't', 'e', 's', 't'};

TEST(PublicKey, EcdsaSignatureVerifiesAndTamperedDoesNot) {
  for (const char* group : {"P-256", "P-384"}) {
    SCOPED_TRACE(group);
    EvpPkeyPtr priv = GenEc(group);
    PublicKey key = PublicOf(priv.get());
    EXPECT_EQ(key.type(), KeyType::kEc);
    Bytes sig = Sign(priv.get(), EVP_sha256(), kMessage);
    EXPECT_EQ(*key.VerifySignature(SignatureScheme::kEcdsa, HashAlg::kSha256, kMessage, sig), SignatureCheck::kValid);
    Bytes other = kMessage;
    other[0] ^= 1;
    EXPECT_EQ(*key.VerifySignature(SignatureScheme::kEcdsa, HashAlg::kSha256, other, sig), SignatureCheck::kInvalid);
    sig[sig.size() - 1] ^= 1;
    EXPECT_EQ(*key.VerifySignature(SignatureScheme::kEcdsa, HashAlg::kSha256, kMessage, sig),
              SignatureCheck::kInvalid);
  }
}

TEST(PublicKey, GarbageSignatureBytesAreInvalidNotAnError) {
  EvpPkeyPtr priv = GenEc("P-256");
  PublicKey key = PublicOf(priv.get());
  for (const Bytes& sig : {Bytes{}, Bytes{0x30}, Bytes(200, 0xff)}) {
    auto r = key.VerifySignature(SignatureScheme::kEcdsa, HashAlg::kSha256, kMessage, sig);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, SignatureCheck::kInvalid);
  }
}

TEST(PublicKey, RsaPkcs1AndPssVerify) {
  EvpPkeyPtr priv = GenRsa();
  PublicKey key = PublicOf(priv.get());
  EXPECT_EQ(key.bits(), 2048);
  EXPECT_EQ(key.Description(), "RSA-2048");
  Bytes pkcs1 = Sign(priv.get(), EVP_sha256(), kMessage, RSA_PKCS1_PADDING);
  Bytes pss = Sign(priv.get(), EVP_sha384(), kMessage, RSA_PKCS1_PSS_PADDING);
  EXPECT_EQ(*key.VerifySignature(SignatureScheme::kRsaPkcs1v15, HashAlg::kSha256, kMessage, pkcs1),
            SignatureCheck::kValid);
  EXPECT_EQ(*key.VerifySignature(SignatureScheme::kRsaPss, HashAlg::kSha384, kMessage, pss), SignatureCheck::kValid);
  // Scheme confusion is a failed verification, not an accident of padding.
  EXPECT_EQ(*key.VerifySignature(SignatureScheme::kRsaPss, HashAlg::kSha256, kMessage, pkcs1),
            SignatureCheck::kInvalid);
  EXPECT_EQ(*key.VerifySignature(SignatureScheme::kRsaPkcs1v15, HashAlg::kSha384, kMessage, pss),
            SignatureCheck::kInvalid);
  // Over a precomputed digest.
  Bytes digest = Digest(HashAlg::kSha256, kMessage);
  EXPECT_EQ(*key.VerifyDigest(SignatureScheme::kRsaPkcs1v15, HashAlg::kSha256, digest, pkcs1), SignatureCheck::kValid);
}

TEST(PublicKey, SchemeThatDoesNotFitKeyIsInvalidArgument) {
  EvpPkeyPtr priv = GenRsa();
  PublicKey key = PublicOf(priv.get());
  auto r = key.VerifySignature(SignatureScheme::kEcdsa, HashAlg::kSha256, kMessage, Bytes(256));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  auto d = key.VerifyDigest(SignatureScheme::kRsaPkcs1v15, HashAlg::kSha256, Bytes(20), Bytes(256));
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
}

TEST(PublicKey, EcPointRoundTripsAndEquals) {
  EvpPkeyPtr priv = GenEc("P-384");
  PublicKey key = PublicOf(priv.get());
  auto point = key.GetEcPoint();
  ASSERT_TRUE(point.ok()) << point.status().ToString();
  EXPECT_EQ(point->curve, EcCurve::kNistP384);
  EXPECT_EQ(point->x.size(), 48u);
  auto rebuilt = PublicKey::FromEcPoint(EcCurve::kNistP384, point->x, point->y);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_TRUE(rebuilt->Equals(key));
  EvpPkeyPtr other = GenEc("P-384");
  EXPECT_FALSE(PublicOf(other.get()).Equals(key));
}

TEST(PublicKey, PointNotOnCurveIsRejected) {
  EvpPkeyPtr priv = GenEc("P-256");
  auto point = PublicOf(priv.get()).GetEcPoint();
  ASSERT_TRUE(point.ok());
  point->y[31] ^= 1;
  auto bad = PublicKey::FromEcPoint(EcCurve::kNistP256, point->x, point->y);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  auto too_long = PublicKey::FromEcPoint(EcCurve::kNistP256, Bytes(33, 1), point->y);
  EXPECT_EQ(too_long.status().code(), StatusCode::kInvalidArgument);
}

TEST(PublicKey, RsaModulusRoundTrips) {
  EvpPkeyPtr priv = GenRsa();
  PublicKey key = PublicOf(priv.get());
  auto n = key.GetRsaModulus();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->size(), 256u);
  EXPECT_EQ(*key.GetRsaExponent(), 65537u);
  auto rebuilt = PublicKey::FromRsaModulus(*n, 0);  // 0 = default exponent
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_TRUE(rebuilt->Equals(key));
  EXPECT_FALSE(key.GetEcPoint().ok());
  Bytes even = *n;
  even.back() &= 0xfe;
  EXPECT_EQ(PublicKey::FromRsaModulus(even, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST(PublicKey, PemAndDerRoundTrip) {
  EvpPkeyPtr priv = GenEc("P-256");
  PublicKey key = PublicOf(priv.get());
  auto pem = key.ToPem();
  ASSERT_TRUE(pem.ok());
  EXPECT_NE(pem->find("BEGIN PUBLIC KEY"), std::string::npos);
  auto again = PublicKey::FromPem(*pem);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->Equals(key));
  auto der = key.ToDer();
  ASSERT_TRUE(der.ok());
  EXPECT_TRUE(PublicKey::FromDer(*der)->Equals(key));
}

TEST(PublicKey, GarbageAndTrailingBytesAreInvalidArgument) {
  auto pem = PublicKey::FromPem("-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n");
  EXPECT_EQ(pem.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(pem.status().message().find("public key (PEM)"), std::string::npos);
  EXPECT_EQ(PublicKey::FromDer(Bytes{0x30, 0x03, 0x02, 0x01, 0x00}).status().code(), StatusCode::kInvalidArgument);
  EvpPkeyPtr priv = GenEc("P-256");
  Bytes der = *PublicOf(priv.get()).ToDer();
  der.push_back(0);
  auto trailing = PublicKey::FromDer(der);
  EXPECT_EQ(trailing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(trailing.status().message().find("trailing"), std::string::npos);
}

TEST(PublicKey, OaepEncryptionDecryptsWithPrivateKeyAndLabel) {
  EvpPkeyPtr priv = GenRsa();
  PublicKey key = PublicOf(priv.get());
  const Bytes secret(32, 0x5a);
  static const char kLabel[] = "IDENTITY";  // sizeof includes the NUL
  auto ct = key.EncryptOaep(HashAlg::kSha256, ByteView(reinterpret_cast<const uint8_t*>(kLabel), sizeof kLabel),
                            secret);
  ASSERT_TRUE(ct.ok()) << ct.status().ToString();
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, priv.get(), nullptr));
  ASSERT_EQ(EVP_PKEY_decrypt_init(ctx.get()), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()), 1);
  void* label = OPENSSL_memdup(kLabel, sizeof kLabel);
  ASSERT_EQ(EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), label, sizeof kLabel), 1);
  Bytes pt(256);
  size_t len = pt.size();
  ASSERT_EQ(EVP_PKEY_decrypt(ctx.get(), pt.data(), &len, ct->data(), ct->size()), 1);
  pt.resize(len);
  EXPECT_EQ(pt, secret);
  EXPECT_EQ(key.EncryptOaep(HashAlg::kSha256, {}, Bytes(200)).status().code(), StatusCode::kInvalidArgument);
}

TEST(PublicKey, EcdhEphemeralAgreesWithPrivateKeySide) {
  for (const char* group : {"P-256", "P-384"}) {
    SCOPED_TRACE(group);
    EvpPkeyPtr priv = GenEc(group);
    PublicKey key = PublicOf(priv.get());
    auto ecdh = key.EcdhEphemeral();
    ASSERT_TRUE(ecdh.ok()) << ecdh.status().ToString();
    auto eph = PublicKey::FromEcPoint(key.curve(), ecdh->ephemeral.x, ecdh->ephemeral.y);
    ASSERT_TRUE(eph.ok());
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, priv.get(), nullptr));
    ASSERT_EQ(EVP_PKEY_derive_init(ctx.get()), 1);
    ASSERT_EQ(EVP_PKEY_derive_set_peer(ctx.get(), eph->get()), 1);
    size_t len = 0;
    ASSERT_EQ(EVP_PKEY_derive(ctx.get(), nullptr, &len), 1);
    Bytes z(len);
    ASSERT_EQ(EVP_PKEY_derive(ctx.get(), z.data(), &len), 1);
    EXPECT_EQ(HexEncode(z), HexEncode(ecdh->z));
  }
}

TEST(EcdsaRawToDer, ProducesVerifiableSignature) {
  EvpPkeyPtr priv = GenEc("P-256");
  PublicKey key = PublicOf(priv.get());
  Bytes der = Sign(priv.get(), EVP_sha256(), kMessage);
  const unsigned char* p = der.data();
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  ASSERT_TRUE(sig);
  Bytes r(32), s(32);
  BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), r.data(), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), s.data(), 32);
  auto rebuilt = EcdsaRawToDer(r, s);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(*key.VerifySignature(SignatureScheme::kEcdsa, HashAlg::kSha256, kMessage, *rebuilt),
            SignatureCheck::kValid);
  EXPECT_EQ(EcdsaRawToDer({}, s).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgeward::crypto
