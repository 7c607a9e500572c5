// The v1 wire messages: round trips, and each class of malformed input
// refused with an error naming the field.
#include <gtest/gtest.h>

#include "edgeward/cloud/api.h"
#include "edgeward/cloud/events.h"
#include "edgeward/crypto/hash.h"

namespace edgeward::cloud {
namespace {

void ExpectError(const Status& s, StatusCode code, std::string_view needle) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
}

RegisterRequest SampleRegister() {
  RegisterRequest m;
  m.node_id = "node-1";
  m.ek_cert_pem = "-----BEGIN CERTIFICATE-----\n...";
  m.ek_public = Bytes(300, 1);
  m.ak_public = Bytes(90, 2);
  m.ak_name = Bytes(34, 3);
  m.node_signing_key = Bytes(32, 4);
  m.labels = {{"group", "edge"}, {"site", "berlin"}};
  return m;
}

TEST(CloudApi, RegisterRoundTrips) {
  auto m = SampleRegister();
  auto back = DecodeRegisterRequest(EncodeRegisterRequest(m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->node_id, m.node_id);
  EXPECT_EQ(back->ek_public, m.ek_public);
  EXPECT_EQ(back->ak_name, m.ak_name);
  EXPECT_EQ(back->node_signing_key, m.node_signing_key);
  EXPECT_EQ(back->labels, m.labels);
}

TEST(CloudApi, MalformedRegisterNamesTheField) {
  ExpectError(DecodeRegisterRequest("[1]").status(), StatusCode::kInvalidArgument, "expected a JSON object");
  ExpectError(DecodeRegisterRequest("{").status(), StatusCode::kInvalidArgument, "not valid JSON");
  std::string text = EncodeRegisterRequest(SampleRegister());
  auto with = [&](std::string_view from, std::string_view to) {
    std::string t = text;
    t.replace(t.find(from), from.size(), to);
    return DecodeRegisterRequest(t).status();
  };
  ExpectError(with("\"node_id\":\"node-1\"", "\"node_id\":\"no/de\""), StatusCode::kInvalidArgument,
              "register.node_id: characters allowed");
  ExpectError(with("\"node_id\":\"node-1\"", "\"node_id\":7"), StatusCode::kInvalidArgument,
              "register.node_id: expected a string, got number");
  ExpectError(with("\"node_id\":\"node-1\"", "\"nodeid\":\"x\""), StatusCode::kInvalidArgument,
              "register.nodeid: unknown field");
  ExpectError(with("\"ak_name\":\"", "\"ak_name\":\"*"), StatusCode::kInvalidArgument, "register.ak_name");
  ExpectError(with("\"site\":\"berlin\"", "\"site\":1"), StatusCode::kInvalidArgument,
              "register.labels.site: expected a string");
  auto m = SampleRegister();
  m.node_signing_key.resize(31);
  ExpectError(DecodeRegisterRequest(EncodeRegisterRequest(m)).status(), StatusCode::kInvalidArgument,
              "register.node_signing_key: must be 32 bytes");
  m = SampleRegister();
  m.ek_public.resize(kMaxTpmPublicBytes + 1);
  ExpectError(DecodeRegisterRequest(EncodeRegisterRequest(m)).status(), StatusCode::kInvalidArgument,
              "register.ek_public: ");
}

TEST(CloudApi, OversizedAndDeepBodiesAreRefusedBeforeParsing) {
  ExpectError(DecodeChallengeRequest(std::string(kMaxBodyBytes + 1, ' ')).status(), StatusCode::kResourceExhausted,
              "exceeds the maximum");
  ExpectError(DecodeChallengeRequest(std::string(1000, '[')).status(), StatusCode::kInvalidArgument,
              "nested deeper than 64");
}

TEST(CloudApi, EventBatchBoundsAndPriorities) {
  EventBatch b;
  b.messages.push_back({"a-1", 1, 0, Bytes(80, 9)});
  b.messages.push_back({"a-2", 2, 2, Bytes(80, 8)});
  auto back = DecodeEventBatch(EncodeEventBatch(b));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->messages.size(), 2u);
  EXPECT_EQ(back->messages[1].seq, 2u);
  EXPECT_EQ(back->messages[1].sealed, Bytes(80, 8));
  b.messages[1].priority = 3;
  ExpectError(DecodeEventBatch(EncodeEventBatch(b)).status(), StatusCode::kInvalidArgument,
              "event_batch.messages[1].priority");
  b.messages.assign(kMaxEventsPerBatch + 1, {"x", 1, 1, Bytes(1, 1)});
  ExpectError(DecodeEventBatch(EncodeEventBatch(b)).status(), StatusCode::kInvalidArgument,
              "event_batch.messages: 1001 items exceeds the maximum 1000");
}

TEST(CloudApi, VerdictRoundTripsFindings) {
  VerdictResponse v;
  v.verdict_id = "v1";
  v.pass = false;
  attest::Finding f;
  f.check = "golden_pcr";
  f.bank = crypto::HashAlg::kSha256;
  f.pcr = 7;
  f.expected = "aa";
  f.actual = "bb";
  f.message = "PCR 7 differs";
  v.findings.push_back(f);
  v.client_cert_pem = "pem";
  v.cert_expires_at = 99;
  auto back = DecodeVerdictResponse(EncodeVerdictResponse(v));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->findings.size(), 1u);
  EXPECT_EQ(back->findings[0].check, "golden_pcr");
  EXPECT_EQ(back->findings[0].pcr, 7u);
  EXPECT_EQ(back->findings[0].bank, crypto::HashAlg::kSha256);
  EXPECT_EQ(back->client_cert_pem, "pem");
  EXPECT_EQ(back->cert_expires_at, 99);
}

TEST(CloudApi, EvidenceSubmissionRequiresNonceIdUnlessOffline) {
  ExpectError(DecodeEvidenceSubmission(R"({"evidence":{},"tls_public_key_spki_der":"AA=="})").status(),
              StatusCode::kInvalidArgument, "evidence_submission.nonce_id: missing");
  ExpectError(DecodeEvidenceSubmission(R"({"offline":true,"evidence":{},"tls_public_key_spki_der":"AA=="})").status(),
              StatusCode::kInvalidArgument, "evidence_submission: evidence");
}

TEST(CloudApi, QualifyingDataBindsNonceAndKey) {
  const Bytes nonce(32, 1), spki(91, 2);
  Bytes expected_input = nonce;
  const Bytes spki_hash = crypto::Digest(crypto::HashAlg::kSha256, spki);
  expected_input.insert(expected_input.end(), spki_hash.begin(), spki_hash.end());
  EXPECT_EQ(QuoteQualifyingData(nonce, spki), crypto::Digest(crypto::HashAlg::kSha256, expected_input));
  Bytes other = spki;
  other[5] ^= 1;
  EXPECT_NE(QuoteQualifyingData(nonce, spki), QuoteQualifyingData(nonce, other));
}

TEST(CloudEvents, SealOpenAndTamperChecks) {
  auto verifier = X25519KeyPair::Generate();
  ASSERT_TRUE(verifier.ok());
  auto node = crypto::Ed25519SigningKey::Generate();
  ASSERT_TRUE(node.ok());
  EventMessage m{"evt-1", 42, 1, {}};
  const std::string payload = R"({"type":"exec","path":"/bin/sh"})";
  ASSERT_TRUE(SealEvent(*node, verifier->public_key(), "node-1", m, AsBytes(payload)).ok());
  auto opened = OpenEvent(*verifier, node->public_key(), "node-1", m);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(AsChars(*opened), payload);

  EventMessage renumbered = m;
  renumbered.seq = 43;
  ExpectError(OpenEvent(*verifier, node->public_key(), "node-1", renumbered).status(), StatusCode::kPermissionDenied,
              "node signature does not verify");
  ExpectError(OpenEvent(*verifier, node->public_key(), "node-2", m).status(), StatusCode::kPermissionDenied,
              "node signature does not verify");
  EventMessage flipped = m;
  flipped.sealed[10] ^= 1;
  ExpectError(OpenEvent(*verifier, node->public_key(), "node-1", flipped).status(), StatusCode::kPermissionDenied,
              "sealed box does not open");
  auto other = X25519KeyPair::Generate();
  ASSERT_TRUE(other.ok());
  ExpectError(OpenEvent(*other, node->public_key(), "node-1", m).status(), StatusCode::kPermissionDenied,
              "sealed box does not open");
  auto restored = X25519KeyPair::FromSecret(verifier->secret());
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->public_key(), verifier->public_key());
}

}  // namespace
}  // namespace edgeward::cloud
