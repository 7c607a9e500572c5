// Value syntaxes: sizes, CPU, paths, actions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edgeward/policy/capabilities.h"
#include "edgeward/policy/parse.h"

namespace edgeward::policy {
namespace {

using ::testing::HasSubstr;

TEST(ParseMemorySize, UnitsAndPlainBytes) {
  EXPECT_EQ(*ParseMemorySize("256Mi"), 256ULL << 20);
  EXPECT_EQ(*ParseMemorySize("1G"), 1000000000ULL);
  EXPECT_EQ(*ParseMemorySize("1Gi"), 1ULL << 30);
  EXPECT_EQ(*ParseMemorySize("512Ki"), 512ULL << 10);
  EXPECT_EQ(*ParseMemorySize("2k"), 2000ULL);
  EXPECT_EQ(*ParseMemorySize("1048576"), 1048576ULL);
  EXPECT_EQ(*ParseMemorySize("1Pi"), 1ULL << 50);
}

TEST(ParseMemorySize, RejectsBadSyntaxAndOverflow) {
  for (const char* bad : {"", "Mi", "1.5Gi", "-1", "1 Gi", "1GB", "0x10", "1iB"}) {
    auto v = ParseMemorySize(bad);
    EXPECT_FALSE(v.ok()) << bad;
    if (!v.ok()) {
      EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
    }
  }
  auto big = ParseMemorySize("20000000Ti");
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.status().message(), HasSubstr("too large"));
  EXPECT_FALSE(ParseMemorySize("99999999999999999999").ok());
}

TEST(ParseCpuMillis, DecimalsAndMillis) {
  EXPECT_EQ(*ParseCpuMillis("0.5"), 500u);
  EXPECT_EQ(*ParseCpuMillis("500m"), 500u);
  EXPECT_EQ(*ParseCpuMillis("2"), 2000u);
  EXPECT_EQ(*ParseCpuMillis("1.25"), 1250u);
  EXPECT_EQ(*ParseCpuMillis(".1"), 100u);
  EXPECT_EQ(*ParseCpuMillis("0.001"), 1u);
  EXPECT_EQ(*ParseCpuMillis("0"), 0u);  // syntactically fine; the validator rejects it
}

TEST(ParseCpuMillis, RejectsBadSyntax) {
  for (const char* bad : {"", ".", "1.", "m", "-1", "0.5m", "1e3", "half", "1.2.3", "99999999999"}) {
    EXPECT_FALSE(ParseCpuMillis(bad).ok()) << bad;
  }
  EXPECT_THAT(ParseCpuMillis("0.0001").status().message(), HasSubstr("at most three decimals"));
}

TEST(NormalizePolicyPath, NormalisesSlashesAndDots) {
  EXPECT_EQ(*NormalizePolicyPath("/"), "/");
  EXPECT_EQ(*NormalizePolicyPath("//"), "/");
  EXPECT_EQ(*NormalizePolicyPath("/usr/"), "/usr");
  EXPECT_EQ(*NormalizePolicyPath("//usr///lib/./x/"), "/usr/lib/x");
  EXPECT_EQ(*NormalizePolicyPath("/a/..b/c.."), "/a/..b/c..");
}

TEST(NormalizePolicyPath, RejectsRelativeDotDotAndControl) {
  EXPECT_THAT(NormalizePolicyPath("usr").status().message(), HasSubstr("not an absolute path"));
  EXPECT_THAT(NormalizePolicyPath("").status().message(), HasSubstr("not an absolute path"));
  EXPECT_THAT(NormalizePolicyPath("/usr/../etc").status().message(), HasSubstr("contains '..'"));
  EXPECT_THAT(NormalizePolicyPath("/..").status().message(), HasSubstr("contains '..'"));
  EXPECT_THAT(NormalizePolicyPath(std::string("/a\nb")).status().message(), HasSubstr("control character"));
  EXPECT_THAT(NormalizePolicyPath("/" + std::string(5000, 'a')).status().message(), HasSubstr("PATH_MAX"));
}

TEST(SeccompAction, ParseAndFormatRoundTrip) {
  EXPECT_EQ(*ParseSeccompAction("errno(EPERM)"), (SeccompAction{SeccompActionKind::kErrno, 1}));
  EXPECT_EQ(*ParseSeccompAction("errno(13)"), (SeccompAction{SeccompActionKind::kErrno, 13}));
  EXPECT_EQ(*ParseSeccompAction("errno"), (SeccompAction{SeccompActionKind::kErrno, 1}));
  EXPECT_EQ(ParseSeccompAction("kill")->kind, SeccompActionKind::kKillProcess);
  EXPECT_EQ(ParseSeccompAction("kill_thread")->kind, SeccompActionKind::kKillThread);
  EXPECT_EQ(ParseSeccompAction("notify")->kind, SeccompActionKind::kNotify);
  EXPECT_THAT(ParseSeccompAction("errno(0)").status().message(), HasSubstr("out of range [1, 4095]"));
  EXPECT_THAT(ParseSeccompAction("errno(4096)").status().message(), HasSubstr("out of range"));
  EXPECT_FALSE(ParseSeccompAction("errno()").ok());
  for (const char* s : {"errno(EACCES)", "errno(4000)", "kill_process", "kill_thread", "trap", "log", "notify", "allow"}) {
    auto a = ParseSeccompAction(s);
    ASSERT_TRUE(a.ok()) << s;
    EXPECT_EQ(FormatSeccompAction(*a), s);
  }
}

TEST(Capabilities, CanonicalNames) {
  EXPECT_EQ(CanonicalCapabilityName("net_bind_service"), "CAP_NET_BIND_SERVICE");
  EXPECT_EQ(CanonicalCapabilityName("Cap_Sys_Admin"), "CAP_SYS_ADMIN");
  EXPECT_EQ(CanonicalCapabilityName("CAP_CHECKPOINT_RESTORE"), "CAP_CHECKPOINT_RESTORE");
  EXPECT_EQ(CanonicalCapabilityName("CAP_FLY"), "");
  EXPECT_EQ(CapabilityNumber("CAP_SYS_ADMIN"), 21);
  EXPECT_EQ(CapabilityNumber("CAP_FLY"), std::nullopt);
}

}  // namespace
}  // namespace edgeward::policy
