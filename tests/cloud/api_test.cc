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


TEST(CloudApi, ErrorResponseCarriesACode) {
  ErrorResponse e{"node 'n' is not registered", false, std::string(kErrorUnknownNode)};
  const std::string text = EncodeErrorResponse(e);
  EXPECT_NE(text.find("\"code\":\"unknown_node\""), std::string::npos) << text;
  auto back = DecodeErrorResponse(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->code, kErrorUnknownNode);
  EXPECT_EQ(back->error, e.error);
  // Absent: empty. Not a plain token: refused, naming the field.
  auto none = DecodeErrorResponse(R"({"error":"x"})");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->code, "");
  auto bad = DecodeErrorResponse(R"({"error":"x","code":"Unknown Node"})");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("error_response.code"), std::string::npos) << bad.status().message();
  auto long_code = DecodeErrorResponse(R"({"error":"x","code":")" + std::string(65, 'a') + "\"}");
  EXPECT_FALSE(long_code.ok());
}

attest::Finding DigestFinding(std::string path) {
  attest::Finding f;
  f.check = "file_digest";
  f.message = "a measured file's digest is not an allowed one";
  f.path = std::move(path);
  f.expected = "sha256:" + std::string(64, 'a');
  f.actual = "sha256:" + std::string(64, 'b');
  return f;
}

TEST(CloudApi, FindingReasonNamesTheFileAndDigestPrefixes) {
  EXPECT_EQ(FindingReason(DigestFinding("/opt/app/etc/sensor.yaml")),
            "file_digest: /opt/app/etc/sensor.yaml: a measured file's digest is not an allowed one (expected "
            "sha256:aaaaaaaaaaaa..., got sha256:bbbbbbbbbbbb...)");
  // Several allowed digests: each shown (at most three).
  attest::Finding f = DigestFinding("/x");
  f.expected = "sha256:" + std::string(64, '1') + " | sha384:" + std::string(96, '2');
  EXPECT_EQ(FindingReason(f), "file_digest: /x: a measured file's digest is not an allowed one (expected "
                              "sha256:111111111111... | sha384:222222222222..., got sha256:bbbbbbbbbbbb...)");
  // Unknown file: no expected digest.
  f = DigestFinding("/y");
  f.check = "unknown_file";
  f.expected.clear();
  f.message = "a measured file has no entry in the reference values";
  EXPECT_EQ(FindingReason(f), "unknown_file: /y: a measured file has no entry in the reference values (got "
                              "sha256:bbbbbbbbbbbb...)");
  // Not about a file: as before.
  attest::Finding plain;
  plain.check = "nonce";
  plain.message = "the quote's nonce is not the challenge";
  EXPECT_EQ(FindingReason(plain), "nonce: the quote's nonce is not the challenge");
}

TEST(CloudApi, FindingReasonEscapesAndBoundsAttackerPaths) {
  // A path with a newline and a forged log line, a terminal escape, a
  // backslash and bytes that are not ASCII.
  std::string evil = "/tmp/x\nFAKE verdict pass=true\x1b[2J\\\xff\xc3\xa9";
  const std::string r = FindingReason(DigestFinding(evil));
  EXPECT_EQ(r, "file_digest: /tmp/x\\x0aFAKE verdict pass=true\\x1b[2J\\x5c\\xff\\xc3\\xa9: a measured file's digest is "
               "not an allowed one (expected sha256:aaaaaaaaaaaa..., got sha256:bbbbbbbbbbbb...)");
  for (char c : r) {
    const auto u = static_cast<unsigned char>(c);
    EXPECT_TRUE(u >= 0x20 && u < 0x7f) << static_cast<int>(u);
  }
  // A long path: head and tail kept, the line bounded.
  const std::string long_path = "/" + std::string(5000, 'd') + "/leaf.conf";
  const std::string lr = FindingReason(DigestFinding(long_path));
  EXPECT_LE(lr.size(), kMaxReasonBytes);
  EXPECT_NE(lr.find("file_digest: /ddd"), std::string::npos) << lr;
  EXPECT_NE(lr.find("ddd...ddd"), std::string::npos) << lr;
  EXPECT_NE(lr.find("ddd/leaf.conf: a measured file"), std::string::npos) << lr;
  // Escapes are never cut in half, whatever the length: every backslash
  // starts a complete \xNN.
  for (size_t n = 150; n < 260; ++n) {
    const std::string p = std::string(n, 'a') + std::string(300, '\n') + "tail";
    const std::string out = FindingReason(DigestFinding(p));
    EXPECT_LE(out.size(), kMaxReasonBytes);
    for (size_t i = out.find('\\'); i != std::string::npos; i = out.find('\\', i + 1)) {
      ASSERT_LE(i + 4, out.size()) << n << ": " << out;
      EXPECT_EQ(out.substr(i, 4), "\\x0a") << n << " at " << i << ": " << out;
    }
  }
  // A huge message is bounded too.
  attest::Finding big = DigestFinding("/p");
  big.message = std::string(10000, 'm');
  const std::string br = FindingReason(big);
  EXPECT_EQ(br.size(), kMaxReasonBytes);
  EXPECT_TRUE(br.ends_with("...")) << br;
}

}  // namespace
}  // namespace edgeward::cloud
