// The evidence document: round trip, and every malformed shape rejected with
// an error that names the JSON field path.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "edgeward/attest/evidence.h"
#include "edgeward/base/file.h"
#include "edgeward/crypto/x509.h"

namespace edgeward::attest {
namespace {

using nlohmann::json;

Bytes ReadData(const std::string& name) {
  auto s = ReadFileToString(std::string(APPRAISAL_TESTDATA) + "/" + name, 1 << 20);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? Bytes(s->begin(), s->end()) : Bytes();
}

// Evidence built from what tpm2_createak/tpm2_quote wrote (sha256:0-3 + sha1:0,1).
Evidence FixtureEvidence() {
  Evidence e;
  e.node_id = "node-1";
  e.collected_at = "2026-11-23T20:40:00Z";
  e.nonce = *HexDecode("00112233445566778899aabbccddeeff");
  e.quote_attest = ReadData("quote_ecc.attest");
  e.quote_signature = ReadData("quote_ecc.sig");
  Bytes values = ReadData("quote_ecc.pcrs");
  size_t off = 0;
  for (uint32_t i = 0; i < 4; ++i, off += 32) {
    e.pcrs[crypto::HashAlg::kSha256][i] = Bytes(values.begin() + off, values.begin() + off + 32);
  }
  for (uint32_t i = 0; i < 2; ++i, off += 20) {
    e.pcrs[crypto::HashAlg::kSha1][i] = Bytes(values.begin() + off, values.begin() + off + 20);
  }
  e.ak_public = ReadData("ak_ecc.pub");
  e.ak_name = ReadData("ak_ecc.name");
  auto ak = DecodeTpm2bPublic(e.ak_public);
  e.ak_public_pem = *PublicKeyPem(*ak);
  e.has_ek = true;
  e.ek_certificate_pem = *crypto::Certificate::FromDer(ReadData("ek_ecc.der"))->ToPem();
  e.ek_public = ReadData("ek_ecc.pub");
  e.event_logs.push_back({EventLogFormat::kIma, "10 abc ima-ng sha256:00 /x\n", crypto::HashAlg::kSha256});
  e.event_logs.push_back({EventLogFormat::kUefi, std::string("\x00\x01\xff", 3), std::nullopt});
  EXPECT_TRUE(DecodeEvidenceWire(e).ok());
  return e;
}

json FixtureJson() { return json::parse(*EncodeEvidence(FixtureEvidence())); }

void ExpectError(const json& doc, const std::string& what) {
  auto e = DecodeEvidence(doc.dump());
  ASSERT_FALSE(e.ok()) << "accepted; wanted error: " << what;
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(e.status().message().find(what), std::string::npos) << "want '" << what << "' in: " << e.status().message();
}

TEST(EvidenceJson, RoundTripKeepsEveryField) {
  Evidence in = FixtureEvidence();
  auto text = EncodeEvidence(in);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto out = DecodeEvidence(*text);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->node_id, in.node_id);
  EXPECT_EQ(out->collected_at, in.collected_at);
  EXPECT_EQ(out->nonce, in.nonce);
  EXPECT_EQ(out->quote_attest, in.quote_attest);
  EXPECT_EQ(out->quote_signature, in.quote_signature);
  EXPECT_EQ(out->pcrs, in.pcrs);
  EXPECT_EQ(out->ak_public, in.ak_public);
  EXPECT_EQ(out->ak_public_pem, in.ak_public_pem);
  EXPECT_EQ(out->ak_name, in.ak_name);
  EXPECT_EQ(out->ek_certificate_pem, in.ek_certificate_pem);
  EXPECT_EQ(out->ek_public, in.ek_public);
  ASSERT_EQ(out->event_logs.size(), 2u);
  EXPECT_EQ(out->event_logs[0].data, in.event_logs[0].data);
  EXPECT_EQ(out->event_logs[0].template_hash_alg, crypto::HashAlg::kSha256);
  EXPECT_EQ(out->event_logs[1].data, in.event_logs[1].data);
  // Decoded forms are filled.
  EXPECT_EQ(out->attest.magic, kTpmGenerated);
  EXPECT_EQ(out->signature.sig_alg, tpm_alg::kEcdsa);
  EXPECT_EQ(out->ak.type, tpm_alg::kEcc);
}

TEST(EvidenceJson, DocumentedShape) {
  json j = FixtureJson();
  EXPECT_EQ(j["version"], 1);
  EXPECT_TRUE(j["quote"]["attest"].is_string());
  EXPECT_EQ(j["pcrs"]["sha256"]["0"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["event_logs"][0]["encoding"], "text");
  EXPECT_EQ(j["event_logs"][1]["encoding"], "base64");
  EXPECT_EQ(j["event_logs"][0]["template_hash_alg"], "sha256");
}

TEST(EvidenceJson, UnknownVersionIsRejected) {
  json j = FixtureJson();
  j["version"] = 2;
  ExpectError(j, "evidence.version: unsupported version 2");
  j["version"] = "1";
  ExpectError(j, "evidence.version: expected an integer, got string");
  j.erase("version");
  ExpectError(j, "evidence.version: missing");
}

TEST(EvidenceJson, InvalidBase64NamesFieldAndOffset) {
  json j = FixtureJson();
  std::string a = j["quote"]["attest"];
  a[12] = '*';
  j["quote"]["attest"] = a;
  ExpectError(j, "evidence.quote.attest: invalid base64 character at offset 12");
}

TEST(EvidenceJson, MalformedTpmStructureNamesEvidenceFieldAndWireField) {
  json j = FixtureJson();
  Bytes attest = ReadData("quote_ecc.attest");
  attest.resize(50);
  j["quote"]["attest"] = Base64Encode(attest);
  ExpectError(j, "evidence.quote.attest: TPMS_ATTEST.extraData: truncated");
  j = FixtureJson();
  j["ak"]["public"] = Base64Encode(ByteView(ReadData("ak_ecc.pub")).first(30));
  ExpectError(j, "evidence.ak.public: TPM2B_PUBLIC.size");
}

TEST(EvidenceJson, WrongTypesAreRejected) {
  json j = FixtureJson();
  j["quote"] = "x";
  ExpectError(j, "evidence.quote: expected an object, got string");
  j = FixtureJson();
  j["pcrs"]["sha256"]["0"] = 5;
  ExpectError(j, "evidence.pcrs.sha256.0: expected a hex string, got number");
  j = FixtureJson();
  j["event_logs"] = json::object();
  ExpectError(j, "evidence.event_logs: expected an array, got object");
  j = FixtureJson();
  j["node_id"] = nullptr;
  ExpectError(j, "evidence.node_id: expected a string, got null");
}

TEST(EvidenceJson, PcrProblemsNameThePcr) {
  json j = FixtureJson();
  j["pcrs"]["sha256"]["3"] = "00";
  ExpectError(j, "evidence.pcrs.sha256.3: value is 2 hex digits, sha256 needs 64");
  j = FixtureJson();
  j["pcrs"]["sha256"]["24"] = std::string(64, '0');
  ExpectError(j, "evidence.pcrs.sha256.24: PCR index out of range");
  j = FixtureJson();
  j["pcrs"]["sha256"]["07"] = std::string(64, '0');
  ExpectError(j, "evidence.pcrs.sha256.07: PCR index is not a decimal number");
  j = FixtureJson();
  j["pcrs"]["md5"] = json::object();
  ExpectError(j, "evidence.pcrs.md5: unknown bank");
  j = FixtureJson();
  j["pcrs"]["sha1"]["0"] = std::string(39, '0') + "g";
  ExpectError(j, "evidence.pcrs.sha1.0: non-hex character at offset 39");
}

TEST(EvidenceJson, UnknownAndMissingFieldsAreRejected) {
  json j = FixtureJson();
  j["quote"]["attestt"] = "";
  ExpectError(j, "evidence.quote.attestt: unknown field");
  j = FixtureJson();
  j["ak"].erase("name");
  ExpectError(j, "evidence.ak.name: missing");
  j = FixtureJson();
  j["event_logs"][0]["format"] = "tcg";
  ExpectError(j, "evidence.event_logs[0].format: unknown format 'tcg'");
  j = FixtureJson();
  j["event_logs"][1]["encoding"] = "text";
  ExpectError(j, "evidence.event_logs[1].encoding: a uefi log is binary and must be base64");
}

TEST(EvidenceJson, BadTimestampAndNonceAreRejected) {
  json j = FixtureJson();
  j["collected_at"] = "2026-11-23 20:40:00";
  ExpectError(j, "evidence.collected_at: '2026-11-23 20:40:00' is not an RFC 3339 date-time");
  j = FixtureJson();
  j["nonce"] = "";
  ExpectError(j, "evidence.nonce: is empty");
  j = FixtureJson();
  j["nonce"] = std::string(200, 'a');
  ExpectError(j, "evidence.nonce: 200 hex digits exceeds the maximum 128 (64 bytes)");
}

TEST(EvidenceJson, GarbageAndTruncatedTextAreRejected) {
  std::string text = *EncodeEvidence(FixtureEvidence());
  for (size_t n : {size_t{0}, size_t{1}, text.size() / 2, text.size() - 1}) {
    auto e = DecodeEvidence(std::string_view(text).substr(0, n));
    ASSERT_FALSE(e.ok()) << n;
    EXPECT_NE(e.status().message().find("evidence: invalid JSON"), std::string::npos) << e.status().message();
  }
  EXPECT_FALSE(DecodeEvidence("[1,2]").ok());
  EXPECT_FALSE(DecodeEvidence("\xff\xfe").ok());
}

TEST(EvidenceJson, Rfc3339) {
  EXPECT_TRUE(IsRfc3339("2026-11-23T20:39:56Z"));
  EXPECT_TRUE(IsRfc3339("2026-11-23T21:39:56.123+01:00"));
  EXPECT_FALSE(IsRfc3339("2026-11-23T20:39:56"));
  EXPECT_FALSE(IsRfc3339("2026-13-23T20:39:56Z"));
  EXPECT_FALSE(IsRfc3339("2026-11-23T20:39:56.Z"));
  EXPECT_FALSE(IsRfc3339("2026-11-23T20:39:56+0100"));
}

}  // namespace
}  // namespace edgeward::attest
