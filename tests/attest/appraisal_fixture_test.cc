// Appraisal of quotes made by tpm2_quote (recorded from swtpm, in
// data/appraisal/): the genuine ones pass; each kind of tampering yields its
// own finding, and every failure is reported, not just the first.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "edgeward/attest/appraisal.h"
#include "edgeward/base/file.h"

namespace edgeward::attest {
namespace {

using crypto::HashAlg;

Bytes ReadData(const std::string& name) {
  auto s = ReadFileToString(std::string(APPRAISAL_TESTDATA) + "/" + name, 1 << 20);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? Bytes(s->begin(), s->end()) : Bytes();
}

const Bytes kEccNonce = *HexDecode("00112233445566778899aabbccddeeff");
const Bytes kRsaNonce = *HexDecode("deadbeef");

// prefix: "ecc" (sha256:0-3 + sha1:0,1) or "rsa" (sha256:0-23).
Evidence Fixture(const std::string& kind) {
  Evidence e;
  e.node_id = "node-1";
  e.collected_at = "2026-11-23T20:40:00Z";
  e.nonce = kind == "ecc" ? kEccNonce : kRsaNonce;
  e.quote_attest = ReadData("quote_" + kind + ".attest");
  e.quote_signature = ReadData("quote_" + kind + ".sig");
  e.ak_public = ReadData("ak_" + kind + ".pub");
  e.ak_name = ReadData("ak_" + kind + ".name");
  e.ak_public_pem = *PublicKeyPem(*DecodeTpm2bPublic(e.ak_public));
  // tpm2_quote -F values: the values in selection order.
  Bytes values = ReadData("quote_" + kind + ".pcrs");
  auto attest = DecodeTpmsAttest(e.quote_attest);
  size_t off = 0;
  for (const TpmsPcrSelection& b : attest->quote.pcr_select.banks) {
    const HashAlg alg = *HashFromTpm(b.hash_alg);
    const size_t n = crypto::DigestSize(alg);
    for (uint32_t pcr : b.Pcrs()) {
      e.pcrs[alg][pcr] = Bytes(values.begin() + off, values.begin() + off + n);
      off += n;
    }
  }
  EXPECT_EQ(off, values.size());
  EXPECT_TRUE(DecodeEvidenceWire(e).ok());
  return e;
}

Verdict AppraiseOk(const Evidence& e, ByteView nonce, const AppraisalOptions& o = {}) {
  auto v = Appraise(e, nonce, o);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? std::move(v).value() : Verdict{};
}

std::vector<std::string> FailedChecks(const Verdict& v) {
  std::vector<std::string> out;
  for (const Finding& f : v.findings) {
    if (f.severity == Severity::kFail) out.push_back(f.check);
  }
  return out;
}

bool Has(const Verdict& v, const std::string& check) {
  return std::any_of(v.findings.begin(), v.findings.end(), [&](const Finding& f) { return f.check == check; });
}

const Finding* Find(const Verdict& v, const std::string& check) {
  for (const Finding& f : v.findings) {
    if (f.check == check) return &f;
  }
  return nullptr;
}

TEST(AppraisalFixture, GenuineEcdsaQuotePasses) {
  AppraisalOptions o;
  o.expected_ak_name = Fixture("ecc").ak_name;  // the state advances only for a pinned AK
  Verdict v = AppraiseOk(Fixture("ecc"), kEccNonce, o);
  EXPECT_TRUE(v.pass) << FormatVerdictText(v);
  EXPECT_TRUE(v.signature_valid);
  EXPECT_TRUE(v.pcrs_verified);
  EXPECT_EQ(v.verified_pcrs.at(HashAlg::kSha1).size(), 2u);
  ASSERT_TRUE(v.state.has_value());
  EXPECT_EQ(v.state->reset_count, Fixture("ecc").attest.clock_info.reset_count);
}

TEST(AppraisalFixture, GenuineRsassaQuotePasses) {
  Verdict v = AppraiseOk(Fixture("rsa"), kRsaNonce);
  EXPECT_TRUE(v.pass) << FormatVerdictText(v);
  EXPECT_EQ(v.verified_pcrs.at(HashAlg::kSha256).size(), 24u);
}

TEST(AppraisalFixture, FlippedBitInAttestBreaksTheSignature) {
  Evidence e = Fixture("ecc");
  e.quote_attest[70] ^= 0x01;  // inside clockInfo.resetCount: still decodes
  ASSERT_TRUE(DecodeEvidenceWire(e).ok());
  Verdict v = AppraiseOk(e, kEccNonce);
  EXPECT_FALSE(v.pass);
  EXPECT_EQ(FailedChecks(v), std::vector<std::string>{"signature"}) << FormatVerdictText(v);
  EXPECT_FALSE(v.pcrs_verified);
  EXPECT_FALSE(v.state.has_value()) << "unverified counters must not become state";
}

TEST(AppraisalFixture, FlippedBitInSignatureIsReported) {
  for (const char* kind : {"ecc", "rsa"}) {
    Evidence e = Fixture(kind);
    e.quote_signature[e.quote_signature.size() - 1] ^= 0x80;
    ASSERT_TRUE(DecodeEvidenceWire(e).ok());
    Verdict v = AppraiseOk(e, kind == std::string("ecc") ? kEccNonce : kRsaNonce);
    EXPECT_EQ(FailedChecks(v), std::vector<std::string>{"signature"}) << kind << "\n" << FormatVerdictText(v);
  }
}

TEST(AppraisalFixture, AlteredPcrValueFailsThePcrDigest) {
  Evidence e = Fixture("ecc");
  e.pcrs[HashAlg::kSha256][2][5] ^= 0x01;
  Verdict v = AppraiseOk(e, kEccNonce);
  EXPECT_EQ(FailedChecks(v), std::vector<std::string>{"pcr_digest"}) << FormatVerdictText(v);
  const Finding* f = Find(v, "pcr_digest");
  EXPECT_EQ(f->expected, HexEncode(e.attest.quote.pcr_digest));
  EXPECT_FALSE(v.pcrs_verified);
}

TEST(AppraisalFixture, WrongNonceIsRejected) {
  Evidence e = Fixture("ecc");
  Bytes other = kEccNonce;
  other[0] ^= 1;
  Verdict v = AppraiseOk(e, other);
  std::vector<std::string> want = {"nonce", "evidence_nonce"};
  EXPECT_EQ(FailedChecks(v), want) << FormatVerdictText(v);
  EXPECT_EQ(Find(v, "nonce")->expected, HexEncode(other));
  EXPECT_EQ(Find(v, "nonce")->actual, HexEncode(kEccNonce));
  EXPECT_FALSE(v.state.has_value());
}

// CVE-2024-29039 shape: a PCR reported outside the signed selection must not
// be believed, even though pcrDigest over the selected ones still matches.
TEST(AppraisalFixture, ExtraPcrOutsideTheSelectionIsRejected) {
  Evidence e = Fixture("ecc");
  e.pcrs[HashAlg::kSha256][7] = Bytes(32, 0xab);
  Verdict v = AppraiseOk(e, kEccNonce);
  EXPECT_EQ(FailedChecks(v), std::vector<std::string>{"pcr_selection"}) << FormatVerdictText(v);
  const Finding* f = Find(v, "pcr_selection");
  EXPECT_EQ(f->pcr, 7u);
  EXPECT_EQ(f->bank, HashAlg::kSha256);
  EXPECT_FALSE(v.verified_pcrs.at(HashAlg::kSha256).count(7));
}

TEST(AppraisalFixture, ExtraBankOutsideTheSelectionIsRejected) {
  Evidence e = Fixture("rsa");
  e.pcrs[HashAlg::kSha1][0] = Bytes(20, 0);
  Verdict v = AppraiseOk(e, kRsaNonce);
  EXPECT_EQ(FailedChecks(v), std::vector<std::string>{"pcr_selection"}) << FormatVerdictText(v);
}

TEST(AppraisalFixture, MissingPcrIsRejected) {
  Evidence e = Fixture("ecc");
  e.pcrs[HashAlg::kSha1].erase(1);
  Verdict v = AppraiseOk(e, kEccNonce);
  std::vector<std::string> want = {"pcr_selection", "pcr_digest"};
  EXPECT_EQ(FailedChecks(v), want) << FormatVerdictText(v);
  EXPECT_EQ(Find(v, "pcr_selection")->pcr, 1u);
}

TEST(AppraisalFixture, DifferentAkFailsSignatureAndIdentity) {
  Evidence e = Fixture("ecc");
  Evidence other = Fixture("rsa");
  e.ak_public = other.ak_public;
  e.ak_public_pem = other.ak_public_pem;
  e.ak_name = other.ak_name;
  ASSERT_TRUE(DecodeEvidenceWire(e).ok());
  AppraisalOptions o;
  o.expected_ak_name = ReadData("ak_ecc.name");
  Verdict v = AppraiseOk(e, kEccNonce, o);
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(Has(v, "ak_identity")) << FormatVerdictText(v);
  EXPECT_TRUE(Has(v, "signature")) << FormatVerdictText(v);
  EXPECT_FALSE(v.signature_valid);
}

TEST(AppraisalFixture, InconsistentAkNameAndPemAreReported) {
  Evidence e = Fixture("ecc");
  e.ak_name.back() ^= 1;
  e.ak_public_pem = Fixture("rsa").ak_public_pem;
  Verdict v = AppraiseOk(e, kEccNonce);
  std::vector<std::string> want = {"ak_name", "ak_pem"};
  EXPECT_EQ(FailedChecks(v), want) << FormatVerdictText(v);
  e.ak_public_pem = "garbage";
  v = AppraiseOk(e, kEccNonce);
  EXPECT_TRUE(Has(v, "ak_pem"));
}

TEST(AppraisalFixture, EveryFailureIsReportedNotJustTheFirst) {
  Evidence e = Fixture("ecc");
  e.quote_signature[10] ^= 1;             // signature
  e.pcrs[HashAlg::kSha1][0][0] ^= 1;      // pcr digest
  e.pcrs[HashAlg::kSha256][9] = Bytes(32, 0);  // outside the selection
  e.ak_name.back() ^= 1;                  // name
  ASSERT_TRUE(DecodeEvidenceWire(e).ok());
  Bytes wrong(4, 0);
  Verdict v = AppraiseOk(e, wrong);
  for (const char* c : {"ak_name", "signature", "nonce", "evidence_nonce", "pcr_selection", "pcr_digest"}) {
    EXPECT_TRUE(Has(v, c)) << c << "\n" << FormatVerdictText(v);
  }
}

TEST(AppraisalFixture, CountersGoingBackwardsAreDetected) {
  Evidence e = Fixture("ecc");
  const TpmsClockInfo c = e.attest.clock_info;
  AppraisalOptions o;
  o.expected_ak_name = e.ak_name;
  o.previous = AppraisalState{e.ak_name, c.clock + 1000, c.reset_count, c.restart_count};
  Verdict v = AppraiseOk(e, kEccNonce, o);
  EXPECT_EQ(FailedChecks(v), std::vector<std::string>{"clock"}) << FormatVerdictText(v);

  o.previous = AppraisalState{e.ak_name, 0, c.reset_count + 1, 0};
  v = AppraiseOk(e, kEccNonce, o);
  EXPECT_EQ(FailedChecks(v), std::vector<std::string>{"clock"});
  EXPECT_NE(Find(v, "clock")->message.find("resetCount went backwards"), std::string::npos);

  // A reset since the last appraisal is a fact, not a failure.
  ASSERT_GT(c.reset_count, 0u);
  o.previous = AppraisalState{e.ak_name, c.clock - 1, c.reset_count - 1, 5};
  v = AppraiseOk(e, kEccNonce, o);
  EXPECT_TRUE(v.pass) << FormatVerdictText(v);
  ASSERT_TRUE(Has(v, "reset"));
  EXPECT_EQ(Find(v, "reset")->severity, Severity::kInfo);

  // Across a reset the clock may only fall back when the TPM says it is not
  // safe; this quote says safe.
  ASSERT_TRUE(c.safe);
  o.previous = AppraisalState{e.ak_name, c.clock + 1000, c.reset_count - 1, 0};
  v = AppraiseOk(e, kEccNonce, o);
  EXPECT_EQ(FailedChecks(v), std::vector<std::string>{"clock"}) << FormatVerdictText(v);

  // The state moves forward.
  o.previous = AppraisalState{e.ak_name, 1, c.reset_count, c.restart_count};
  v = AppraiseOk(e, kEccNonce, o);
  EXPECT_TRUE(v.pass);
  EXPECT_EQ(v.state->clock, c.clock);
}

TEST(AppraisalFixture, GoldenPcrsAreCompared) {
  Evidence e = Fixture("ecc");
  ReferenceValues ref;
  ref.pcrs[HashAlg::kSha256][0] = e.pcrs[HashAlg::kSha256][0];
  ref.pcrs[HashAlg::kSha256][1] = Bytes(32, 0x11);
  ref.pcrs[HashAlg::kSha256][8] = Bytes(32, 0x22);  // not quoted
  AppraisalOptions o;
  o.reference = &ref;
  Verdict v = AppraiseOk(e, kEccNonce, o);
  std::vector<std::string> want = {"golden_pcr", "golden_pcr"};
  EXPECT_EQ(FailedChecks(v), want) << FormatVerdictText(v);
  EXPECT_EQ(v.findings[0].pcr, 1u);
  EXPECT_EQ(v.findings[0].expected, std::string(64, '1'));
  EXPECT_EQ(v.findings[1].pcr, 8u);
}

TEST(AppraisalFixture, NodeIdIsComparedWhenPinned) {
  Evidence e = Fixture("ecc");
  ReferenceValues ref;
  ref.node_id = "node-2";
  AppraisalOptions o;
  o.reference = &ref;
  Verdict v = AppraiseOk(e, kEccNonce, o);
  EXPECT_EQ(FailedChecks(v), std::vector<std::string>{"node_id"});
}

TEST(AppraisalFixture, VerdictFormats) {
  Evidence e = Fixture("ecc");
  e.pcrs[HashAlg::kSha256][7] = Bytes(32, 0xab);
  Verdict v = AppraiseOk(e, kEccNonce);
  std::string text = FormatVerdictText(v);
  EXPECT_NE(text.find("FAIL pcr_selection: bank sha256 PCR 7 — "), std::string::npos) << text;
  EXPECT_NE(text.find("verdict: FAIL (1 failure, 0 warnings)"), std::string::npos) << text;
  std::string json = FormatVerdictJson(v);
  EXPECT_NE(json.find("\"check\": \"pcr_selection\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"pcr\": 7"), std::string::npos) << json;
  EXPECT_NE(json.find("\"pass\": false"), std::string::npos) << json;
}

TEST(AppraisalFixture, StateRoundTrips) {
  AppraisalState s{Bytes{0, 0xb, 1, 2}, 123456789012ull, 7, 3};
  auto back = DecodeAppraisalState(EncodeAppraisalState(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, s);
  EXPECT_FALSE(DecodeAppraisalState("{\"clock\": -1}").ok());
}

TEST(AppraisalFixture, EmptyExpectedNonceIsAnError) {
  auto v = Appraise(Fixture("ecc"), {}, {});
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
}

TEST(AppraisalFixture, ReferenceFromEvidenceTakesTheQuotedPcrs) {
  auto ref = ReferenceFromEvidence(Fixture("ecc"));
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->pcrs.at(HashAlg::kSha256).size(), 4u);
  EXPECT_EQ(ref->pcrs.at(HashAlg::kSha1).size(), 2u);
  Evidence bad = Fixture("ecc");
  bad.pcrs[HashAlg::kSha256][9] = Bytes(32, 0);
  auto r = ReferenceFromEvidence(bad);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("pcr_selection"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace edgeward::attest
