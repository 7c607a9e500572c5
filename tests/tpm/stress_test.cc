// 10,000 load/quote/flush cycles against a TPM without a resource manager:
// nothing may stay behind in the TPM's object or session slots.
#include <gtest/gtest.h>

#include "edgeward/tpm/ak.h"
#include "edgeward/tpm/ek.h"
#include "edgeward/tpm/info.h"
#include "edgeward/tpm/quote.h"
#include "tpm_test_util.h"

namespace edgeward::tpm::test {
namespace {

using StressTest = SwtpmTest;

TEST_F(StressTest, TenThousandLoadQuoteFlushCyclesLeaveNoHandlesBehind) {
  auto ek_or = Ek::Open(tpm());
  ASSERT_TRUE(ek_or.ok()) << ek_or.status().ToString();
  const Ek& ek = *ek_or;
  testing::TempDir tmp;
  {
    auto created = LoadOrCreateAk(ek, tmp.path());
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  const PcrSelection sel = *ParsePcrSelection("sha256:0-9");
  for (int i = 0; i < 10000; ++i) {
    // Each cycle reads the blob, loads the AK under the EK (with a policy
    // session), quotes, and flushes.
    auto ak = LoadOrCreateAk(ek, tmp.path());
    ASSERT_TRUE(ak.ok()) << "cycle " << i << ": " << ak.status().ToString();
    Bytes nonce(8);
    for (int b = 0; b < 4; ++b) nonce[b] = static_cast<uint8_t>(i >> (8 * b));
    auto q = CreateQuote(ek, *ak, nonce, sel);
    ASSERT_TRUE(q.ok()) << "cycle " << i << ": " << q.status().ToString();
  }
  auto counts = CountHandles(tpm());
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(counts->transient_objects, 0u);
  EXPECT_EQ(counts->loaded_sessions, 0u);
  EXPECT_EQ(counts->saved_sessions, 0u);
}

}  // namespace
}  // namespace edgeward::tpm::test
