// Our credential pieces with edgeward's own TPM layer on a real swtpm:
//  - tpm2_makecredential's file, decoded by DecodeCredentialFile, activates
//    with edgeward::tpm::ActivateCredential;
//  - our MakeCredential, for the EK's public area and the AK's name,
//    activates with it too; made for another name, it does not.
#include <gtest/gtest.h>

#include "edgeward/attest/credential.h"
#include "edgeward/base/file.h"
#include "edgeward/tpm/ak.h"
#include "edgeward/tpm/credential.h"
#include "edgeward/tpm/ek.h"
#include "edgeward/tpm/tpm.h"
#include "swtpm.h"

namespace edgeward::attest {
namespace {

using edgeward::testing::RunCommand;
using edgeward::testing::Swtpm;
using edgeward::testing::TempDir;

class CredentialWithTpmLayer : public ::testing::TestWithParam<tpm::EkPreference> {
 protected:
  void SetUp() override {
    auto swtpm = Swtpm::Start();
    ASSERT_TRUE(swtpm.ok()) << swtpm.status().ToString();
    swtpm_ = std::move(swtpm).value();
    auto t = tpm::Tpm::Open(swtpm_->tcti());
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tpm_ = std::make_unique<tpm::Tpm>(std::move(t).value());
    auto ek = tpm::Ek::Open(*tpm_, {.preference = GetParam()});
    ASSERT_TRUE(ek.ok()) << ek.status().ToString();
    ek_ = std::make_unique<tpm::Ek>(std::move(ek).value());
    auto ak = tpm::CreateAk(*ek_);
    ASSERT_TRUE(ak.ok()) << ak.status().ToString();
    ak_ = std::make_unique<tpm::Ak>(std::move(ak).value());
  }

  // Destroyed in reverse: the EK is flushed while the TPM connection and
  // the simulator are still up.
  std::unique_ptr<Swtpm> swtpm_;
  std::unique_ptr<tpm::Tpm> tpm_;
  std::unique_ptr<tpm::Ek> ek_;
  std::unique_ptr<tpm::Ak> ak_;
  TempDir dir_;
};

TEST_P(CredentialWithTpmLayer, Tpm2MakecredentialFileActivatesWithOurActivateCredential) {
  ASSERT_TRUE(WriteFileAtomic(dir_.File("ek.pub"), ek_->public_area(), 0600).ok());
  const Bytes secret(32, 0xa5);
  ASSERT_TRUE(WriteFileAtomic(dir_.File("secret"), secret, 0600).ok());
  auto r = RunCommand("tpm2_makecredential -T none -u '" + dir_.File("ek.pub") + "' -s '" + dir_.File("secret") +
                      "' -n " + HexEncode(ak_->name()) + " -o '" + dir_.File("cred") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto file = ReadFileToString(dir_.File("cred"), 4096);
  ASSERT_TRUE(file.ok());
  auto cred = DecodeCredentialFile(AsBytes(*file));
  ASSERT_TRUE(cred.ok()) << cred.status().ToString();

  auto loaded = tpm::LoadedAk::Load(*ek_, *ak_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto got = tpm::ActivateCredential(*ek_, *loaded, cred->credential_blob, cred->encrypted_secret);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(HexEncode(*got), HexEncode(secret));
}

TEST_P(CredentialWithTpmLayer, OurMakeCredentialActivatesOnlyForItsAk) {
  auto ek = EkForCredentialFromTpm2bPublic(ek_->public_area());
  ASSERT_TRUE(ek.ok()) << ek.status().ToString();
  const Bytes secret(16, 0x3c);
  auto cred = MakeCredential(*ek, ak_->name(), secret);
  ASSERT_TRUE(cred.ok()) << cred.status().ToString();
  Bytes other_name = ak_->name();
  other_name.back() ^= 1;
  auto wrong = MakeCredential(*ek, other_name, secret);
  ASSERT_TRUE(wrong.ok()) << wrong.status().ToString();

  auto loaded = tpm::LoadedAk::Load(*ek_, *ak_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto got = tpm::ActivateCredential(*ek_, *loaded, cred->credential_blob, cred->encrypted_secret);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(HexEncode(*got), HexEncode(secret));
  auto refused = tpm::ActivateCredential(*ek_, *loaded, wrong->credential_blob, wrong->encrypted_secret);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("does not match"), std::string::npos) << refused.status().message();
}

INSTANTIATE_TEST_SUITE_P(Eks, CredentialWithTpmLayer,
                         ::testing::Values(tpm::EkPreference::kRsa, tpm::EkPreference::kEcc),
                         [](const ::testing::TestParamInfo<tpm::EkPreference>& p) {
                           return p.param == tpm::EkPreference::kRsa ? std::string("Rsa") : std::string("Ecc");
                         });

}  // namespace
}  // namespace edgeward::attest
