// `edgeward policy check|explain` end to end: the built binary on real files,
// exit codes and located errors as a user sees them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "edgeward/base/bytes.h"
#include "edgeward/base/file.h"
#include "swtpm.h"

namespace edgeward {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunCommand;

const std::string kEdgeward = std::string(EDGEWARD_BINARY_DIR) + "/agent/edgeward";
const std::string kExamples = std::string(EDGEWARD_SOURCE_DIR) + "/examples/policies";

class PolicyCliTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, std::string_view text) {
    const std::string path = dir_.File(name);
    EXPECT_TRUE(WriteFileAtomic(path, AsBytes(text), 0644).ok());
    return path;
  }
  testing::TempDir dir_;
};

TEST_F(PolicyCliTest, CheckAcceptsEveryExample) {
  const auto r = RunCommand(kEdgeward + " policy check " + kExamples + "/*.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(kExamples + "/sensor-reader.yaml: ok"));
  EXPECT_THAT(r.output, HasSubstr(kExamples + "/loopback-server.yaml: ok"));
}

TEST_F(PolicyCliTest, CheckReportsEveryLocatedErrorAndExits2) {
  const std::string bad = Write("bad.yaml",
                                "apiVersion: edgeward/v1\n"
                                "kind: WorkloadPolicy\n"
                                "metadata: {name: bad}\n"
                                "spec:\n"
                                "  limits: {memroy: 1Gi}\n"
                                "  seccomp:\n"
                                "    allow: [ptrce]\n");
  const std::string good = Write("good.yaml", "apiVersion: edgeward/v1\nkind: WorkloadPolicy\nmetadata: {name: g}\nspec: {}\n");
  const auto r = RunCommand(kEdgeward + " policy check " + good + " " + bad);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr(good + ": ok"));
  EXPECT_THAT(r.output, HasSubstr(bad + ":5:12: field spec.limits.memroy: unknown key 'memroy' (did you mean 'memory'?)"));
  EXPECT_THAT(r.output, HasSubstr(bad + ":7:13: field spec.seccomp.allow[0]: unknown syscall 'ptrce' (did you mean 'ptrace'?)"));
  EXPECT_THAT(r.output, HasSubstr("edgeward: error: " + bad + ": 2 error(s); policy rejected"));
}

TEST_F(PolicyCliTest, CheckOfAMissingFileExits2) {
  const auto r = RunCommand(kEdgeward + " policy check " + dir_.File("nope.yaml"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("nope.yaml"));
}

TEST_F(PolicyCliTest, ExplainPrintsScoreSectionsAndNode) {
  const auto r = RunCommand(kEdgeward + " policy explain " + kExamples + "/sensor-reader.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Policy sensor-reader (mode enforce)"));
  EXPECT_THAT(r.output, HasSubstr("Exposure: "));
  EXPECT_THAT(r.output, HasSubstr("cannot  use any network"));
  EXPECT_THAT(r.output, HasSubstr("Exposure breakdown (weight x badness; lower is better)"));
  EXPECT_THAT(r.output, HasSubstr("This node (Linux "));
}

TEST_F(PolicyCliTest, ExplainJsonDescribesThisNode) {
  const auto r = RunCommand(kEdgeward + " policy explain --json " + kExamples + "/python-service.yaml 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["policy"], "telemetry-py");
  EXPECT_GE(j["exposure"].get<double>(), 0.0);
  EXPECT_LE(j["exposure"].get<double>(), 10.0);
  EXPECT_TRUE(j["node"].contains("landlock_abi"));
  EXPECT_TRUE(j["node_gaps"].is_array());
}

TEST_F(PolicyCliTest, ExplainOfABadPolicyExits2) {
  const std::string bad = Write("bad.yaml", "apiVersion: edgeward/v1\nkind: WorkloadPolicy\nmetadata: {name: b}\n"
                                            "spec: {network: lan}\n");
  const auto r = RunCommand(kEdgeward + " policy explain " + bad);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr(bad + ":4:17: field spec.network: unknown network mode 'lan'"));
  EXPECT_THAT(r.output, Not(HasSubstr("Exposure")));
}

TEST_F(PolicyCliTest, PolicyNeedsASubcommand) {
  const auto r = RunCommand(kEdgeward + " policy");
  EXPECT_NE(r.exit_code, 0) << r.output;
}

}  // namespace
}  // namespace edgeward
