// Write-once NV indices against swtpm: define, write, read back, lock; a
// locked index refuses every later write, also after a power cycle.
#include <gtest/gtest.h>

#include "edgeward/tpm/nv.h"
#include "edgeward/tpm/nv_counter.h"
#include "edgeward/tpm/nv_write.h"
#include "tpm_test_util.h"

namespace edgeward::tpm::test {
namespace {

using NvWriteTest = SwtpmTest;
constexpr uint32_t kIndex = 0x0100ed02;
constexpr uint32_t kTpmaNvWritten = 0x20000000;     // TPMA_NV_WRITTEN
constexpr uint32_t kTpmaNvWriteLocked = 0x00000800;  // TPMA_NV_WRITELOCKED

TEST_F(NvWriteTest, WrittenDataReadsBackWithTheRequestedAttributes) {
  ASSERT_TRUE(DefineNvIndex(tpm(), kIndex, 16, WriteOnceAttributes()).ok());
  EXPECT_EQ(ReadNv(tpm(), kIndex).status().code(), StatusCode::kFailedPrecondition);
  Bytes data = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  Status w = WriteNvIndex(tpm(), kIndex, data);
  ASSERT_TRUE(w.ok()) << w.ToString();
  auto read = ReadNv(tpm(), kIndex);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, data);
  auto pub = ReadNvPublic(tpm(), kIndex);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->attributes & ~kTpmaNvWritten, WriteOnceAttributes());
}

TEST_F(NvWriteTest, LockedIndexRefusesWritesEvenAfterPowerCycle) {
  ASSERT_TRUE(DefineNvIndex(tpm(), kIndex, 16, WriteOnceAttributes()).ok());
  Bytes data(16, 0xab);
  ASSERT_TRUE(WriteNvIndex(tpm(), kIndex, data).ok());
  Status lock = WriteLockNvIndex(tpm(), kIndex);
  ASSERT_TRUE(lock.ok()) << lock.ToString();
  Bytes other(16, 0x01);
  Status again = WriteNvIndex(tpm(), kIndex, other);
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition) << again.ToString();
  EXPECT_NE(again.message().find("write-locked"), std::string::npos) << again.ToString();

  // TPMA_NV_WRITEDEFINE: the lock outlives TPM2_Startup(CLEAR).
  tpm_.reset();
  ASSERT_TRUE(swtpm().Restart().ok());
  Reopen();
  auto pub = ReadNvPublic(tpm(), kIndex);
  ASSERT_TRUE(pub.ok());
  EXPECT_NE(pub->attributes & kTpmaNvWriteLocked, 0u);
  EXPECT_EQ(WriteNvIndex(tpm(), kIndex, other).code(), StatusCode::kFailedPrecondition);
  auto read = ReadNv(tpm(), kIndex);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, data);
}

TEST_F(NvWriteTest, BadArgumentsAndMissingIndex) {
  EXPECT_EQ(DefineNvIndex(tpm(), 0x81000001, 16, WriteOnceAttributes()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DefineNvIndex(tpm(), kIndex, 0, WriteOnceAttributes()).code(), StatusCode::kInvalidArgument);
  Bytes data(16, 1);
  EXPECT_EQ(WriteNvIndex(tpm(), kIndex, data).code(), StatusCode::kNotFound);
  EXPECT_EQ(WriteLockNvIndex(tpm(), kIndex).code(), StatusCode::kNotFound);
  ASSERT_TRUE(DefineNvIndex(tpm(), kIndex, 16, WriteOnceAttributes()).ok());
  EXPECT_EQ(DefineNvIndex(tpm(), kIndex, 16, WriteOnceAttributes()).code(), StatusCode::kAlreadyExists);
  Bytes too_big(17, 1);
  EXPECT_NE(WriteNvIndex(tpm(), kIndex, too_big).code(), StatusCode::kOk);
}

}  // namespace
}  // namespace edgeward::tpm::test
