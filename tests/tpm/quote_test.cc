// Quotes: signature, nonce, PCR digest, and 10,000 quotes without leaks.
#include "edgeward/tpm/quote.h"

#include <gtest/gtest.h>

#include "edgeward/crypto/hash.h"
#include "edgeward/tpm/ak.h"
#include "edgeward/tpm/ek.h"
#include "edgeward/tpm/info.h"
#include "edgeward/tpm/pcr.h"
#include "tpm_test_util.h"

namespace edgeward::tpm::test {
namespace {

using crypto::HashAlg;

class QuoteTest : public SwtpmTest {
 protected:
  void SetUp() override {
    SwtpmTest::SetUp();
    if (HasFatalFailure()) return;
    auto ek = Ek::Open(tpm());
    ASSERT_TRUE(ek.ok()) << ek.status().ToString();
    ek_.emplace(std::move(*ek));
  }
  void TearDown() override { ek_.reset(); }

  Ak MakeAk(AkAlgorithm alg = AkAlgorithm::kEccP256) {
    auto ak = CreateAk(*ek_, {.algorithm = alg});
    EXPECT_TRUE(ak.ok()) << ak.status().ToString();
    return *ak;
  }

  std::optional<Ek> ek_;
};

const Bytes kNonce = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};

Bytes ExpectedPcrDigest(const ParsedQuote& q, const PcrValues& pcrs) {
  crypto::Hasher h(HashAlg::kSha256);
  for (const auto& [alg, indices] : q.selection) {
    for (uint32_t i : indices) h.Update(pcrs.at(*crypto::HashAlgFromTpmId(alg)).at(i));
  }
  return h.Finish();
}

TEST_F(QuoteTest, EccQuoteSignatureVerifiesWithAkPemOverAttestBytes) {
  Ak ak = MakeAk();
  auto q = CreateQuote(*ek_, ak, kNonce, *ParsePcrSelection("sha256:0-9"));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_TRUE(SignatureVerifies(ak.public_pem(), q->signature, q->attest));
  Bytes tampered = q->attest;
  tampered.back() ^= 1;
  EXPECT_FALSE(SignatureVerifies(ak.public_pem(), q->signature, tampered));
}

TEST_F(QuoteTest, RsaQuoteSignatureVerifiesWithAkPem) {
  Ak ak = MakeAk(AkAlgorithm::kRsa2048);
  auto q = CreateQuote(*ek_, ak, kNonce, *ParsePcrSelection("sha256:0-9"));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->signature[1], 0x14);  // TPM_ALG_RSASSA
  EXPECT_TRUE(SignatureVerifies(ak.public_pem(), q->signature, q->attest));
}

TEST_F(QuoteTest, AttestCarriesMagicNonceSelectionAndDigestOfReturnedPcrs) {
  Ak ak = MakeAk();
  // Make the PCRs non-trivial first.
  ASSERT_TRUE(ExtendPcr(tpm(), 9, {{HashAlg::kSha1, Bytes(20, 7)}, {HashAlg::kSha256, Bytes(32, 7)}}).ok());
  auto q = CreateQuote(*ek_, ak, kNonce, *ParsePcrSelection("sha1:0,9+sha256:0-9,16"));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ParsedQuote p = ParseQuote(q->attest);
  EXPECT_EQ(p.magic, 0xff544347u);  // TPM_GENERATED_VALUE
  EXPECT_EQ(p.type, 0x8018);        // TPM_ST_ATTEST_QUOTE
  EXPECT_EQ(p.extra_data, kNonce);
  ASSERT_EQ(p.selection.size(), 2u);
  EXPECT_EQ(p.selection[0].first, 0x0004);
  EXPECT_EQ(p.selection[0].second, (std::vector<uint32_t>{0, 9}));
  EXPECT_EQ(p.selection[1].first, 0x000B);
  EXPECT_EQ(p.selection[1].second, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16}));
  EXPECT_EQ(SelectionOf(q->pcrs), *ParsePcrSelection("sha1:0,9+sha256:0-9,16"));
  EXPECT_EQ(HexEncode(p.pcr_digest), HexEncode(ExpectedPcrDigest(p, q->pcrs)));
  Bytes pcr9(32, 0);
  crypto::ExtendInPlace(HashAlg::kSha256, pcr9, Bytes(32, 7));
  EXPECT_EQ(q->pcrs.at(HashAlg::kSha256).at(9), pcr9);
}

TEST_F(QuoteTest, LoadedAkQuotesManyTimesWithFreshNonces) {
  Ak ak = MakeAk();
  auto loaded = LoadedAk::Load(*ek_, ak);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  for (uint8_t i = 0; i < 20; ++i) {
    Bytes nonce(32, i);
    auto q = CreateQuote(*loaded, nonce, *ParsePcrSelection("sha256:0-7"));
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    EXPECT_EQ(ParseQuote(q->attest).extra_data, nonce);
  }
  auto counts = CountHandles(tpm());
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->transient_objects, 1u);  // the loaded AK
  EXPECT_EQ(counts->loaded_sessions, 0u);
}

TEST_F(QuoteTest, NonceOf64BytesIsAcceptedAnd65Rejected) {
  Ak ak = MakeAk();
  EXPECT_TRUE(CreateQuote(*ek_, ak, Bytes(64, 1), *ParsePcrSelection("sha256:0")).ok());
  auto r = CreateQuote(*ek_, ak, Bytes(65, 1), *ParsePcrSelection("sha256:0"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(QuoteTest, EmptySelectionAndInactiveBankAreInvalidArgument) {
  Ak ak = MakeAk();
  EXPECT_EQ(CreateQuote(*ek_, ak, kNonce, PcrSelection{}).status().code(), StatusCode::kInvalidArgument);
  auto r = CreateQuote(*ek_, ak, kNonce, *ParsePcrSelection("sha384:0"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
}

}  // namespace
}  // namespace edgeward::tpm::test
