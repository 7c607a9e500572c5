// swtpm's real EK certificates (read from NV with tpm2_nvread) verify
// against swtpm's local CA with the EK allowances, and not against another CA.
#include <gtest/gtest.h>

#include <chrono>

#include "edgeward/base/file.h"
#include "edgeward/crypto/x509.h"
#include "swtpm.h"

namespace edgeward::crypto {
namespace {

using edgeward::testing::RunCommand;
using edgeward::testing::Swtpm;
using edgeward::testing::SwtpmCaBundlePath;
using edgeward::testing::TempDir;

StatusOr<Certificate> ReadEkCert(const Swtpm& tpm, const TempDir& dir, const std::string& index) {
  const std::string out = dir.File("ek-" + index + ".der");
  auto r = RunCommand("tpm2_nvread -T '" + tpm.tcti() + "' " + index + " -o '" + out + "'");
  if (r.exit_code != 0) return Internal("tpm2_nvread " + index + ": " + r.output);
  EW_ASSIGN_OR_RETURN(std::string der, ReadFileToString(out, kMaxCertificateBytes));
  return Certificate::FromDer(AsBytes(der));
}

class SwtpmEkCert : public ::testing::TestWithParam<const char*> {};

TEST_P(SwtpmEkCert, VerifiesAgainstSwtpmLocalCa) {
  auto tpm = Swtpm::Start();
  ASSERT_TRUE(tpm.ok()) << tpm.status().ToString();
  TempDir dir;
  auto cert = ReadEkCert(**tpm, dir, GetParam());
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_TRUE(cert->HasExtendedKeyUsage("2.23.133.8.1"));
  EXPECT_EQ(cert->Issuer(), "CN=swtpm-localca");
  auto ca_path = SwtpmCaBundlePath();
  ASSERT_TRUE(ca_path.ok()) << ca_path.status().ToString();
  auto bundle = LoadCertificateBundle(*ca_path);
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  Status s = VerifyCertificateChain(*cert, {}, *bundle, std::chrono::system_clock::now(),
                                    {.tpm_endorsement_key = true});
  EXPECT_TRUE(s.ok()) << s.ToString();
  // The key in the certificate is the EK: RSA-2048 or ECC P-384 for swtpm.
  auto key = cert->GetPublicKey();
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->Description(), std::string(GetParam()) == "0x01c00002" ? "RSA-2048" : "EC P-384");
}

TEST_P(SwtpmEkCert, FailsAgainstUnrelatedCa) {
  auto tpm = Swtpm::Start();
  ASSERT_TRUE(tpm.ok()) << tpm.status().ToString();
  TempDir dir;
  auto cert = ReadEkCert(**tpm, dir, GetParam());
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  // An unrelated self-signed CA.
  auto r = RunCommand("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other-ca"
                      " -keyout '" + dir.File("k.pem") + "' -out '" + dir.File("other.pem") + "' -days 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto other = LoadCertificateBundle(dir.File("other.pem"));
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  Status s = VerifyCertificateChain(*cert, {}, *other, std::chrono::system_clock::now(),
                                    {.tpm_endorsement_key = true});
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("unable to get local issuer certificate"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("swtpm-localca"), std::string::npos) << s.message();
}

INSTANTIATE_TEST_SUITE_P(RsaAndEcc, SwtpmEkCert, ::testing::Values("0x01c00002", "0x01c00016"));

}  // namespace
}  // namespace edgeward::crypto
