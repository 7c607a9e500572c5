// The verifier's YAML config (errors carry line, column and field) and
// `init` (modes, refusing to overwrite, and a config that loads).
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "edgeward/cloud/verifier.h"
#include "swtpm.h"

namespace edgeward::cloud {
namespace {

void ExpectError(const Status& s, std::string_view needle) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
}

TEST(VerifierConfig, ParsesAndResolvesRelativePaths) {
  auto c = ParseVerifierConfig("port: 9443\nek_ca_bundle: ek.pem\nstate_dir: /srv/v\ncert_lifetime_seconds: 3600\n"
                               "sync: normal\n",
                               "v.yaml", "/etc/edgeward");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->port, 9443);
  EXPECT_EQ(c->ek_ca_bundle_path, "/srv/v/ek.pem");
  EXPECT_EQ(c->database_path, "/srv/v/verifier.db");
  EXPECT_EQ(c->cert_lifetime, std::chrono::seconds(3600));
  EXPECT_FALSE(c->sync_full);
}

TEST(VerifierConfig, ErrorsNameLineColumnAndField) {
  ExpectError(ParseVerifierConfig("ek_ca_bundle: a\nprot: 1\n", "v.yaml", "/").status(), "v.yaml:2:1: prot: unknown setting");
  ExpectError(ParseVerifierConfig("ek_ca_bundle: a\nport: high\n", "v.yaml", "/").status(),
              "v.yaml:2:7: port: expected an integer, got 'high'");
  ExpectError(ParseVerifierConfig("ek_ca_bundle: a\nport: 70000\n", "v.yaml", "/").status(),
              "v.yaml:2:7: port: must be between 0 and 65535");
  ExpectError(ParseVerifierConfig("port: 1\n", "v.yaml", "/").status(), "ek_ca_bundle: missing");
  ExpectError(ParseVerifierConfig("ek_ca_bundle: a\nsync: sometimes\n", "v.yaml", "/").status(),
              "v.yaml:2:7: sync: expected full or normal");
  ExpectError(ParseVerifierConfig("ek_ca_bundle: [a\n", "v.yaml", "/").status(), "v.yaml:");
  ExpectError(ParseVerifierConfig("- a\n", "v.yaml", "/").status(), "expected a mapping");
}

TEST(VerifierInit, CreatesPrivateStateThatLoads) {
  edgeward::testing::TempDir tmp;
  const std::string dir = tmp.path() + "/verifier";
  ASSERT_TRUE(InitVerifierDir(dir, {"verifier.example", "10.0.0.5"}).ok());
  struct stat st {};
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  for (const char* secret : {"node-ca.key", "server.key", "admin.key", "seal.key", "config.yaml"}) {
    ASSERT_EQ(stat((dir + "/" + secret).c_str(), &st), 0) << secret;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << secret;
  }
  auto c = LoadVerifierConfig(dir + "/config.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->tls_cert_path, dir + "/server.crt");
  EXPECT_EQ(c->port, 8443);
  auto again = InitVerifierDir(dir, {"x"});
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  auto check = edgeward::testing::RunCommand("openssl verify -CAfile '" + dir + "/node-ca.crt' '" + dir +
                                             "/server.crt' '" + dir + "/admin.crt' && openssl x509 -noout -ext "
                                             "subjectAltName -in '" + dir + "/server.crt'");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("DNS:verifier.example"), std::string::npos) << check.output;
  EXPECT_NE(check.output.find("IP Address:10.0.0.5"), std::string::npos) << check.output;
}

}  // namespace
}  // namespace edgeward::cloud
