// EK certificates, EK choice and the EK public key against its certificate.
#include "edgeward/tpm/ek.h"

#include <gtest/gtest.h>

#include "edgeward/crypto/public_key.h"
#include "edgeward/crypto/x509.h"
#include "edgeward/tpm/info.h"
#include "tpm_test_util.h"

namespace edgeward::tpm::test {
namespace {

using EkTest = SwtpmTest;

void ExpectCertificateKeyEqualsEkKey(const Ek& ek) {
  ASSERT_TRUE(ek.certificate().has_value());
  auto cert = crypto::Certificate::FromDer(ek.certificate()->der);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  auto cert_key = cert->GetPublicKey();
  ASSERT_TRUE(cert_key.ok());
  auto ek_key = crypto::PublicKey::FromPem(ek.public_pem());
  ASSERT_TRUE(ek_key.ok()) << ek_key.status().ToString();
  EXPECT_TRUE(cert_key->Equals(*ek_key));
}

TEST_F(EkTest, SwtpmHasRsaLowRangeAndP384HighRangeCertificates) {
  auto certs = ReadEkCertificates(tpm());
  ASSERT_TRUE(certs.ok()) << certs.status().ToString();
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_EQ((*certs)[0].kind, EkKind::kRsa2048Low);
  EXPECT_EQ((*certs)[0].nv_index, 0x01c00002u);
  EXPECT_EQ((*certs)[1].kind, EkKind::kEccP384High);
  EXPECT_EQ((*certs)[1].nv_index, 0x01c00016u);
  for (const auto& c : *certs) {
    auto cert = crypto::Certificate::FromDer(c.der);
    ASSERT_TRUE(cert.ok()) << cert.status().ToString();
    EXPECT_TRUE(cert->HasExtendedKeyUsage("2.23.133.8.1"));
  }
}

TEST_F(EkTest, AutoChoosesPersistentRsaEkWhoseKeyEqualsItsCertificate) {
  auto ek = Ek::Open(tpm());
  ASSERT_TRUE(ek.ok()) << ek.status().ToString();
  EXPECT_EQ(ek->kind(), EkKind::kRsa2048Low);
  EXPECT_EQ(ek->persistent_handle(), std::optional<uint32_t>(0x81010001));
  ExpectCertificateKeyEqualsEkKey(*ek);
  auto key = crypto::PublicKey::FromPem(ek->public_pem());
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->type(), crypto::KeyType::kRsa);
  EXPECT_EQ(key->bits(), 2048);
  ASSERT_EQ(ek->name().size(), 34u);
  EXPECT_EQ(ek->name()[0], 0x00);
  EXPECT_EQ(ek->name()[1], 0x0B);
  // TPM2B_PUBLIC: size, then type RSA (0x0001), nameAlg SHA-256.
  ASSERT_GT(ek->public_area().size(), 6u);
  EXPECT_EQ((ek->public_area()[0] << 8) | ek->public_area()[1],
            static_cast<int>(ek->public_area().size()) - 2);
  EXPECT_EQ(ek->public_area()[3], 0x01);
}

TEST_F(EkTest, EccPreferenceChoosesPersistentP384HighRangeEk) {
  auto ek = Ek::Open(tpm(), {.preference = EkPreference::kEcc});
  ASSERT_TRUE(ek.ok()) << ek.status().ToString();
  EXPECT_EQ(ek->kind(), EkKind::kEccP384High);
  EXPECT_EQ(ek->persistent_handle(), std::optional<uint32_t>(0x81010016));
  ExpectCertificateKeyEqualsEkKey(*ek);
  EXPECT_EQ(ek->name()[1], 0x0C);  // SHA-384 name
}

TEST_F(EkTest, EkCreatedFromTemplateEqualsPersistentEk) {
  auto persistent = Ek::Open(tpm());
  ASSERT_TRUE(persistent.ok()) << persistent.status().ToString();
  auto created = Ek::Open(tpm(), {.use_persistent = false});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_FALSE(created->persistent_handle().has_value());
  EXPECT_EQ(HexEncode(created->name()), HexEncode(persistent->name()));
  EXPECT_EQ(created->public_area(), persistent->public_area());
  auto counts = CountHandles(tpm());
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->transient_objects, 1u);
}

TEST_F(EkTest, CreatedP384EkMatchesItsCertificate) {
  auto ek = Ek::Open(tpm(), {.preference = EkPreference::kEcc, .use_persistent = false});
  ASSERT_TRUE(ek.ok()) << ek.status().ToString();
  EXPECT_EQ(ek->kind(), EkKind::kEccP384High);
  ExpectCertificateKeyEqualsEkKey(*ek);
}

TEST_F(EkTest, TransientEkIsFlushedWhenDropped) {
  {
    auto ek = Ek::Open(tpm(), {.use_persistent = false});
    ASSERT_TRUE(ek.ok()) << ek.status().ToString();
    Ek moved = std::move(*ek);  // moving must not flush or double-flush
    auto during = CountHandles(tpm());
    ASSERT_TRUE(during.ok());
    EXPECT_EQ(during->transient_objects, 1u);
  }
  auto after = CountHandles(tpm());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->transient_objects, 0u);
  EXPECT_EQ(after->loaded_sessions, 0u);
}

}  // namespace
}  // namespace edgeward::tpm::test
