#include "edgeward/base/status.h"

#include <gtest/gtest.h>

#include "edgeward/base/errno_status.h"

namespace edgeward {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Status Chain(int x, int* out) {
  EW_ASSIGN_OR_RETURN(int h, Half(x));
  EW_ASSIGN_OR_RETURN(*out, Half(h));
  return Status::Ok();
}

TEST(StatusTest, AssignOrReturnPropagatesTheFirstError) {
  int out = 0;
  EXPECT_TRUE(Chain(8, &out).ok());
  EXPECT_EQ(out, 2);
  Status s = Chain(6, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "odd: 3");
  EXPECT_EQ(s.ToString(), "INVALID_ARGUMENT: odd: 3");
}

TEST(StatusTest, WithContextKeepsCodeAndPrefixesMessage) {
  Status s = NotFound("no such key").WithContext("ak.blob");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "ak.blob: no such key");
}

TEST(StatusTest, ErrnoStatusNamesTheCallAndMapsTheCode) {
  Status s = ErrnoStatus("open", "/nope", ENOENT);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "open(/nope): No such file or directory");
  EXPECT_EQ(ErrnoStatus("write", "x", ENOSPC).code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace edgeward
