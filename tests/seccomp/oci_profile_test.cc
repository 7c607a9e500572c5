#include "edgeward/seccomp/oci_profile.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace edgeward::seccomp {
namespace {

constexpr const char* kPodman = "/usr/share/containers/seccomp.json";

OciImportOptions X86(std::vector<std::string> caps = {}) {
  OciImportOptions o;
  o.arch = Arch::kX86_64;
  o.capabilities = std::move(caps);
  o.kernel_release = "6.1.0";
  return o;
}

bool Names(const OciProfile& p, const std::string& name) {
  return std::any_of(p.rules.begin(), p.rules.end(), [&](const policy::SyscallRule& r) {
    return std::find(r.names.begin(), r.names.end(), name) != r.names.end() &&
           r.action.kind == policy::SeccompActionKind::kAllow;
  });
}

void ExpectError(std::string_view json, const std::string& substring) {
  auto p = ParseOciProfile(json, "p.json", X86());
  ASSERT_FALSE(p.ok()) << json;
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find(substring), std::string::npos) << p.status().message();
}

TEST(OciProfileTest, ErrorsNameTheFileAndTheJsonPath) {
  ExpectError(R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},
                 {"names":["write"],"action":"SCMP_ACT_FOO"}]})",
              "p.json: syscalls[1].action: unknown action 'SCMP_ACT_FOO'");
  ExpectError(R"({"syscalls":[]})", "p.json: defaultAction: missing");
  ExpectError(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO",
                 "args":[{"index":7,"value":1,"op":"SCMP_CMP_EQ"}]}]})",
              "p.json: syscalls[0].args[0].index: argument index 7");
  ExpectError(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO",
                 "args":[{"index":0,"value":1,"op":"SCMP_CMP_SORTA"}]}]})",
              "p.json: syscalls[0].args[0].op: unknown operator 'SCMP_CMP_SORTA'");
  ExpectError(R"({"defaultAction":"SCMP_ACT_ALLOW","sycsalls":[]})", "p.json: sycsalls: unknown key 'sycsalls'");
  ExpectError(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":{}})", "p.json: syscalls: expected an array");
  ExpectError(R"({"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_Z80"]})",
              "p.json: architectures[0]: unknown architecture 'SCMP_ARCH_Z80'");
  ExpectError(R"({"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":5000})", "defaultErrnoRet: errno 5000");
  ExpectError(R"({"defaultAction":"SCMP_ACT_TRACE"})", "SCMP_ACT_TRACE' is not supported");
  ExpectError(R"([1,2])", "p.json: : expected an object");
}

TEST(OciProfileTest, SyntaxErrorsCarryLineAndColumn) {
  ExpectError("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": [,]\n}", "p.json:3:16: not JSON");
}

TEST(OciProfileTest, MaskedEqTakesTheMaskFromValueAndTheDatumFromValueTwo) {
  auto p = ParseOciProfile(R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["clone"],"action":"SCMP_ACT_ALLOW",
      "args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]}]})",
                           "p.json", X86());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->rules.size(), 1u);
  ASSERT_EQ(p->rules[0].args.size(), 1u);
  EXPECT_EQ(p->rules[0].args[0].mask, 2114060288u);
  EXPECT_EQ(p->rules[0].args[0].value, 0u);
  EXPECT_EQ(p->rules[0].where.file, "p.json: syscalls[0]");
}

TEST(OciProfileTest, UnknownSyscallNamesAreSkippedAndCounted) {
  auto p = ParseOciProfile(R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","frobnicate_2031","arm_fadvise64_64"],
      "action":"SCMP_ACT_ALLOW"}]})",
                           "p.json", X86());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  // arm_fadvise64_64 is 32-bit ARM only: unknown for x86_64 and aarch64.
  EXPECT_EQ(p->unknown_syscalls, (std::vector<std::string>{"arm_fadvise64_64", "frobnicate_2031"}));
  ASSERT_EQ(p->rules.size(), 1u);
  EXPECT_EQ(p->rules[0].names, std::vector<std::string>{"read"});
  OciImportOptions arm = X86();
  arm.arch = Arch::kAarch64;
  auto a = ParseOciProfile(R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","open"],
      "action":"SCMP_ACT_ALLOW"}]})",
                           "p.json", arm);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->other_arch_syscalls, std::vector<std::string>{"open"});  // x86_64 only
}

TEST(OciProfileTest, PodmanProfileLoadsWithItsErrnoDefault) {
  auto p = LoadOciProfile(kPodman, X86());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->default_action.kind, policy::SeccompActionKind::kErrno);
  EXPECT_EQ(p->default_action.errno_value, 38);  // defaultErrnoRet: ENOSYS
  EXPECT_TRUE(Names(*p, "openat"));
  EXPECT_TRUE(Names(*p, "arch_prctl"));  // includes.arches amd64
  EXPECT_FALSE(Names(*p, "kcmp"));       // only with CAP_SYS_PTRACE
  EXPECT_GT(p->rules.size(), 10u);
}

TEST(OciProfileTest, CapabilitiesSelectIncludesAndExcludes) {
  auto without = LoadOciProfile(kPodman, X86());
  auto with = LoadOciProfile(kPodman, X86({"CAP_SYS_PTRACE", "CAP_SYS_CHROOT"}));
  ASSERT_TRUE(without.ok() && with.ok());
  EXPECT_FALSE(Names(*without, "chroot"));
  EXPECT_TRUE(Names(*with, "chroot"));
  EXPECT_TRUE(Names(*with, "kcmp"));
  EXPECT_FALSE(Names(*without, "kcmp"));
}

TEST(OciProfileTest, ArchIncludesFollowTheTargetArch) {
  OciImportOptions arm = X86();
  arm.arch = Arch::kAarch64;
  auto p = LoadOciProfile(kPodman, arm);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(Names(*p, "arch_prctl"));
  EXPECT_TRUE(Names(*p, "openat"));
}

TEST(OciProfileTest, MinKernelComparesVersions) {
  const char* json = R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["ptrace"],"action":"SCMP_ACT_ALLOW",
      "includes":{"minKernel":"4.8"}}]})";
  OciImportOptions old = X86();
  old.kernel_release = "4.4.0-210-generic";
  EXPECT_TRUE(ParseOciProfile(json, "p.json", X86())->rules.size() == 1);
  EXPECT_TRUE(ParseOciProfile(json, "p.json", old)->rules.empty());
}

TEST(OciProfileTest, ShippedProfilesAreEmbeddedAndParse) {
  for (const char* name : {"baseline", "strict"}) {
    auto p = ShippedProfile(name, X86());
    ASSERT_TRUE(p.ok()) << name << ": " << p.status().ToString();
    EXPECT_TRUE(p->unknown_syscalls.empty()) << name;
    EXPECT_TRUE(Names(*p, "read")) << name;
    EXPECT_FALSE(Names(*p, "ptrace")) << name;
  }
  EXPECT_EQ(ShippedProfile("nope", X86()).status().code(), StatusCode::kNotFound);
}

TEST(OciProfileTest, MissingFileIsNotFound) {
  auto p = LoadOciProfile("/nonexistent/profile.json", X86());
  EXPECT_EQ(p.status().code(), StatusCode::kNotFound);
  EXPECT_NE(p.status().message().find("/nonexistent/profile.json"), std::string::npos);
}

}  // namespace
}  // namespace edgeward::seccomp
