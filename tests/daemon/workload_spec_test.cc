#include "edgeward/daemon/workload_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sys/stat.h>

#include "swtpm.h"

namespace edgeward::daemon {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const char kGood[] = R"(apiVersion: edgeward/v1
kind: Workload
metadata: {name: sensor-reader}
spec:
  command: [/usr/bin/sensor, --interval, "5"]
  env: [LOG_LEVEL=info]
  policy: sensor-reader
  restart: {policy: on-failure, backoff: {initial: 500ms, max: 2m}, crashLoop: {count: 3, within: 30s}}
  startOrder: 10
  measure: [/etc/sensor/sensor.conf]
)";

std::string Policy(const std::string& name) {
  return "apiVersion: edgeward/v1\nkind: WorkloadPolicy\nmetadata: {name: " + name +
         "}\nspec:\n  mode: enforce\n  namespaces: [pid, mount]\n  filesystem:\n    readOnly: [/usr]\n"
         "  seccomp:\n    profile: baseline\n";
}

TEST(WorkloadSpecTest, ParsesEveryField) {
  auto s = ParseWorkloadSpec(kGood, "workloads/sensor.yaml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->name, "sensor-reader");
  EXPECT_EQ(s->command, (std::vector<std::string>{"/usr/bin/sensor", "--interval", "5"}));
  EXPECT_EQ(s->env, (std::vector<std::string>{"LOG_LEVEL=info"}));
  EXPECT_EQ(s->policy, "sensor-reader");
  EXPECT_EQ(s->restart.policy, RestartPolicy::kOnFailure);
  EXPECT_EQ(s->restart.backoff_initial, std::chrono::milliseconds(500));
  EXPECT_EQ(s->restart.backoff_max, std::chrono::minutes(2));
  EXPECT_EQ(s->restart.crash_loop_count, 3u);
  EXPECT_EQ(s->restart.crash_loop_within, std::chrono::seconds(30));
  EXPECT_EQ(s->start_order, 10);
  EXPECT_EQ(s->measure, (std::vector<std::string>{"/etc/sensor/sensor.conf"}));
  EXPECT_EQ(s->source, "workloads/sensor.yaml");
}

TEST(WorkloadSpecTest, DefaultsWhenRestartIsOmitted) {
  auto s = ParseWorkloadSpec(
      "apiVersion: edgeward/v1\nkind: Workload\nmetadata: {name: a}\nspec: {command: [/bin/true], policy: p}\n", "a.yaml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->restart.policy, RestartPolicy::kAlways);
  EXPECT_EQ(s->restart.backoff_initial, std::chrono::seconds(1));
  EXPECT_EQ(s->restart.backoff_max, std::chrono::seconds(60));
  EXPECT_EQ(s->restart.crash_loop_count, 5u);
}

TEST(WorkloadSpecTest, UnknownKeyIsLocatedWithSuggestion) {
  std::string yaml = kGood;
  yaml.replace(yaml.find("startOrder"), 10, "startOrdr");
  auto s = ParseWorkloadSpec(yaml, "workloads/sensor.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(),
              HasSubstr("workloads/sensor.yaml:9:3: field spec.startOrdr: unknown key 'startOrdr' (did you mean 'startOrder'?)"));
}

TEST(WorkloadSpecTest, BadRestartPolicyAndDurationsAreLocated) {
  std::string yaml = kGood;
  yaml.replace(yaml.find("on-failure"), 10, "alway");
  yaml.replace(yaml.find("500ms"), 5, "5 sec");
  auto s = ParseWorkloadSpec(yaml, "w.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("w.yaml:8:21: field spec.restart.policy: unknown restart policy 'alway' "
                                              "(did you mean 'always'?)"));
  EXPECT_THAT(s.status().message(), HasSubstr("field spec.restart.backoff.initial: bad duration '5 sec'"));
}

TEST(WorkloadSpecTest, EveryProblemIsReportedInFileOrder) {
  const char yaml[] = R"(apiVersion: edgeward/v2
kind: Workloads
metadata: {name: Bad_Name}
spec:
  command: []
  env: [NOEQUALS, A=1, A=2]
  measure: [relative/path]
)";
  auto s = ParseWorkloadSpec(yaml, "w.yaml");
  ASSERT_FALSE(s.ok());
  const std::string m = s.status().message();
  EXPECT_THAT(m, HasSubstr("w.yaml:1:13: field apiVersion: unsupported apiVersion 'edgeward/v2'"));
  EXPECT_THAT(m, HasSubstr("w.yaml:2:7: field kind: unknown kind 'Workloads' (did you mean 'Workload'?)"));
  EXPECT_THAT(m, HasSubstr("w.yaml:3:18: field metadata.name: 'Bad_Name' is not a valid name"));
  EXPECT_THAT(m, HasSubstr("field spec.command: empty"));
  EXPECT_THAT(m, HasSubstr("w.yaml:6:9: field spec.env[0]: expected KEY=VALUE, got 'NOEQUALS'"));
  EXPECT_THAT(m, HasSubstr("field spec.env[2]: duplicate variable 'A'"));
  EXPECT_THAT(m, HasSubstr("field spec.measure[0]: expected an absolute path"));
  EXPECT_THAT(m, HasSubstr("field spec.policy: missing (required)"));
  EXPECT_LT(m.find("apiVersion"), m.find("kind:"));
}

TEST(WorkloadSpecTest, SyntaxErrorsAndSecondDocumentsAreLocated) {
  auto s = ParseWorkloadSpec("apiVersion: [edgeward/v1\n", "w.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("w.yaml:2:1: YAML syntax error"));
  std::string two = std::string(kGood) + "---\n" + kGood;
  auto t = ParseWorkloadSpec(two, "w.yaml");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("w.yaml:11:1: more than one YAML document"));
  auto e = ParseWorkloadSpec("", "w.yaml");
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("w.yaml:1:1: empty workload"));
}

TEST(WorkloadSpecTest, OversizedFileIsRejected) {
  std::string big(kMaxWorkloadSpecBytes + 1, '#');
  auto s = ParseWorkloadSpec(big, "w.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("larger than"));
}

TEST(WorkloadSpecTest, LoadResolvesPoliciesByNameAndSortsByStartOrder) {
  std::map<std::string, std::string> files;
  files["policies/sensor.yaml"] = Policy("sensor-reader");
  files["policies/web.yaml"] = Policy("web");
  files["workloads/sensor.yaml"] = kGood;
  files["workloads/web.yaml"] =
      "apiVersion: edgeward/v1\nkind: Workload\nmetadata: {name: web}\nspec: {command: [nginx], policy: web, startOrder: 1}\n";
  files["rules/x.yaml"] = "not looked at";
  auto all = LoadWorkloads(files);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "web");
  EXPECT_EQ((*all)[1].name, "sensor-reader");
  EXPECT_EQ((*all)[1].policy_path, "policies/sensor.yaml");
  EXPECT_EQ((*all)[1].policy_text, Policy("sensor-reader"));
  EXPECT_EQ((*all)[1].policy_digest.size(), 64u);
  EXPECT_EQ((*all)[1].spec_digest.size(), 64u);

  // A policy change moves only the policy digest; a spec change only the spec digest.
  auto before = (*all)[1];
  files["policies/sensor.yaml"] = Policy("sensor-reader") + "# changed\n";
  auto changed = LoadWorkloads(files);
  ASSERT_TRUE(changed.ok());
  EXPECT_NE((*changed)[1].policy_digest, before.policy_digest);
  EXPECT_EQ((*changed)[1].spec_digest, before.spec_digest);
  EXPECT_EQ((*changed)[0].policy_digest, (*all)[0].policy_digest);
  std::string yaml = kGood;
  yaml.replace(yaml.find("\"5\""), 3, "\"6\"");
  files["workloads/sensor.yaml"] = yaml;
  auto spec_changed = LoadWorkloads(files);
  ASSERT_TRUE(spec_changed.ok());
  EXPECT_NE((*spec_changed)[1].spec_digest, before.spec_digest);
}

TEST(WorkloadSpecTest, MissingPolicyIsLocatedWithSuggestion) {
  std::map<std::string, std::string> files;
  files["policies/sensor.yaml"] = Policy("sensor-readr");
  files["workloads/sensor.yaml"] = kGood;
  auto all = LoadWorkloads(files);
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(all.status().message(),
              HasSubstr("workloads/sensor.yaml:7:11: field spec.policy: no policy named 'sensor-reader' (did you mean "
                        "'sensor-readr'?) under policies/"));
}

TEST(WorkloadSpecTest, DuplicateWorkloadNamesNameBothFiles) {
  std::map<std::string, std::string> files;
  files["policies/sensor.yaml"] = Policy("sensor-reader");
  files["workloads/a.yaml"] = kGood;
  files["workloads/b.yaml"] = kGood;
  auto all = LoadWorkloads(files);
  ASSERT_FALSE(all.ok());
  EXPECT_THAT(all.status().message(),
              HasSubstr("workloads/b.yaml: workload name 'sensor-reader' is also declared in workloads/a.yaml"));
}

TEST(WorkloadSpecTest, BadPolicyFileIsReported) {
  std::map<std::string, std::string> files;
  files["policies/sensor.yaml"] = "apiVersion: edgeward/v1\nkind: WorkloadPolicy\n";
  files["workloads/sensor.yaml"] = kGood;
  auto all = LoadWorkloads(files);
  ASSERT_FALSE(all.ok());
  EXPECT_THAT(all.status().message(), HasSubstr("policies/sensor.yaml:"));
}

TEST(WorkloadSpecTest, LoadFromDirReadsWorkloadsAndPolicies) {
  edgeward::testing::TempDir dir;
  ASSERT_EQ(::mkdir(dir.File("workloads").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(dir.File("policies").c_str(), 0700), 0);
  std::ofstream(dir.File("workloads/sensor.yaml")) << kGood;
  std::ofstream(dir.File("policies/sensor.yaml")) << Policy("sensor-reader");
  auto all = LoadWorkloadsFromDir(dir.path());
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].policy_text, Policy("sensor-reader"));

  edgeward::testing::TempDir empty;
  auto none = LoadWorkloadsFromDir(empty.path());
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace edgeward::daemon
