// NV monotonic counters against swtpm: define, increment, read, survive a
// power cycle, and never go backwards — not even across undefine/redefine.
#include <gtest/gtest.h>

#include "edgeward/tpm/nv.h"
#include "edgeward/tpm/nv_counter.h"
#include "tpm_test_util.h"

namespace edgeward::tpm::test {
namespace {

using NvCounterTest = SwtpmTest;
constexpr uint32_t kIndex = 0x0100ed01;
constexpr uint32_t kTpmaNvWritten = 0x20000000;  // TPMA_NV_WRITTEN, TPM 2.0 Part 2, 13.4

TEST_F(NvCounterTest, NewCounterReadsAsNeverWrittenThenCountsUp) {
  ASSERT_TRUE(DefineNvCounter(tpm(), kIndex).ok());
  auto unread = ReadNvCounter(tpm(), kIndex);
  EXPECT_EQ(unread.status().code(), StatusCode::kFailedPrecondition) << unread.status().ToString();

  auto first = IncrementNvCounter(tpm(), kIndex);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = IncrementNvCounter(tpm(), kIndex);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, *first + 1);
  auto read = ReadNvCounter(tpm(), kIndex);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, *second);

  auto pub = ReadNvPublic(tpm(), kIndex);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->attributes & ~kTpmaNvWritten, CounterAttributes());
}

TEST_F(NvCounterTest, DefiningTwiceIsAlreadyExists) {
  ASSERT_TRUE(DefineNvCounter(tpm(), kIndex).ok());
  Status again = DefineNvCounter(tpm(), kIndex);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
}

TEST_F(NvCounterTest, UndefinedIndexIsNotFound) {
  EXPECT_EQ(ReadNvCounter(tpm(), kIndex).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(IncrementNvCounter(tpm(), kIndex).status().code(), StatusCode::kNotFound);
}

TEST_F(NvCounterTest, NonNvHandleIsInvalidArgument) {
  EXPECT_EQ(DefineNvCounter(tpm(), 0x81000001).code(), StatusCode::kInvalidArgument);
}

TEST_F(NvCounterTest, ValueSurvivesPowerCycle) {
  ASSERT_TRUE(DefineNvCounter(tpm(), kIndex).ok());
  uint64_t last = 0;
  for (int i = 0; i < 5; ++i) {
    auto v = IncrementNvCounter(tpm(), kIndex);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    last = *v;
  }
  tpm_.reset();
  ASSERT_TRUE(swtpm().Restart().ok());
  Reopen();
  auto after = ReadNvCounter(tpm(), kIndex);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, last);
}

TEST_F(NvCounterTest, RedefinedCounterDoesNotGoBackwards) {
  ASSERT_TRUE(DefineNvCounter(tpm(), kIndex).ok());
  uint64_t high = 0;
  for (int i = 0; i < 10; ++i) {
    auto v = IncrementNvCounter(tpm(), kIndex);
    ASSERT_TRUE(v.ok());
    high = *v;
  }
  ASSERT_TRUE(UndefineNvIndex(tpm(), kIndex).ok());
  EXPECT_EQ(ReadNvCounter(tpm(), kIndex).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(DefineNvCounter(tpm(), kIndex).ok());
  auto v = IncrementNvCounter(tpm(), kIndex);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  // TPM 2.0 Part 1, 31.3.1: a new counter starts at the highest count any
  // counter has held on this TPM.
  EXPECT_GE(*v, high);
}

TEST_F(NvCounterTest, OrdinaryIndexIsNotACounter) {
  tpm_.reset();
  const std::string tcti = " -T '" + swtpm().tcti() + "'";
  auto def = ::edgeward::testing::RunCommand("tpm2_nvdefine" + tcti +
                                            " -C o -s 8 -a 'ownerread|ownerwrite|authread' 0x0100ed02");
  ASSERT_EQ(def.exit_code, 0) << def.output;
  Reopen();
  auto r = ReadNvCounter(tpm(), 0x0100ed02);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
}

}  // namespace
}  // namespace edgeward::tpm::test
