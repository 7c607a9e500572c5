// Ed25519 keys and key files: signing round trips, passphrase encryption
// (Argon2id + XChaCha20-Poly1305), tamper detection and located errors.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "edgeward/base/file.h"
#include "edgeward/crypto/ed25519.h"
#include "edgeward/crypto/key_file.h"
#include "swtpm.h"

namespace edgeward::crypto {
namespace {

ByteView Text(std::string_view s) { return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

Ed25519SigningKey NewKey() {
  auto k = Ed25519SigningKey::Generate();
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  return std::move(k).value();
}

TEST(Ed25519, SignatureVerifiesAndRejectsOtherMessageOrKey) {
  Ed25519SigningKey a = NewKey();
  Ed25519SigningKey b = NewKey();
  auto sig = a.Sign(Text("bundle v7"));
  EXPECT_TRUE(Ed25519Verify(a.public_key(), Text("bundle v7"), sig));
  EXPECT_FALSE(Ed25519Verify(a.public_key(), Text("bundle v8"), sig));
  EXPECT_FALSE(Ed25519Verify(b.public_key(), Text("bundle v7"), sig));
  sig[10] ^= 1;
  EXPECT_FALSE(Ed25519Verify(a.public_key(), Text("bundle v7"), sig));
  EXPECT_FALSE(Ed25519Verify(a.public_key(), Text("bundle v7"), ByteView(sig.data(), 63)));
}

TEST(Ed25519, RfcTestVector1) {
  // RFC 8032, 7.1, TEST 1: empty message.
  auto seed = HexDecode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  ASSERT_TRUE(seed.ok());
  auto key = Ed25519SigningKey::FromSeed(*seed);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(HexEncode(ByteView(key->public_key().bytes.data(), 32)),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  auto sig = key->Sign(ByteView());
  EXPECT_EQ(HexEncode(ByteView(sig.data(), sig.size())),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
}

TEST(Ed25519, KeyIdIsSixteenHexDigitsOfSha256) {
  auto seed = HexDecode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  auto key = Ed25519SigningKey::FromSeed(*seed);
  ASSERT_TRUE(key.ok());
  // sha256(d75a98...511a) computed with `xxd -r -p | sha256sum`.
  EXPECT_EQ(key->KeyId(), "21fe31dfa154a261");
}

TEST(Ed25519, SmallOrderPublicKeyIsRejected) {
  Bytes identity(32, 0);
  identity[0] = 1;  // the neutral element: verifies forged signatures
  EXPECT_EQ(Ed25519PublicKey::FromBytes(identity).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Ed25519PublicKey::FromBytes(Bytes(31, 7)).status().code(), StatusCode::kInvalidArgument);
}

TEST(KeyFile, PublicKeyRoundTrips) {
  Ed25519SigningKey k = NewKey();
  std::string text = FormatPublicKeyFile(k.public_key());
  auto back = ParsePublicKeyFile(text, "k.pub");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, k.public_key());
}

TEST(KeyFile, PublicKeyErrorsNameLineAndField) {
  Ed25519SigningKey k = NewKey();
  std::string text = FormatPublicKeyFile(k.public_key());
  std::string wrong_id = text;
  wrong_id.replace(wrong_id.find("key-id: ") + 8, 4, "0000");
  auto r = ParsePublicKeyFile(wrong_id, "k.pub");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("k.pub:3: field 'key-id'"), std::string::npos) << r.status().message();

  auto bad_alg = ParsePublicKeyFile("edgeward-public-key: v1\nalgorithm: rsa\nkey-id: x\npublic-key: y\n", "p");
  EXPECT_NE(bad_alg.status().message().find("p:2: field 'algorithm'"), std::string::npos);
  auto no_nl = ParsePublicKeyFile("edgeward-public-key: v1", "p");
  EXPECT_NE(no_nl.status().message().find("p:1: line does not end"), std::string::npos);
  auto extra = ParsePublicKeyFile(text + "comment: hi\n", "p");
  EXPECT_NE(extra.status().message().find("p:5: unexpected field 'comment'"), std::string::npos)
      << extra.status().message();
  auto secret = ParsePublicKeyFile(*FormatSecretKeyFile(k, std::nullopt), "p");
  EXPECT_NE(secret.status().message().find("secret key file"), std::string::npos);
}

TEST(KeyFile, UnencryptedSecretRoundTrips) {
  Ed25519SigningKey k = NewKey();
  auto text = FormatSecretKeyFile(k, std::nullopt);
  ASSERT_TRUE(text.ok());
  EXPECT_FALSE(*SecretKeyFileIsEncrypted(*text, "k.key"));
  auto back = ParseSecretKeyFile(*text, "k.key", std::nullopt);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->public_key(), k.public_key());
  auto sig = back->Sign(Text("m"));
  EXPECT_TRUE(Ed25519Verify(k.public_key(), Text("m"), sig));
}

TEST(KeyFile, EncryptedSecretNeedsTheRightPassphrase) {
  Ed25519SigningKey k = NewKey();
  auto text = FormatSecretKeyFile(k, Text("correct horse"), InteractivePassphraseCost());
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_TRUE(*SecretKeyFileIsEncrypted(*text, "k.key"));
  EXPECT_EQ(text->find(Base64Encode(k.seed())), std::string::npos);

  auto none = ParseSecretKeyFile(*text, "k.key", std::nullopt);
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  auto wrong = ParseSecretKeyFile(*text, "k.key", Text("battery staple"));
  EXPECT_EQ(wrong.status().code(), StatusCode::kPermissionDenied) << wrong.status().ToString();
  auto right = ParseSecretKeyFile(*text, "k.key", Text("correct horse"));
  ASSERT_TRUE(right.ok()) << right.status().ToString();
  EXPECT_EQ(right->public_key(), k.public_key());
}

TEST(KeyFile, HeaderIsBoundToTheCiphertext) {
  Ed25519SigningKey k = NewKey();
  auto text = FormatSecretKeyFile(k, Text("pw"), InteractivePassphraseCost());
  ASSERT_TRUE(text.ok());
  // Raise the declared cost: still a valid-looking header, but it was not
  // the one sealed with the key, so decryption must fail.
  std::string altered = *text;
  size_t at = altered.find("kdf-opslimit: ");
  ASSERT_NE(at, std::string::npos);
  altered.replace(at, altered.find('\n', at) - at, "kdf-opslimit: 2");
  altered.replace(altered.find("kdf-memlimit: "), altered.find('\n', altered.find("kdf-memlimit: ")) - altered.find("kdf-memlimit: "),
                  "kdf-memlimit: 67108865");
  auto r = ParseSecretKeyFile(altered, "k.key", Text("pw"));
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
}

TEST(KeyFile, HostileCostIsRejectedBeforeDerivation) {
  Ed25519SigningKey k = NewKey();
  auto text = FormatSecretKeyFile(k, Text("pw"), InteractivePassphraseCost());
  ASSERT_TRUE(text.ok());
  std::string hostile = *text;
  size_t at = hostile.find("kdf-memlimit: ");
  hostile.replace(at, hostile.find('\n', at) - at, "kdf-memlimit: 999999999999");
  auto r = ParseSecretKeyFile(hostile, "k.key", Text("pw"));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("k.key:7: field 'kdf-memlimit'"), std::string::npos) << r.status().message();
}

TEST(KeyFile, WeakCostIsRefusedWhenWriting) {
  Ed25519SigningKey k = NewKey();
  EXPECT_EQ(FormatSecretKeyFile(k, Text("pw"), PassphraseCost{1, 8 << 20}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatSecretKeyFile(k, Text(""), InteractivePassphraseCost()).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(KeyFile, WriteKeyPairSetsModesAndNeverOverwrites) {
  testing::TempDir dir;
  Ed25519SigningKey k = NewKey();
  std::string keys = dir.File("keys");
  auto paths = WriteKeyPair(keys, k, std::nullopt);
  ASSERT_TRUE(paths.ok()) << paths.status().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(paths->secret_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(paths->public_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  ASSERT_EQ(::stat(keys.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(paths->secret_path, keys + "/" + k.KeyId() + ".key");

  auto again = WriteKeyPair(keys, k, std::nullopt);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  auto pub = ReadPublicKeyFile(paths->public_path);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(*pub, k.public_key());
  auto sec = ReadSecretKeyFile(paths->secret_path, std::nullopt);
  ASSERT_TRUE(sec.ok());
  EXPECT_EQ(sec->public_key(), k.public_key());
}

}  // namespace
}  // namespace edgeward::crypto
