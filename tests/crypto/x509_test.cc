// Certificate parsing and chain verification, including the TPM EK
// certificate allowances, on certificates built for each case.
#include "edgeward/crypto/x509.h"

#include <gtest/gtest.h>

#include <chrono>

#include "edgeward/base/file.h"
#include "swtpm.h"
#include "test_certs.h"

namespace edgeward::crypto {
namespace {

using crypto::testing::CertSpec;
using crypto::testing::Issue;
using crypto::testing::Issued;
using crypto::testing::RawExtension;

// SEQUENCE OF Attribute { tpmSpecification (2.23.133.2.16):
//   TPMSpecification { "2.0", level 0, revision 138 } }, as in EK certs.
const Bytes kSubjectDirectoryAttributes = HexDecode(
    "3019301706056781050210310e300c0c03322e3002010002020" "08a").value();
constexpr const char* kSdaOid = "2.5.29.9";
constexpr const char* kEkEku = "2.23.133.8.1";

auto Now() { return std::chrono::system_clock::now(); }

struct Pki {
  Issued root = Issue({.subject_cn = "Test EK Root", .not_after_offset_s = 10 * 86400, .is_ca = true}, nullptr);
  Issued intermediate =
      Issue({.subject_cn = "Test EK Intermediate", .not_after_offset_s = 5 * 86400, .is_ca = true}, &root);
};

std::vector<Certificate> One(const Issued& i) {
  std::vector<Certificate> v;
  v.push_back(Certificate::FromDer(*i.cert.ToDer()).value());
  return v;
}

CertSpec EkSpec() {
  return CertSpec{.subject_cn = "",
                  .san_dirname = "id:00001014",
                  .ekus = {kEkEku},
                  .extra = {RawExtension{kSdaOid, /*critical=*/true, kSubjectDirectoryAttributes}}};
}

TEST(Certificate, ParsesFieldsFromDerAndPem) {
  Pki pki;
  Issued leaf = Issue({.subject_cn = "node-1"}, &pki.intermediate);
  Bytes der = *leaf.cert.ToDer();
  auto from_der = Certificate::Parse(der);
  ASSERT_TRUE(from_der.ok()) << from_der.status().ToString();
  EXPECT_EQ(from_der->Subject(), "CN=node-1");
  EXPECT_EQ(from_der->Issuer(), "CN=Test EK Intermediate");
  EXPECT_FALSE(from_der->SerialHex().empty());
  EXPECT_EQ(from_der->NotBefore().size(), 20u);  // 2026-01-01T00:00:00Z
  EXPECT_EQ(from_der->NotBefore().back(), 'Z');
  auto pem = from_der->ToPem();
  ASSERT_TRUE(pem.ok());
  auto from_pem = Certificate::Parse(AsBytes("\n" + *pem));
  ASSERT_TRUE(from_pem.ok()) << from_pem.status().ToString();
  EXPECT_EQ(*from_pem->ToDer(), der);
  auto key = from_pem->GetPublicKey();
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->Description(), "EC P-256");
}

TEST(Certificate, EmptySubjectIsEmptyString) {
  Pki pki;
  Issued ek = Issue(EkSpec(), &pki.intermediate);
  EXPECT_EQ(ek.cert.Subject(), "");
  EXPECT_TRUE(ek.cert.HasExtendedKeyUsage(kEkEku));
}

TEST(Certificate, GarbageIsInvalidArgumentNamingTheFormat) {
  auto der = Certificate::FromDer(AsBytes("definitely not a certificate"));
  EXPECT_EQ(der.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(der.status().message().find("X.509 certificate (DER)"), std::string::npos) << der.status().message();
  auto pem = Certificate::Parse(AsBytes("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
  EXPECT_EQ(pem.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(pem.status().message().find("X.509 certificate (PEM)"), std::string::npos) << pem.status().message();
  EXPECT_EQ(Certificate::FromDer({}).status().code(), StatusCode::kInvalidArgument);
}

TEST(Certificate, TruncatedOversizedAndTrailingBytesAreRejected) {
  Pki pki;
  Bytes der = *pki.root.cert.ToDer();
  auto truncated = Certificate::FromDer(ByteView(der).first(der.size() - 10));
  EXPECT_EQ(truncated.status().code(), StatusCode::kInvalidArgument);
  Bytes trailing = der;
  trailing.push_back(0);
  auto t = Certificate::FromDer(trailing);
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("trailing"), std::string::npos);
  auto big = Certificate::FromDer(Bytes(kMaxCertificateBytes + 1, 0x30));
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(big.status().message().find("limit"), std::string::npos);
}

TEST(CertificateBundle, LoadsAllBlocksAndNamesTheBadOne) {
  Pki pki;
  std::string bundle = "comment\n" + *pki.root.cert.ToPem() + *pki.intermediate.cert.ToPem();
  auto certs = ParseCertificateBundle(bundle);
  ASSERT_TRUE(certs.ok()) << certs.status().ToString();
  EXPECT_EQ(certs->size(), 2u);
  auto bad = ParseCertificateBundle(bundle + "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("certificate #2"), std::string::npos) << bad.status().message();
  EXPECT_EQ(ParseCertificateBundle("nothing here").status().code(), StatusCode::kInvalidArgument);
  edgeward::testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.File("ca.pem"), AsBytes(bundle), 0600).ok());
  EXPECT_EQ(LoadCertificateBundle(dir.File("ca.pem"))->size(), 2u);
  auto missing = LoadCertificateBundle(dir.File("absent.pem"));
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("absent.pem"), std::string::npos);
}

TEST(VerifyCertificateChain, AcceptsLeafThroughIntermediate) {
  Pki pki;
  Issued leaf = Issue({.subject_cn = "node"}, &pki.intermediate);
  Status s = VerifyCertificateChain(leaf.cert, One(pki.intermediate), One(pki.root), Now());
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(VerifyCertificateChain, MissingIntermediateFailsNamingIssuer) {
  Pki pki;
  Issued leaf = Issue({.subject_cn = "node"}, &pki.intermediate);
  Status s = VerifyCertificateChain(leaf.cert, {}, One(pki.root), Now());
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("unable to get local issuer certificate"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("depth 0"), std::string::npos) << s.message();
}

TEST(VerifyCertificateChain, CertificateFromAnotherCaFails) {
  Pki pki;
  Pki other;
  Issued leaf = Issue({.subject_cn = "stranger"}, &other.intermediate);
  Status s = VerifyCertificateChain(leaf.cert, One(other.intermediate), One(pki.root), Now());
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("unable to get local issuer certificate"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("Test EK Intermediate"), std::string::npos) << s.message();
}

// Flips the last byte of the signature value (the end of the DER).
Certificate Tampered(const Certificate& c) {
  Bytes der = *c.ToDer();
  der.back() ^= 0x01;
  return Certificate::FromDer(der).value();
}

TEST(VerifyCertificateChain, TamperedSignatureFails) {
  Pki pki;
  Issued leaf = Issue({.subject_cn = "node"}, &pki.intermediate);
  Status s = VerifyCertificateChain(Tampered(leaf.cert), One(pki.intermediate), One(pki.root), Now());
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("signature"), std::string::npos) << s.message();
}

TEST(VerifyCertificateChain, ExpiredAndNotYetValidFail) {
  Pki pki;
  Issued expired = Issue({.subject_cn = "old", .not_before_offset_s = -7200, .not_after_offset_s = -3600},
                         &pki.intermediate);
  Status s = VerifyCertificateChain(expired.cert, One(pki.intermediate), One(pki.root), Now());
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("certificate has expired"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("CN=old"), std::string::npos) << s.message();
  // The verification time is the caller's: the same chain checked in the
  // future fails because the intermediate has expired by then.
  Issued leaf = Issue({.subject_cn = "node"}, &pki.intermediate);
  Status later = VerifyCertificateChain(leaf.cert, One(pki.intermediate), One(pki.root),
                                        Now() + std::chrono::hours(24 * 7));
  EXPECT_NE(later.message().find("expired"), std::string::npos) << later.message();
  Status earlier = VerifyCertificateChain(leaf.cert, One(pki.intermediate), One(pki.root),
                                          Now() - std::chrono::hours(24));
  EXPECT_NE(earlier.message().find("not yet valid"), std::string::npos) << earlier.message();
}

TEST(VerifyCertificateChain, EkProfileCriticalExtensionsNeedTheEkOption) {
  Pki pki;
  Issued ek = Issue(EkSpec(), &pki.intermediate);
  Status plain = VerifyCertificateChain(ek.cert, One(pki.intermediate), One(pki.root), Now());
  EXPECT_EQ(plain.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(plain.message().find("unhandled critical extension"), std::string::npos) << plain.message();
  Status as_ek = VerifyCertificateChain(ek.cert, One(pki.intermediate), One(pki.root), Now(),
                                        {.tpm_endorsement_key = true});
  EXPECT_TRUE(as_ek.ok()) << as_ek.ToString();
}

TEST(VerifyCertificateChain, EkOptionStillRejectsUnknownCriticalExtension) {
  Pki pki;
  CertSpec spec = EkSpec();
  spec.extra.push_back(RawExtension{"1.3.6.1.4.1.99999.1", true, Bytes{0x05, 0x00}});
  Issued ek = Issue(spec, &pki.intermediate);
  Status s = VerifyCertificateChain(ek.cert, One(pki.intermediate), One(pki.root), Now(),
                                    {.tpm_endorsement_key = true});
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("unhandled critical extension"), std::string::npos) << s.message();
}

TEST(VerifyCertificateChain, EkOptionStillChecksSignatureAndValidity) {
  Pki pki;
  Issued ek = Issue(EkSpec(), &pki.intermediate);
  Status s = VerifyCertificateChain(Tampered(ek.cert), One(pki.intermediate), One(pki.root), Now(),
                                    {.tpm_endorsement_key = true});
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("signature"), std::string::npos) << s.message();
  CertSpec old = EkSpec();
  old.not_before_offset_s = -7200;
  old.not_after_offset_s = -3600;
  Issued expired = Issue(old, &pki.intermediate);
  Status e = VerifyCertificateChain(expired.cert, One(pki.intermediate), One(pki.root), Now(),
                                    {.tpm_endorsement_key = true});
  EXPECT_NE(e.message().find("expired"), std::string::npos) << e.message();
}

TEST(VerifyCertificateChain, EkOptionRejectsForeignExtendedKeyUsage) {
  Pki pki;
  CertSpec spec = EkSpec();
  spec.ekus = {"serverAuth"};
  Issued ek = Issue(spec, &pki.intermediate);
  Status s = VerifyCertificateChain(ek.cert, One(pki.intermediate), One(pki.root), Now(),
                                    {.tpm_endorsement_key = true});
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("2.23.133.8.1"), std::string::npos) << s.message();
}

TEST(VerifyCertificateChain, EmptyTrustStoreIsInvalidArgument) {
  Pki pki;
  EXPECT_EQ(VerifyCertificateChain(pki.root.cert, {}, {}, Now()).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgeward::crypto

namespace edgeward::crypto {
namespace {

TEST(VerifyCertificateChain, BorrowedIntermediatesSurviveRepeatedUse) {
  // Regression: the verifier's untrusted stack freed the caller's
  // intermediates, so a second verification with the same vector used freed
  // certificates (found by the cloud verifier's second registration).
  Pki pki;
  std::vector<Certificate> intermediates = One(pki.intermediate);
  std::vector<Certificate> roots = One(pki.root);
  Issued leaf = Issue({.subject_cn = "node"}, &pki.intermediate);
  for (int i = 0; i < 3; ++i) {
    Status s = VerifyCertificateChain(leaf.cert, intermediates, roots, Now());
    EXPECT_TRUE(s.ok()) << i << ": " << s.ToString();
  }
  EXPECT_FALSE(intermediates[0].Subject().empty());
}

}  // namespace
}  // namespace edgeward::crypto
