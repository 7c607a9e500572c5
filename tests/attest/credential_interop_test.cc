// Interop with a real TPM (swtpm) and tpm2-tools:
//  - a credential made by our MakeCredential activates with
//    tpm2_activatecredential, for RSA-2048, ECC P-256 and ECC P-384 EKs;
//  - a credential made for another name does not;
//  - tpm2_makecredential's file decodes with our reader and re-encodes
//    byte for byte.
#include <gtest/gtest.h>

#include <string>

#include "edgeward/attest/credential.h"
#include "edgeward/base/file.h"
#include "edgeward/crypto/random.h"
#include "swtpm.h"

namespace edgeward::attest {
namespace {

using edgeward::testing::CommandResult;
using edgeward::testing::RunCommand;
using edgeward::testing::Swtpm;
using edgeward::testing::TempDir;

struct EkParam {
  const char* label;
  // tpm2_createek -G value, or empty to use the persistent EK below.
  const char* createek_alg;
  const char* persistent_handle;  // swtpm_setup's ECC P-384 EK
  // The TCG default templates allow only PolicySecret(endorsement);
  // swtpm_setup's P-384 EK also has userWithAuth (empty password).
  bool policy_session;
};

class CredentialInterop : public ::testing::TestWithParam<EkParam> {
 protected:
  void SetUp() override {
    auto tpm = Swtpm::Start();
    ASSERT_TRUE(tpm.ok()) << tpm.status().ToString();
    tpm_ = std::move(tpm).value();
    const EkParam& p = GetParam();
    if (p.createek_alg[0] != '\0') {
      ek_ref_ = dir_.File("ek.ctx");
      Tpm("tpm2_createek -c " + ek_ref_ + " -G " + p.createek_alg + " -u " + dir_.File("ek.pub"));
    } else {
      ek_ref_ = p.persistent_handle;
      Tpm("tpm2_readpublic -c " + ek_ref_ + " -o " + dir_.File("ek.pub"));
    }
    Tpm("tpm2_createak -C " + ek_ref_ + " -c " + dir_.File("ak.ctx") + " -G ecc -g sha256 -s ecdsa -u " +
        dir_.File("ak.pub") + " -n " + dir_.File("ak.name"));
  }

  // Runs a tpm2-tools command against our swtpm, then flushes what it left
  // loaded: swtpm has no resource manager.
  CommandResult Tpm(const std::string& cmd, bool must_succeed = true) {
    const std::string t = " -T '" + tpm_->tcti() + "'";
    CommandResult r = RunCommand(cmd + t);
    if (must_succeed) {
      EXPECT_EQ(r.exit_code, 0) << cmd << "\n" << r.output;
    }
    RunCommand("tpm2_flushcontext -t" + t);
    RunCommand("tpm2_flushcontext -s" + t);
    return r;
  }

  Bytes ReadBytes(const std::string& path) {
    auto s = ReadFileToString(path, 1 << 16);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? Bytes(s->begin(), s->end()) : Bytes{};
  }

  // tpm2_activatecredential with the EK's PolicySecret(endorsement) session,
  // as the EK templates require. Returns the recovered secret's file content
  // or the failure.
  CommandResult Activate(const std::string& cred_file, const std::string& out_file) {
    const std::string session = dir_.File("session.ctx");
    const std::string t = " -T '" + tpm_->tcti() + "'";
    // One shell: the policy session must stay loaded from its start until
    // activatecredential has used it.
    const std::string activate = "tpm2_activatecredential -c " + dir_.File("ak.ctx") + " -C " + ek_ref_ + " -i " +
                                 cred_file + " -o " + out_file + t;
    CommandResult r =
        GetParam().policy_session
            ? RunCommand("tpm2_startauthsession --policy-session -S " + session + t + " && tpm2_policysecret -S " +
                         session + " -c e" + t + " >/dev/null && " + activate + " -P session:" + session)
            : RunCommand(activate);
    RunCommand("tpm2_flushcontext -t" + t);
    RunCommand("tpm2_flushcontext -s" + t);
    return r;
  }

  TempDir dir_;
  std::unique_ptr<Swtpm> tpm_;
  std::string ek_ref_;
};

TEST_P(CredentialInterop, OurCredentialActivatesWithTpm2Tools) {
  auto ek = EkForCredentialFromTpm2bPublic(ReadBytes(dir_.File("ek.pub")));
  ASSERT_TRUE(ek.ok()) << ek.status().ToString();
  const Bytes ak_name = ReadBytes(dir_.File("ak.name"));
  auto secret = crypto::RandomBytes(32);
  ASSERT_TRUE(secret.ok());
  auto cred = MakeCredential(*ek, ak_name, *secret);
  ASSERT_TRUE(cred.ok()) << cred.status().ToString();
  ASSERT_TRUE(WriteFileAtomic(dir_.File("cred.bin"), EncodeCredentialFile(*cred), 0600).ok());

  CommandResult r = Activate(dir_.File("cred.bin"), dir_.File("secret.out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(HexEncode(ReadBytes(dir_.File("secret.out"))), HexEncode(*secret));
}

TEST_P(CredentialInterop, CredentialForAnotherNameDoesNotActivate) {
  auto ek = EkForCredentialFromTpm2bPublic(ReadBytes(dir_.File("ek.pub")));
  ASSERT_TRUE(ek.ok()) << ek.status().ToString();
  Bytes wrong_name = ReadBytes(dir_.File("ak.name"));
  ASSERT_FALSE(wrong_name.empty());
  wrong_name.back() ^= 0x01;
  auto cred = MakeCredential(*ek, wrong_name, Bytes(32, 0x11));
  ASSERT_TRUE(cred.ok()) << cred.status().ToString();
  ASSERT_TRUE(WriteFileAtomic(dir_.File("cred.bin"), EncodeCredentialFile(*cred), 0600).ok());

  CommandResult r = Activate(dir_.File("cred.bin"), dir_.File("secret.out"));
  EXPECT_NE(r.exit_code, 0) << r.output;
  // TPM_RC_INTEGRITY on the credential blob (parameter 2).
  EXPECT_NE(r.output.find("integrity"), std::string::npos) << r.output;
}

TEST_P(CredentialInterop, Tpm2MakecredentialFileDecodesAndRoundTrips) {
  const Bytes ak_name = ReadBytes(dir_.File("ak.name"));
  ASSERT_TRUE(WriteFileAtomic(dir_.File("secret"), Bytes(20, 0x7e), 0600).ok());
  CommandResult mk = RunCommand("tpm2_makecredential -T none -e " + dir_.File("ek.pub") + " -s " +
                                dir_.File("secret") + " -n " + HexEncode(ak_name) + " -o " + dir_.File("cred.out"));
  ASSERT_EQ(mk.exit_code, 0) << mk.output;
  const Bytes file = ReadBytes(dir_.File("cred.out"));
  auto cred = DecodeCredentialFile(file);
  ASSERT_TRUE(cred.ok()) << cred.status().ToString();
  EXPECT_EQ(EncodeCredentialFile(*cred), file);

  auto ek = EkForCredentialFromTpm2bPublic(ReadBytes(dir_.File("ek.pub")));
  ASSERT_TRUE(ek.ok());
  auto id = DecodeIdObject(cred->credential_blob);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->integrity_hmac.size(), crypto::DigestSize(ek->name_alg));
  EXPECT_EQ(id->enc_identity.size(), 2u + 20u);
  // Same shapes as ours: OAEP ciphertext of the modulus size, or a point.
  auto ours = MakeCredential(*ek, ak_name, Bytes(20, 0x7e));
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(ours->credential_blob.size(), cred->credential_blob.size());
  EXPECT_EQ(ours->encrypted_secret.size(), cred->encrypted_secret.size());

  // And the TPM takes tpm2-tools' credential back.
  CommandResult r = Activate(dir_.File("cred.out"), dir_.File("secret.out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadBytes(dir_.File("secret.out")), Bytes(20, 0x7e));
}

INSTANTIATE_TEST_SUITE_P(Eks, CredentialInterop,
                         ::testing::Values(EkParam{"Rsa2048", "rsa", "", true},
                                           EkParam{"EccP256", "ecc", "", true},
                                           EkParam{"EccP384Persistent", "", "0x81010016", false}),
                         [](const ::testing::TestParamInfo<EkParam>& p) { return std::string(p.param.label); });

}  // namespace
}  // namespace edgeward::attest
