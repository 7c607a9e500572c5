// Decoding real TPM structures written by tpm2-tools (tpm2_createak -u,
// tpm2_quote -m/-s, tpm2_createek -u) against swtpm, and rejecting every
// kind of malformed input with an error naming structure, field and offset.
#include <gtest/gtest.h>

#include <string>

#include "edgeward/attest/tpm_wire.h"
#include "edgeward/base/file.h"

namespace edgeward::attest {
namespace {

Bytes ReadData(const std::string& name) {
  auto s = ReadFileToString(std::string(APPRAISAL_TESTDATA) + "/" + name, 1 << 20);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? Bytes(s->begin(), s->end()) : Bytes();
}

TEST(WireDecode, EccAkPublicFromTpm2CreateakDecodes) {
  auto pub = DecodeTpm2bPublic(ReadData("ak_ecc.pub"));
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(pub->type, tpm_alg::kEcc);
  EXPECT_EQ(pub->name_alg, tpm_alg::kSha256);
  EXPECT_TRUE(pub->is_restricted_signing_key());
  EXPECT_EQ(pub->scheme.scheme, tpm_alg::kEcdsa);
  EXPECT_EQ(pub->scheme.hash_alg, tpm_alg::kSha256);
  EXPECT_EQ(pub->ecc_curve, tpm_ecc::kNistP256);
  EXPECT_EQ(pub->ecc_kdf.scheme, tpm_alg::kNull);
  EXPECT_EQ(pub->symmetric.algorithm, tpm_alg::kNull);
  EXPECT_EQ(pub->ecc_x.size(), 32u);
  EXPECT_EQ(pub->ecc_y.size(), 32u);
  EXPECT_EQ(pub->marshalled.size(), ReadData("ak_ecc.pub").size() - 2);
}

TEST(WireDecode, NameMatchesTpm2Tools) {
  for (const char* k : {"ak_ecc", "ak_rsa"}) {
    auto pub = DecodeTpm2bPublic(ReadData(std::string(k) + ".pub"));
    ASSERT_TRUE(pub.ok()) << pub.status().ToString();
    auto name = ComputeName(*pub);
    ASSERT_TRUE(name.ok());
    EXPECT_EQ(HexEncode(*name), HexEncode(ReadData(std::string(k) + ".name"))) << k;
  }
}

TEST(WireDecode, RsaAkPublicFromTpm2CreateakDecodes) {
  auto pub = DecodeTpm2bPublic(ReadData("ak_rsa.pub"));
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(pub->type, tpm_alg::kRsa);
  EXPECT_EQ(pub->rsa_key_bits, 2048);
  EXPECT_EQ(pub->rsa_modulus.size(), 256u);
  EXPECT_EQ(pub->scheme.scheme, tpm_alg::kRsassa);
  EXPECT_TRUE(pub->is_restricted_signing_key());
}

TEST(WireDecode, EccEkPublicWithSymmetricDefDecodes) {
  auto pub = DecodeTpm2bPublic(ReadData("ek_ecc.pub"));
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(pub->symmetric.algorithm, tpm_alg::kAes);
  EXPECT_EQ(pub->symmetric.key_bits, 128);
  EXPECT_EQ(pub->symmetric.mode, tpm_alg::kCfb);
  EXPECT_EQ(pub->auth_policy.size(), 32u);
  EXPECT_FALSE(pub->is_restricted_signing_key());
}

TEST(WireDecode, PublicKeyPemRoundTripsThroughOpenssl) {
  for (const char* k : {"ak_ecc.pub", "ak_rsa.pub", "ek_ecc.pub"}) {
    auto pub = DecodeTpm2bPublic(ReadData(k));
    ASSERT_TRUE(pub.ok());
    auto pem = PublicKeyPem(*pub);
    ASSERT_TRUE(pem.ok()) << k << ": " << pem.status().ToString();
    EXPECT_EQ(pem->rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u);
  }
}

TEST(WireDecode, PointOffCurveIsRejected) {
  auto pub = DecodeTpm2bPublic(ReadData("ak_ecc.pub"));
  ASSERT_TRUE(pub.ok());
  pub->ecc_y.back() ^= 1;
  auto pem = PublicKeyPem(*pub);
  ASSERT_FALSE(pem.ok());
  EXPECT_EQ(pem.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(pem.status().message().find("TPMT_PUBLIC.unique.ecc"), std::string::npos) << pem.status().message();
}

TEST(WireDecode, QuoteAttestFromTpm2QuoteDecodes) {
  auto a = DecodeTpmsAttest(ReadData("quote_ecc.attest"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->magic, kTpmGenerated);
  EXPECT_EQ(a->type, tpm_st::kAttestQuote);
  EXPECT_EQ(HexEncode(a->extra_data), "00112233445566778899aabbccddeeff");
  EXPECT_TRUE(a->clock_info.safe);
  ASSERT_TRUE(a->has_quote);
  ASSERT_EQ(a->quote.pcr_select.banks.size(), 2u);
  // tpm2_quote -l sha256:0,1,2,3+sha1:0,1 keeps the bank order given.
  EXPECT_EQ(a->quote.pcr_select.banks[0].hash_alg, tpm_alg::kSha256);
  EXPECT_EQ(a->quote.pcr_select.banks[0].Pcrs(), (std::vector<uint32_t>{0, 1, 2, 3}));
  EXPECT_EQ(a->quote.pcr_select.banks[1].hash_alg, tpm_alg::kSha1);
  EXPECT_EQ(a->quote.pcr_select.banks[1].Pcrs(), (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(a->quote.pcr_digest.size(), 32u);
  // The qualified signer is the AK's qualified name (nameAlg || digest).
  EXPECT_EQ(a->qualified_signer.size(), 34u);
}

TEST(WireDecode, SignaturesFromTpm2QuoteDecode) {
  auto e = DecodeTpmtSignature(ReadData("quote_ecc.sig"));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->sig_alg, tpm_alg::kEcdsa);
  EXPECT_EQ(e->hash_alg, tpm_alg::kSha256);
  EXPECT_EQ(e->ecc_r.size(), 32u);
  EXPECT_EQ(e->ecc_s.size(), 32u);
  auto r = DecodeTpmtSignature(ReadData("quote_rsa.sig"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->sig_alg, tpm_alg::kRsassa);
  EXPECT_EQ(r->rsa_sig.size(), 256u);
}

TEST(WireDecode, PcrSelectionMarshalRoundTrips) {
  auto a = DecodeTpmsAttest(ReadData("quote_ecc.attest"));
  ASSERT_TRUE(a.ok());
  Bytes m = MarshalPcrSelection(a->quote.pcr_select);
  EXPECT_EQ(HexEncode(m), "00000002000b030f0000000403030000");
  auto back = DecodePcrSelection(m);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(MarshalPcrSelection(*back), m);
  tpm::PcrSelection sel{{crypto::HashAlg::kSha1, {0, 1}}, {crypto::HashAlg::kSha256, {0, 1, 2, 3}}};
  // From a map the banks come in ascending alg id order.
  EXPECT_EQ(HexEncode(MarshalPcrSelection(ToTpml(sel))), "00000002000403030000000b030f0000");
}

// ---- bad input --------------------------------------------------------------

void ExpectError(const Status& s, const std::string& what) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(what), std::string::npos) << "want '" << what << "' in: " << s.message();
}

TEST(WireDecode, EveryTruncationOfEveryStructureIsRejected) {
  for (const char* f : {"ak_ecc.pub", "ak_rsa.pub", "ek_ecc.pub"}) {
    Bytes b = ReadData(f);
    for (size_t n = 0; n < b.size(); ++n) {
      EXPECT_FALSE(DecodeTpm2bPublic(ByteView(b).first(n)).ok()) << f << " len " << n;
    }
  }
  for (const char* f : {"quote_ecc.attest", "quote_rsa.attest"}) {
    Bytes b = ReadData(f);
    for (size_t n = 0; n < b.size(); ++n) {
      EXPECT_FALSE(DecodeTpmsAttest(ByteView(b).first(n)).ok()) << f << " len " << n;
    }
  }
  for (const char* f : {"quote_ecc.sig", "quote_rsa.sig"}) {
    Bytes b = ReadData(f);
    for (size_t n = 0; n < b.size(); ++n) {
      EXPECT_FALSE(DecodeTpmtSignature(ByteView(b).first(n)).ok()) << f << " len " << n;
    }
  }
}

TEST(WireDecode, TruncatedAttestNamesFieldAndOffset) {
  Bytes b = ReadData("quote_ecc.attest");
  auto a = DecodeTpmsAttest(ByteView(b).first(20));
  ASSERT_FALSE(a.ok());
  ExpectError(a.status(), "TPMS_ATTEST.qualifiedSigner: truncated: need 34 bytes, 12 left at offset 8");
}

TEST(WireDecode, TrailingBytesAreRejected) {
  Bytes b = ReadData("quote_ecc.attest");
  b.push_back(0);
  ExpectError(DecodeTpmsAttest(b).status(), "TPMS_ATTEST: 1 trailing bytes after the structure at offset 135");
  Bytes s = ReadData("quote_ecc.sig");
  s.push_back(0);
  ExpectError(DecodeTpmtSignature(s).status(), "TPMT_SIGNATURE: 1 trailing bytes");
  Bytes p = ReadData("ak_ecc.pub");
  p.push_back(0);
  ExpectError(DecodeTpm2bPublic(p).status(), "TPM2B_PUBLIC.size: says 88 bytes but 89 follow");
}

TEST(WireDecode, SizeFieldBeyondMaximumIsRejected) {
  Bytes b = ReadData("quote_ecc.attest");
  // extraData size at offset 42 (after magic, type, 2+34 bytes of signer).
  b[42] = 0x00;
  b[43] = 0x50;
  ExpectError(DecodeTpmsAttest(b).status(), "TPMS_ATTEST.extraData: size 80 exceeds the maximum 66 at offset 42");
}

TEST(WireDecode, BadEnumValuesAreRejected) {
  Bytes p = ReadData("ak_ecc.pub");
  p[2] = 0x00;
  p[3] = 0x99;  // type
  ExpectError(DecodeTpm2bPublic(p).status(), "TPMT_PUBLIC.type: unsupported object type 0x0099 at offset 2");
  Bytes s = ReadData("quote_ecc.sig");
  s[1] = 0x77;
  ExpectError(DecodeTpmtSignature(s).status(), "TPMT_SIGNATURE.sigAlg: unsupported signature algorithm 0x0077");
  Bytes h = ReadData("quote_ecc.sig");
  h[3] = 0x77;
  ExpectError(DecodeTpmtSignature(h).status(), "TPMT_SIGNATURE.signature.ecc.hash: unsupported hash algorithm");
  Bytes a = ReadData("quote_ecc.attest");
  a[76] = 2;  // clockInfo.safe
  ExpectError(DecodeTpmsAttest(a).status(), "TPMS_ATTEST.clockInfo.safe: value 2 is not 0 or 1 at offset 76");
}

TEST(WireDecode, TooManyPcrBanksIsRejected) {
  Bytes b = {0x00, 0x00, 0x01, 0x00};
  ExpectError(DecodePcrSelection(b).status(), "TPML_PCR_SELECTION.count: 256 banks exceeds the maximum 16");
  Bytes c = {0x00, 0x00, 0x00, 0x01, 0x00, 0x0b, 0x05, 1, 2, 3, 4, 5};
  ExpectError(DecodePcrSelection(c).status(), "pcrSelections[0].sizeofSelect: 5 exceeds the maximum 4 at offset 6");
}

TEST(WireDecode, OversizedInputIsRejectedBeforeParsing) {
  Bytes big(5000, 0);
  ExpectError(DecodeTpmsAttest(big).status(), "TPMS_ATTEST: 5000 bytes exceeds the maximum 1024");
  ExpectError(DecodeTpmtPublic(big).status(), "TPMT_PUBLIC: 5000 bytes exceeds the maximum 1024");
}

}  // namespace
}  // namespace edgeward::attest
