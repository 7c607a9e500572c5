// tpm2-tools credential files and ID objects: strict decoding, with errors
// that name the field.
#include <gtest/gtest.h>

#include "edgeward/attest/credential.h"

namespace edgeward::attest {
namespace {

// A well-formed file: 32-byte HMAC, 34-byte encIdentity, 4-byte secret.
Bytes GoodFile() {
  Credential c;
  c.credential_blob = {0x00, 0x44, 0x00, 0x20};
  c.credential_blob.resize(2 + 0x44, 0xab);
  c.encrypted_secret = {0x00, 0x04, 1, 2, 3, 4};
  return EncodeCredentialFile(c);
}

void ExpectError(const Bytes& file, StatusCode code, const std::string& needle) {
  auto c = DecodeCredentialFile(file);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), code) << c.status().ToString();
  EXPECT_NE(c.status().message().find(needle), std::string::npos) << c.status().message();
  EXPECT_EQ(c.status().message().rfind("credential file", 0), 0u) << c.status().message();
}

TEST(CredentialFile, RoundTrips) {
  Bytes file = GoodFile();
  ASSERT_EQ(file.size(), 8u + 2 + 0x44 + 6);
  auto c = DecodeCredentialFile(file);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(EncodeCredentialFile(*c), file);
  auto id = DecodeIdObject(c->credential_blob);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->integrity_hmac.size(), 32u);
  EXPECT_EQ(id->enc_identity.size(), 34u);
}

TEST(CredentialFile, WrongMagicNamesMagic) {
  Bytes f = GoodFile();
  f[0] = 0;
  ExpectError(f, StatusCode::kInvalidArgument, "magic: 0x00dcc0de is not 0xbadcc0de");
}

TEST(CredentialFile, WrongVersionNamesVersion) {
  Bytes f = GoodFile();
  f[7] = 2;
  ExpectError(f, StatusCode::kInvalidArgument, "version: 2 is not 1");
}

TEST(CredentialFile, EveryTruncationIsRejectedNamingTheField) {
  const Bytes f = GoodFile();
  for (size_t n = 0; n < f.size(); ++n) {
    SCOPED_TRACE(n);
    auto c = DecodeCredentialFile(ByteView(f).first(n));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    const std::string m = c.status().message();
    const char* field = n < 4 ? "magic" : n < 8 ? "version" : n < 8 + 2 + 0x44 ? "TPM2B_ID_OBJECT" : "TPM2B_ENCRYPTED_SECRET";
    EXPECT_NE(m.find(field), std::string::npos) << m;
    EXPECT_NE(m.find("truncated"), std::string::npos) << m;
  }
}

TEST(CredentialFile, TrailingBytesAreRejected) {
  Bytes f = GoodFile();
  f.push_back(0);
  ExpectError(f, StatusCode::kInvalidArgument, "1 trailing bytes");
}

TEST(CredentialFile, OversizedIdObjectIsRejectedBeforeReading) {
  Bytes f = GoodFile();
  f[8] = 0x01;  // size 0x0144 = 324 > 132
  ExpectError(f, StatusCode::kInvalidArgument, "TPM2B_ID_OBJECT: size 324 exceeds the maximum 132");
}

TEST(CredentialFile, OversizedEncryptedSecretIsRejected) {
  Bytes f = GoodFile();
  const size_t at = 8 + 2 + 0x44;
  f[at] = 0x02;
  f[at + 1] = 0x01;  // 513
  ExpectError(f, StatusCode::kInvalidArgument, "TPM2B_ENCRYPTED_SECRET: size 513 exceeds the maximum 512");
}

TEST(CredentialFile, EmptyEncryptedSecretIsRejected) {
  Credential c;
  c.credential_blob = {0x00, 0x24, 0x00, 0x20};
  c.credential_blob.resize(2 + 0x24, 1);
  c.encrypted_secret = {0x00, 0x00};
  ExpectError(EncodeCredentialFile(c), StatusCode::kInvalidArgument, "TPM2B_ENCRYPTED_SECRET: size 0");
}

TEST(CredentialFile, IntegrityHmacLongerThanIdObjectIsRejected) {
  Bytes f = GoodFile();
  f[11] = 0x40;  // integrityHMAC size 64, but only 66 bytes follow the size
  f[10] = 0x00;
  auto c = DecodeCredentialFile(f);
  EXPECT_TRUE(c.ok());  // 64 + 2-byte encIdentity still fits exactly
  f[11] = 0x43;  // 67 > 64
  ExpectError(f, StatusCode::kInvalidArgument, "TPMS_ID_OBJECT.integrityHMAC: size 67 exceeds the maximum 64");
}

TEST(IdObject, EncIdentityShorterThanItsSizeFieldIsRejected) {
  Bytes blob = {0x00, 0x23, 0x00, 0x20};
  blob.resize(2 + 0x23, 0);  // 32-byte HMAC, then 1 byte
  auto id = DecodeIdObject(blob);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(id.status().message().find("TPMS_ID_OBJECT.encIdentity: shorter than 2 bytes"), std::string::npos)
      << id.status().message();
}

TEST(IdObject, ShortHmacIsRejected) {
  Bytes blob = {0x00, 0x06, 0x00, 0x02, 1, 2, 0, 0};
  auto id = DecodeIdObject(blob);
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.status().message().find("integrityHMAC"), std::string::npos) << id.status().message();
}

TEST(CredentialFile, GarbageIsInvalidArgument) {
  ExpectError(Bytes(3, 0xff), StatusCode::kInvalidArgument, "magic");
  ExpectError({}, StatusCode::kInvalidArgument, "magic");
}

}  // namespace
}  // namespace edgeward::attest
