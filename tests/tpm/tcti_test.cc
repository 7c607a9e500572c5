#include "edgeward/tpm/tcti.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace edgeward::tpm {
namespace {

auto Exists(std::set<std::string> paths) {
  return [paths](const std::string& p) { return paths.count(p) > 0; };
}

TEST(ResolveTcti, EmptyConfigPrefersTpmrm0) {
  auto t = ResolveTcti("", Exists({"/dev/tpmrm0", "/dev/tpm0"}));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->ToString(), "device:/dev/tpmrm0");
}

TEST(ResolveTcti, EmptyConfigFallsBackToTpm0) {
  auto t = ResolveTcti("", Exists({"/dev/tpm0"}));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->ToString(), "device:/dev/tpm0");
}

TEST(ResolveTcti, NoDeviceIsNotFoundAndTellsUserToPassTcti) {
  auto t = ResolveTcti("", Exists({}));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_NE(t.status().message().find("--tcti"), std::string::npos);
  EXPECT_NE(t.status().message().find("swtpm:host=127.0.0.1,port=2321"), std::string::npos);
}

TEST(ResolveTcti, DeviceWithoutPathAutoDetects) {
  auto t = ResolveTcti("device:", Exists({"/dev/tpm0"}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->ToString(), "device:/dev/tpm0");
}

TEST(ResolveTcti, ExplicitDeviceIsKept) {
  auto t = ResolveTcti("device:/dev/tpmrm0", Exists({"/dev/tpmrm0"}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->name, "device");
  EXPECT_EQ(t->conf, "/dev/tpmrm0");
}

TEST(ResolveTcti, MissingDeviceIsNotFound) {
  auto t = ResolveTcti("device:/dev/tpmrm7", Exists({"/dev/tpmrm0"}));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_NE(t.status().message().find("/dev/tpmrm7"), std::string::npos);
}

TEST(ResolveTcti, RelativeDevicePathIsInvalid) {
  EXPECT_EQ(ResolveTcti("device:tpm0", Exists({})).status().code(), StatusCode::kInvalidArgument);
}

TEST(ResolveTcti, SwtpmHostAndPortAreParsed) {
  auto t = ResolveTcti("swtpm:host=127.0.0.1,port=2321", Exists({}));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->name, "swtpm");
  EXPECT_EQ(t->conf, "host=127.0.0.1,port=2321");
  EXPECT_EQ(t->ToString(), "swtpm:host=127.0.0.1,port=2321");
}

TEST(ResolveTcti, MssimWithDefaultsIsAccepted) {
  auto t = ResolveTcti("mssim:", Exists({}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->ToString(), "mssim");
  EXPECT_TRUE(ResolveTcti("mssim:port=2321", Exists({})).ok());
}

TEST(ResolveTcti, BadPortIsInvalidArgumentNamingThePort) {
  for (const char* bad : {"swtpm:port=0", "swtpm:port=65536", "swtpm:port=23x", "swtpm:port="}) {
    auto t = ResolveTcti(bad, Exists({}));
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(t.status().message().find("port"), std::string::npos) << bad;
  }
}

TEST(ResolveTcti, UnknownSocketKeyIsInvalidArgument) {
  auto t = ResolveTcti("swtpm:host=localhost,prot=2321", Exists({}));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("'prot'"), std::string::npos);
  EXPECT_EQ(ResolveTcti("mssim:localhost", Exists({})).status().code(), StatusCode::kInvalidArgument);
}

TEST(ResolveTcti, TabrmdAndOtherModulesPassThrough) {
  auto a = ResolveTcti("tabrmd:", Exists({}));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->ToString(), "tabrmd");
  auto b = ResolveTcti("tabrmd:bus_name=com.intel.tss2.Tabrmd,bus_type=system", Exists({}));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->conf, "bus_name=com.intel.tss2.Tabrmd,bus_type=system");
  auto c = ResolveTcti("cmd:tpm2_send --tcti=mssim", Exists({}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->name, "cmd");
  EXPECT_EQ(c->conf, "tpm2_send --tcti=mssim");
}

TEST(ResolveTcti, MissingOrBadNameIsInvalidArgument) {
  EXPECT_EQ(ResolveTcti(":host=x", Exists({})).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveTcti("sw tpm:host=x", Exists({})).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgeward::tpm
