// A TPM that goes away and comes back.
#include <gtest/gtest.h>

#include "edgeward/tpm/ak.h"
#include "edgeward/tpm/ek.h"
#include "edgeward/tpm/info.h"
#include "edgeward/tpm/pcr.h"
#include "edgeward/tpm/quote.h"
#include "tpm_test_util.h"

namespace edgeward::tpm::test {
namespace {

using LifecycleTest = SwtpmTest;

TEST_F(LifecycleTest, StoppedTpmIsUnavailableAndAkBlobLoadsAfterRestart) {
  testing::TempDir tmp;
  const PcrSelection sel = *ParsePcrSelection("sha256:0-7");
  Bytes name;
  {
    auto ek = Ek::Open(tpm());
    ASSERT_TRUE(ek.ok()) << ek.status().ToString();
    auto ak = LoadOrCreateAk(*ek, tmp.path());
    ASSERT_TRUE(ak.ok()) << ak.status().ToString();
    name = ak->name();
    auto loaded = LoadedAk::Load(*ek, *ak);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();

    ASSERT_TRUE(swtpm().Stop().ok());
    auto pcrs = ReadPcrs(tpm(), sel);
    ASSERT_FALSE(pcrs.ok());
    EXPECT_EQ(pcrs.status().code(), StatusCode::kUnavailable) << pcrs.status().ToString();
    EXPECT_NE(pcrs.status().message().find("Esys_PCR_Read"), std::string::npos);
    auto q = CreateQuote(*loaded, Bytes(8, 1), sel);
    ASSERT_FALSE(q.ok());
    EXPECT_EQ(q.status().code(), StatusCode::kUnavailable) << q.status().ToString();
    auto reopened = Tpm::Open(swtpm().tcti());
    ASSERT_FALSE(reopened.ok());
    EXPECT_EQ(reopened.status().code(), StatusCode::kUnavailable) << reopened.status().ToString();
    // The loaded AK and EK are dropped here while the TPM is gone: no crash,
    // no hang.
  }
  tpm_.reset();

  ASSERT_TRUE(swtpm().Restart().ok());
  auto tpm2 = Tpm::Open(swtpm().tcti());
  ASSERT_TRUE(tpm2.ok()) << tpm2.status().ToString();
  auto ek = Ek::Open(*tpm2);
  ASSERT_TRUE(ek.ok()) << ek.status().ToString();
  auto ak = LoadOrCreateAk(*ek, tmp.path());
  ASSERT_TRUE(ak.ok()) << ak.status().ToString();
  EXPECT_EQ(HexEncode(ak->name()), HexEncode(name));
  auto q = CreateQuote(*ek, *ak, Bytes(8, 2), sel);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_TRUE(SignatureVerifies(ak->public_pem(), q->signature, q->attest));
  auto counts = CountHandles(*tpm2);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->transient_objects, 0u);
  EXPECT_EQ(counts->loaded_sessions, 0u);
}

TEST_F(LifecycleTest, TpmOutlivedByItsObjectsStaysUsableThroughThem) {
  auto ek = Ek::Open(tpm());
  ASSERT_TRUE(ek.ok());
  auto ak = CreateAk(*ek);
  ASSERT_TRUE(ak.ok());
  tpm_.reset();  // the EK keeps the connection open
  auto q = CreateQuote(*ek, *ak, Bytes(4, 9), *ParsePcrSelection("sha256:0"));
  EXPECT_TRUE(q.ok()) << q.status().ToString();
}

}  // namespace
}  // namespace edgeward::tpm::test
