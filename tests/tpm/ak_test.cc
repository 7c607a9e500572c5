// AK creation, its blob on disk, and reloading across reopen.
#include "edgeward/tpm/ak.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "edgeward/crypto/public_key.h"
#include "edgeward/tpm/ek.h"
#include "edgeward/tpm/info.h"
#include "tpm_test_util.h"

namespace edgeward::tpm::test {
namespace {

using AkTest = SwtpmTest;

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST_F(AkTest, DefaultAkIsEccP256WithAttestationAttributes) {
  auto ek = Ek::Open(tpm());
  ASSERT_TRUE(ek.ok()) << ek.status().ToString();
  auto ak = CreateAk(*ek);
  ASSERT_TRUE(ak.ok()) << ak.status().ToString();
  EXPECT_EQ(ak->algorithm(), AkAlgorithm::kEccP256);
  EXPECT_EQ(ak->signing_hash(), crypto::HashAlg::kSha256);
  auto key = crypto::PublicKey::FromPem(ak->public_pem());
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->type(), crypto::KeyType::kEc);
  EXPECT_EQ(key->curve(), crypto::EcCurve::kNistP256);
  // TPM2B_PUBLIC: size(2) type(2)=ECC nameAlg(2)=SHA-256 attributes(4).
  const Bytes& pub = ak->public_area();
  ASSERT_GT(pub.size(), 10u);
  EXPECT_EQ(HexEncode(ByteView(pub).subspan(2, 8)), "0023000b00050072");
  // Name = nameAlg || SHA-256(TPMT_PUBLIC).
  Bytes expect_name{0x00, 0x0B};
  Bytes digest = crypto::Digest(crypto::HashAlg::kSha256, ByteView(pub).subspan(2));
  expect_name.insert(expect_name.end(), digest.begin(), digest.end());
  EXPECT_EQ(HexEncode(ak->name()), HexEncode(expect_name));
  EXPECT_EQ(ak->parent_name(), ek->name());
}

TEST_F(AkTest, RsaOptionCreatesRsa2048RsassaAk) {
  auto ek = Ek::Open(tpm());
  ASSERT_TRUE(ek.ok());
  auto ak = CreateAk(*ek, {.algorithm = AkAlgorithm::kRsa2048});
  ASSERT_TRUE(ak.ok()) << ak.status().ToString();
  EXPECT_EQ(ak->algorithm(), AkAlgorithm::kRsa2048);
  auto key = crypto::PublicKey::FromPem(ak->public_pem());
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->type(), crypto::KeyType::kRsa);
  EXPECT_EQ(key->bits(), 2048);
}

TEST_F(AkTest, AkUnderHighRangeP384EkLoads) {
  auto ek = Ek::Open(tpm(), {.preference = EkPreference::kEcc});
  ASSERT_TRUE(ek.ok()) << ek.status().ToString();
  ASSERT_EQ(ek->kind(), EkKind::kEccP384High);
  auto ak = CreateAk(*ek);
  ASSERT_TRUE(ak.ok()) << ak.status().ToString();
  auto loaded = LoadedAk::Load(*ek, *ak);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
}

TEST_F(AkTest, BlobIsMode0600InMode0700DirAndAkIsStableAcrossReopen) {
  testing::TempDir tmp;
  const std::string state = tmp.File("state");
  Bytes name;
  Bytes blob;
  {
    auto ek = Ek::Open(tpm());
    ASSERT_TRUE(ek.ok());
    auto ak = LoadOrCreateAk(*ek, state);
    ASSERT_TRUE(ak.ok()) << ak.status().ToString();
    name = ak->name();
    EXPECT_EQ(ModeOf(state), 0700u);
    EXPECT_EQ(ModeOf(AkBlobPath(state)), 0600u);
    blob = ReadFile(AkBlobPath(state));
    EXPECT_EQ(blob, ak->Serialize());
    EXPECT_EQ(HexEncode(ByteView(blob).first(8)), "4557414b00000001");  // "EWAK", version 1
  }
  Reopen();
  {
    auto ek = Ek::Open(tpm());
    ASSERT_TRUE(ek.ok());
    auto again = LoadOrCreateAk(*ek, state);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(HexEncode(again->name()), HexEncode(name));
    EXPECT_EQ(ReadFile(AkBlobPath(state)), blob);  // not recreated
    auto loaded = LoadedAk::Load(*ek, *again);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  }
  // No persistent handle was consumed: only swtpm's two EKs are there.
  // (Everything holding the connection is gone once tpm_ is reset.)
  tpm_.reset();
  auto caps = testing::RunCommand("tpm2_getcap -T '" + swtpm().tcti() + "' handles-persistent");
  ASSERT_EQ(caps.exit_code, 0) << caps.output;
  EXPECT_EQ(caps.output, "- 0x81010001\n- 0x81010016\n");
}

TEST_F(AkTest, CorruptBlobIsDataLossNamingTheFileAndIsKept) {
  testing::TempDir tmp;
  const std::string state = tmp.File("state");
  auto ek = Ek::Open(tpm());
  ASSERT_TRUE(ek.ok());
  ASSERT_TRUE(LoadOrCreateAk(*ek, state).ok());
  Bytes blob = ReadFile(AkBlobPath(state));

  Bytes truncated(blob.begin(), blob.end() - 5);
  WriteFile(AkBlobPath(state), truncated);
  auto r = LoadOrCreateAk(*ek, state);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find(AkBlobPath(state)), std::string::npos) << r.status().message();
  EXPECT_EQ(ReadFile(AkBlobPath(state)), truncated);

  Bytes bad_magic = blob;
  bad_magic[0] = 'X';
  WriteFile(AkBlobPath(state), bad_magic);
  EXPECT_EQ(LoadOrCreateAk(*ek, state).status().code(), StatusCode::kDataLoss);

  Bytes trailing = blob;
  trailing.push_back(0);
  WriteFile(AkBlobPath(state), trailing);
  EXPECT_EQ(LoadOrCreateAk(*ek, state).status().code(), StatusCode::kDataLoss);

  WriteFile(AkBlobPath(state), {});
  EXPECT_EQ(LoadOrCreateAk(*ek, state).status().code(), StatusCode::kDataLoss);
}

TEST_F(AkTest, TamperedPrivatePartFailsToLoadAndLeavesNothingLoaded) {
  auto ek = Ek::Open(tpm());
  ASSERT_TRUE(ek.ok());
  auto ak = CreateAk(*ek);
  ASSERT_TRUE(ak.ok());
  Bytes blob = ak->Serialize();
  blob[blob.size() - 1] ^= 0x01;  // inside the wrapped private part
  auto tampered = Ak::Parse(blob, "tampered");
  ASSERT_TRUE(tampered.ok()) << tampered.status().ToString();  // still well-formed
  auto loaded = LoadedAk::Load(*ek, *tampered);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kFailedPrecondition) << loaded.status().ToString();
  EXPECT_NE(loaded.status().message().find("Esys_Load"), std::string::npos);
  auto counts = CountHandles(tpm());
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->transient_objects, 0u);
  EXPECT_EQ(counts->loaded_sessions, 0u);
}

TEST_F(AkTest, BlobMadeUnderAnotherEkIsFailedPrecondition) {
  testing::TempDir tmp;
  const std::string state = tmp.File("state");
  {
    auto ecc_ek = Ek::Open(tpm(), {.preference = EkPreference::kEcc});
    ASSERT_TRUE(ecc_ek.ok());
    ASSERT_TRUE(LoadOrCreateAk(*ecc_ek, state).ok());
  }
  auto rsa_ek = Ek::Open(tpm());
  ASSERT_TRUE(rsa_ek.ok());
  auto r = LoadOrCreateAk(*rsa_ek, state);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find(AkBlobPath(state)), std::string::npos);
}

TEST_F(AkTest, LoadBeyondTpmObjectSlotsIsResourceExhausted) {
  // swtpm has 3 object slots and no resource manager in front; the
  // persistent EK occupies one while a command uses it as parent.
  auto ek = Ek::Open(tpm());
  ASSERT_TRUE(ek.ok());
  auto ak = CreateAk(*ek);
  ASSERT_TRUE(ak.ok()) << ak.status().ToString();
  std::vector<LoadedAk> loaded;
  Status failure;
  for (int i = 0; i < 8 && failure.ok(); ++i) {
    auto l = LoadedAk::Load(*ek, *ak);
    if (l.ok()) {
      loaded.push_back(std::move(*l));
    } else {
      failure = l.status();
    }
  }
  EXPECT_EQ(loaded.size(), 2u);
  EXPECT_EQ(failure.code(), StatusCode::kResourceExhausted) << failure.ToString();
  EXPECT_NE(failure.message().find("Esys_Load"), std::string::npos);
  loaded.clear();
  auto counts = CountHandles(tpm());
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->transient_objects, 0u);
  EXPECT_EQ(counts->loaded_sessions, 0u);
}

}  // namespace
}  // namespace edgeward::tpm::test
