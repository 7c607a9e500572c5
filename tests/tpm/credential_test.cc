// ActivateCredential with credentials made by tpm2_makecredential -T none.
#include "edgeward/tpm/credential.h"

#include <gtest/gtest.h>

#include "edgeward/tpm/ak.h"
#include "edgeward/tpm/ek.h"
#include "edgeward/tpm/info.h"
#include "tpm_test_util.h"

namespace edgeward::tpm::test {
namespace {

using CredentialTest = SwtpmTest;

struct MadeCredential {
  Bytes id_object;         // marshalled TPM2B_ID_OBJECT
  Bytes encrypted_secret;  // marshalled TPM2B_ENCRYPTED_SECRET
};

// tpm2_makecredential's output: magic 0xBADCC0DE, version 1, TPM2B_ID_OBJECT,
// TPM2B_ENCRYPTED_SECRET.
MadeCredential MakeCredential(const Ek& ek, const Bytes& ak_name, const Bytes& secret) {
  testing::TempDir dir;
  WriteFile(dir.File("ek.pub"), ek.public_area());
  WriteFile(dir.File("secret"), secret);
  auto r = testing::RunCommand("tpm2_makecredential -T none -u '" + dir.File("ek.pub") + "' -s '" +
                               dir.File("secret") + "' -n " + HexEncode(ak_name) + " -o '" +
                               dir.File("cred") + "'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  Bytes out = ReadFile(dir.File("cred"));
  MadeCredential m;
  if (out.size() < 12) {
    ADD_FAILURE() << "short credential file";
    return m;
  }
  EXPECT_EQ(HexEncode(ByteView(out).first(8)), "badcc0de00000001");
  size_t id_len = 2 + ((out[8] << 8) | out[9]);
  m.id_object.assign(out.begin() + 8, out.begin() + 8 + static_cast<ptrdiff_t>(id_len));
  m.encrypted_secret.assign(out.begin() + 8 + static_cast<ptrdiff_t>(id_len), out.end());
  return m;
}

TEST_F(CredentialTest, RsaEkActivatesTpm2MakecredentialCredential) {
  auto ek = Ek::Open(tpm());
  ASSERT_TRUE(ek.ok()) << ek.status().ToString();
  ASSERT_EQ(ek->kind(), EkKind::kRsa2048Low);
  auto ak = CreateAk(*ek);
  ASSERT_TRUE(ak.ok()) << ak.status().ToString();
  auto loaded = LoadedAk::Load(*ek, *ak);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const Bytes secret = {'c', 'h', 'a', 'l', 'l', 'e', 'n', 'g', 'e', '-', 0x00, 0xff, 0x10, 0x20};
  MadeCredential cred = MakeCredential(*ek, ak->name(), secret);
  auto got = ActivateCredential(*ek, *loaded, cred.id_object, cred.encrypted_secret);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(Bytes(got->begin(), got->end()), secret);
  auto counts = CountHandles(tpm());
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->transient_objects, 1u);  // the loaded AK only
  EXPECT_EQ(counts->loaded_sessions, 0u);
}

TEST_F(CredentialTest, HighRangeP384EkActivatesTpm2MakecredentialCredential) {
  auto ek = Ek::Open(tpm(), {.preference = EkPreference::kEcc});
  ASSERT_TRUE(ek.ok()) << ek.status().ToString();
  ASSERT_EQ(ek->kind(), EkKind::kEccP384High);
  auto ak = CreateAk(*ek);
  ASSERT_TRUE(ak.ok()) << ak.status().ToString();
  auto loaded = LoadedAk::Load(*ek, *ak);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const Bytes secret(32, 0x5a);
  MadeCredential cred = MakeCredential(*ek, ak->name(), secret);
  auto got = ActivateCredential(*ek, *loaded, cred.id_object, cred.encrypted_secret);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(Bytes(got->begin(), got->end()), secret);
}

TEST_F(CredentialTest, CredentialForAnotherAkNameIsInvalidArgument) {
  auto ek = Ek::Open(tpm());
  ASSERT_TRUE(ek.ok());
  auto ak = CreateAk(*ek);
  auto other = CreateAk(*ek);
  ASSERT_TRUE(ak.ok() && other.ok());
  ASSERT_NE(ak->name(), other->name());
  auto loaded = LoadedAk::Load(*ek, *ak);
  ASSERT_TRUE(loaded.ok());
  MadeCredential cred = MakeCredential(*ek, other->name(), Bytes(16, 1));
  auto got = ActivateCredential(*ek, *loaded, cred.id_object, cred.encrypted_secret);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << got.status().ToString();
  EXPECT_NE(got.status().message().find("does not match this AK and EK"), std::string::npos);
  EXPECT_NE(got.status().message().find("Esys_ActivateCredential"), std::string::npos);
  auto counts = CountHandles(tpm());
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->loaded_sessions, 0u);
}

TEST_F(CredentialTest, MalformedCredentialBlobIsInvalidArgument) {
  auto ek = Ek::Open(tpm());
  ASSERT_TRUE(ek.ok());
  auto ak = CreateAk(*ek);
  ASSERT_TRUE(ak.ok());
  auto loaded = LoadedAk::Load(*ek, *ak);
  ASSERT_TRUE(loaded.ok());
  MadeCredential cred = MakeCredential(*ek, ak->name(), Bytes(16, 1));
  Bytes truncated(cred.id_object.begin(), cred.id_object.end() - 1);
  auto got = ActivateCredential(*ek, *loaded, truncated, cred.encrypted_secret);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find("TPM2B_ID_OBJECT"), std::string::npos) << got.status().message();
}

}  // namespace
}  // namespace edgeward::tpm::test
