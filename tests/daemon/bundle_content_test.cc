// The daemon's bundle content validator, the signed local bundle file and
// the shipped default rules: real Ed25519 keys, real signed bundles and root
// documents, real state directories, the real rules in rules/default/.
#include "edgeward/daemon/bundle_content.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "bundle_content_util.h"
#include "edgeward/base/file.h"
#include "edgeward/bundle/rollback.h"
#include "edgeward/bundle/store.h"
#include "edgeward/rules/engine.h"
#include "swtpm.h"

namespace edgeward::daemon {
namespace {

using testing::bundles::kGoodPolicy;
using testing::bundles::Signer;
using testing::bundles::WallNow;
using testing::bundles::WorkloadYaml;

bundle::Verdict Verify(const Signer& signer, uint64_t version, const std::map<std::string, std::string>& files) {
  bundle::VerifyOptions o;
  o.trusted_now = WallNow();
  o.validate = MakeBundleContentValidator();
  return bundle::VerifyBundle(AsBytes(signer.Signed(version, files)), signer.root(), o);
}

constexpr char kRulesWithList[] =
    "- list: watched\n  items: [web]\n"
    "- rule: watched violation\n"
    "  condition: event.type = \"sandbox.violation\" and workload.name in (watched)\n"
    "  actions: [log]\n  priority: high\n  output: \"violation by %workload.name\"\n";
constexpr char kMacro[] = "- macro: is_start\n  condition: event.type = \"workload.start\"\n";
constexpr char kRulesUsingMacro[] =
    "- rule: start of x\n  condition: is_start and workload.name = \"x\"\n  actions: [log]\n"
    "  priority: low\n  output: \"start of %workload.name\"\n";
constexpr char kRulesUsingList[] =
    "- rule: watched start\n"
    "  condition: event.type = \"workload.start\" and workload.name in (watched)\n"
    "  actions: [log]\n  priority: low\n  output: \"start of %workload.name\"\n";

TEST(BundleContentValidatorTest, AcceptsPoliciesWorkloadsAndRulesThatBuildOnEachOther) {
  Signer signer;
  auto v = Verify(signer, 1,
                  {{"policies/sensor-reader.yaml", kGoodPolicy},
                   {"workloads/sensor.yaml", WorkloadYaml("sensor", "sensor-reader")},
                   {"rules/10-lists.yaml", kRulesWithList},
                   {"rules/20-uses.yaml", kRulesUsingList}});
  EXPECT_TRUE(v.accepted()) << bundle::ReasonName(v.reason) << ": " << v.message;
}

TEST(BundleContentValidatorTest, ABrokenPolicyRejectsTheBundleWithFileAndLine) {
  Signer signer;
  auto v = Verify(signer, 1,
                  {{"policies/sensor-reader.yaml",
                    "apiVersion: edgeward/v1\nkind: WorkloadPolicy\nmetadata: {name: x}\nspec:\n  mode: sideways\n"}});
  EXPECT_EQ(v.reason, bundle::Reason::kInvalidContent) << v.message;
  EXPECT_NE(v.message.find("policies/sensor-reader.yaml:5:"), std::string::npos) << v.message;
  EXPECT_NE(v.message.find("sideways"), std::string::npos) << v.message;
}

TEST(BundleContentValidatorTest, AWorkloadNamingAPolicyTheBundleLacksIsRejectedAtItsPolicyField) {
  Signer signer;
  auto v = Verify(signer, 1,
                  {{"policies/sensor-reader.yaml", kGoodPolicy},
                   {"workloads/sensor.yaml", WorkloadYaml("sensor", "sensor-raeder")}});
  EXPECT_EQ(v.reason, bundle::Reason::kInvalidContent) << v.message;
  // Line 6 of WorkloadYaml is `  policy: ...`; the closest name is offered.
  EXPECT_NE(v.message.find("workloads/sensor.yaml:6:11: field spec.policy: no policy named 'sensor-raeder'"),
            std::string::npos)
      << v.message;
  EXPECT_NE(v.message.find("sensor-reader"), std::string::npos) << v.message;
}

TEST(BundleContentValidatorTest, ABadWorkloadFileIsRejectedLocated) {
  Signer signer;
  auto v = Verify(signer, 1,
                  {{"policies/sensor-reader.yaml", kGoodPolicy},
                   {"workloads/sensor.yaml", "apiVersion: edgeward/v1\nkind: Workload\nmetadata: {name: sensor}\n"
                                             "spec: {comand: [/bin/true], policy: sensor-reader}\n"}});
  EXPECT_EQ(v.reason, bundle::Reason::kInvalidContent) << v.message;
  EXPECT_NE(v.message.find("workloads/sensor.yaml:4:8: field spec.comand: unknown key 'comand'"), std::string::npos)
      << v.message;
}

TEST(BundleContentValidatorTest, ABadRulesFileIsRejectedWithEveryDiagnosticLocated) {
  Signer signer;
  auto v = Verify(signer, 1,
                  {{"rules/10-lists.yaml", kRulesWithList},
                   {"rules/20-bad.yaml", "- rule: typo\n  condition: workload.nmae = \"x\"\n  actions: [log]\n"
                                         "  priority: low\n  output: x\n"}});
  EXPECT_EQ(v.reason, bundle::Reason::kInvalidContent) << v.message;
  EXPECT_NE(v.message.find("rules/20-bad.yaml:2:"), std::string::npos) << v.message;
  EXPECT_NE(v.message.find("workload.nmae"), std::string::npos) << v.message;
}

TEST(BundleContentValidatorTest, RulesAreCheckedInOrderSoAListMustComeBeforeItsUse) {
  Signer signer;
  auto ordered = Verify(signer, 1, {{"rules/10-macro.yaml", kMacro}, {"rules/20-uses.yaml", kRulesUsingMacro}});
  EXPECT_TRUE(ordered.accepted()) << ordered.message;
  // The same two files, the use sorting first: "is_start" is not defined yet.
  auto v = Verify(signer, 2, {{"rules/10-uses.yaml", kRulesUsingMacro}, {"rules/20-macro.yaml", kMacro}});
  EXPECT_EQ(v.reason, bundle::Reason::kInvalidContent) << v.message;
  EXPECT_NE(v.message.find("rules/10-uses.yaml:2:14: unknown macro \"is_start\""), std::string::npos) << v.message;
}

TEST(BundleContentValidatorTest, TwoPoliciesOrTwoWorkloadsWithOneNameAreRejected) {
  Signer signer;
  auto policies = Verify(signer, 1, {{"policies/a.yaml", kGoodPolicy}, {"policies/b.yaml", kGoodPolicy}});
  EXPECT_EQ(policies.reason, bundle::Reason::kInvalidContent);
  EXPECT_NE(policies.message.find("policies/b.yaml: field metadata.name: policy 'sensor-reader' is also defined in "
                                  "policies/a.yaml"),
            std::string::npos)
      << policies.message;
  auto workloads = Verify(signer, 2,
                          {{"policies/p.yaml", kGoodPolicy},
                           {"workloads/a.yaml", WorkloadYaml("sensor", "sensor-reader")},
                           {"workloads/b.yaml", WorkloadYaml("sensor", "sensor-reader")}});
  EXPECT_EQ(workloads.reason, bundle::Reason::kInvalidContent);
  EXPECT_NE(workloads.message.find("workloads/b.yaml: field metadata.name: workload 'sensor' is also defined in "
                                   "workloads/a.yaml"),
            std::string::npos)
      << workloads.message;
}

TEST(BundleContentValidatorTest, AReferenceFileThatDoesNotParseIsRejected) {
  Signer signer;
  auto v = Verify(signer, 1, {{"reference/node.yaml", "not: [reference"}});
  EXPECT_EQ(v.reason, bundle::Reason::kInvalidContent);
  EXPECT_NE(v.message.find("reference/node.yaml"), std::string::npos) << v.message;
}

// ---- the signed local bundle file ---------------------------------------

class LocalBundleFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(signer_.WriteRoot(dir_.File("root.json")).ok());
    o_.file = dir_.File("bundle.ewb");
    o_.state_dir = dir_.File("state");
    o_.root_file = dir_.File("root.json");
    o_.install_root = true;
    o_.node = {"edge-1", {}};
  }

  void WriteBundle(uint64_t version, const std::map<std::string, std::string>& files, bool sign = true) {
    ASSERT_TRUE(WriteFileAtomic(o_.file, AsBytes(sign ? signer_.Signed(version, files) : signer_.Unsigned(version, files)),
                                0600)
                    .ok());
  }

  std::map<std::string, std::string> Good() const {
    return {{"policies/sensor-reader.yaml", kGoodPolicy},
            {"workloads/sensor.yaml", WorkloadYaml("sensor", "sensor-reader")}};
  }

  testing::TempDir dir_;
  Signer signer_;
  LocalBundleOptions o_;
};

TEST_F(LocalBundleFileTest, AGoodFileIsAcceptedRecordedAndAcceptedAgainUnchanged) {
  WriteBundle(3, Good());
  auto b = VerifyLocalBundleFile(o_, WallNow());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->manifest.version, 3u);
  EXPECT_EQ(b->manifest.files.size(), 2u);
  // The root was installed (no cloud worker), the record written 0600.
  EXPECT_TRUE(bundle::LoadInstalledRoot(o_.state_dir).ok());
  struct stat st {};
  ASSERT_EQ(::stat((o_.state_dir + "/local-bundle.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto record = ReadFileToString(o_.state_dir + "/local-bundle.json", 4096);
  ASSERT_TRUE(record.ok());
  EXPECT_NE(record->find("\"version\":3"), std::string::npos) << *record;
  EXPECT_NE(record->find(b->digest), std::string::npos) << *record;

  // A restart / SIGHUP with the same file: the same bundle, not a rollback.
  auto again = VerifyLocalBundleFile(o_, WallNow());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->digest, b->digest);
}

TEST_F(LocalBundleFileTest, AnOlderOrSameVersionDifferentFileIsARollback) {
  WriteBundle(3, Good());
  ASSERT_TRUE(VerifyLocalBundleFile(o_, WallNow()).ok());
  WriteBundle(2, Good());
  auto older = VerifyLocalBundleFile(o_, WallNow());
  EXPECT_EQ(older.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(older.status().message().find(o_.file + ": rejected (version_not_greater)"), std::string::npos)
      << older.status().ToString();
  // Version 3 again but other content: not the bundle accepted as 3.
  auto other = Good();
  other["rules/10-lists.yaml"] = kRulesWithList;
  WriteBundle(3, other);
  auto same_version = VerifyLocalBundleFile(o_, WallNow());
  EXPECT_EQ(same_version.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(same_version.status().message().find("version_not_greater"), std::string::npos)
      << same_version.status().ToString();
  // The record still names version 3's first bundle: a newer one is fine.
  WriteBundle(4, other);
  EXPECT_TRUE(VerifyLocalBundleFile(o_, WallNow()).ok());
}

TEST_F(LocalBundleFileTest, TheNodesAntiRollbackRecordHoldsForLocalFilesToo) {
  // The verifier path accepted version 5 (the store's guard recorded it).
  ASSERT_TRUE(MakeDirs(o_.state_dir, 0700).ok());
  {
    auto guard = bundle::RollbackGuard::Open(o_.state_dir, nullptr);
    ASSERT_TRUE(guard.ok()) << guard.status().ToString();
    ASSERT_TRUE(guard->Accept(5, WallNow() - 10, WallNow()).ok());
  }
  WriteBundle(4, Good());
  auto v4 = VerifyLocalBundleFile(o_, WallNow());
  EXPECT_EQ(v4.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(v4.status().message().find("version_not_greater"), std::string::npos) << v4.status().ToString();
  WriteBundle(6, Good());
  EXPECT_TRUE(VerifyLocalBundleFile(o_, WallNow()).ok());
  // Read only: the record itself is the verifier path's.
  auto guard = bundle::RollbackGuard::Open(o_.state_dir, nullptr);
  ASSERT_TRUE(guard.ok());
  EXPECT_EQ(guard->disk_highest(), 5u);
}

TEST_F(LocalBundleFileTest, UnsignedBadContentForeignAndDamagedFilesAreRefusedNamingTheFile) {
  WriteBundle(1, Good(), /*sign=*/false);
  auto unsigned_file = VerifyLocalBundleFile(o_, WallNow());
  EXPECT_EQ(unsigned_file.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(unsigned_file.status().message().find(o_.file + ": rejected (below_threshold)"), std::string::npos)
      << unsigned_file.status().ToString();

  auto bad = Good();
  bad["workloads/sensor.yaml"] = WorkloadYaml("sensor", "nowhere");
  WriteBundle(1, bad);
  auto content = VerifyLocalBundleFile(o_, WallNow());
  EXPECT_EQ(content.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(content.status().message().find(o_.file + ": rejected (invalid_content): workloads/sensor.yaml: "),
            std::string::npos)
      << content.status().ToString();
  EXPECT_NE(content.status().message().find("workloads/sensor.yaml:6:11: field spec.policy: no policy named 'nowhere'"),
            std::string::npos)
      << content.status().ToString();

  Signer stranger;  // a key the root doesn't know
  ASSERT_TRUE(WriteFileAtomic(o_.file, AsBytes(stranger.Signed(1, Good())), 0600).ok());
  auto foreign = VerifyLocalBundleFile(o_, WallNow());
  EXPECT_EQ(foreign.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(foreign.status().message().find("rejected (unknown_key)"), std::string::npos)
      << foreign.status().ToString();

  ASSERT_TRUE(WriteFileAtomic(o_.file, AsBytes(std::string("EWBUNDL1 and then nothing sensible")), 0600).ok());
  auto damaged = VerifyLocalBundleFile(o_, WallNow());
  EXPECT_EQ(damaged.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(damaged.status().message().find(o_.file + ": rejected (malformed)"), std::string::npos)
      << damaged.status().ToString();

  o_.file = dir_.File("missing.ewb");
  auto missing = VerifyLocalBundleFile(o_, WallNow());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("missing.ewb"), std::string::npos) << missing.status().ToString();
  // Nothing was accepted: no record.
  EXPECT_NE(::access((o_.state_dir + "/local-bundle.json").c_str(), F_OK), 0);
}

TEST_F(LocalBundleFileTest, ABundleForAnotherNodeIsNotTargeted) {
  bundle::Targets other;
  other.nodes = {"edge-2"};
  ASSERT_TRUE(WriteFileAtomic(o_.file, AsBytes(signer_.Signed(1, Good(), &other)), 0600).ok());
  auto v = VerifyLocalBundleFile(o_, WallNow());
  EXPECT_EQ(v.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(v.status().message().find("rejected (not_targeted)"), std::string::npos) << v.status().ToString();
}

TEST_F(LocalBundleFileTest, WithoutARootOfTrustNothingIsAccepted) {
  WriteBundle(1, Good());
  o_.root_file = dir_.File("no-root.json");
  auto v = VerifyLocalBundleFile(o_, WallNow());
  EXPECT_EQ(v.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(v.status().message().find("no root of trust"), std::string::npos) << v.status().ToString();
  EXPECT_NE(v.status().message().find(o_.file), std::string::npos) << v.status().ToString();
}

TEST_F(LocalBundleFileTest, WithACloudWorkerTheRootFileIsUsedButNotInstalled) {
  WriteBundle(1, Good());
  o_.install_root = false;
  ASSERT_TRUE(VerifyLocalBundleFile(o_, WallNow()).ok());
  EXPECT_EQ(bundle::LoadInstalledRoot(o_.state_dir).status().code(), StatusCode::kNotFound);
}

// ---- the shipped default rules -------------------------------------------

class DefaultRulesDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* v = std::getenv("EDGEWARD_RULES_DIR")) saved_ = v;
    ::unsetenv("EDGEWARD_RULES_DIR");
  }
  void TearDown() override {
    if (saved_) {
      ::setenv("EDGEWARD_RULES_DIR", saved_->c_str(), 1);
    } else {
      ::unsetenv("EDGEWARD_RULES_DIR");
    }
  }
  std::optional<std::string> saved_;
  testing::TempDir dir_;
};

TEST_F(DefaultRulesDirTest, TheInstalledLayoutIsFoundNextToTheBinary) {
  ASSERT_TRUE(MakeDirs(dir_.File("usr/bin"), 0755).ok());
  EXPECT_EQ(FindDefaultRulesDir(dir_.File("usr/bin/edgeward")), std::nullopt);
  ASSERT_TRUE(MakeDirs(dir_.File("usr/share/edgeward/rules"), 0755).ok());
  EXPECT_EQ(FindDefaultRulesDir(dir_.File("usr/bin/edgeward")), dir_.File("usr/bin/../share/edgeward/rules"));
}

TEST_F(DefaultRulesDirTest, TheEnvironmentOverridesAndAMissingOverrideFindsNothing) {
  ASSERT_TRUE(MakeDirs(dir_.File("usr/share/edgeward/rules"), 0755).ok());
  ASSERT_TRUE(MakeDirs(dir_.File("elsewhere"), 0755).ok());
  ::setenv("EDGEWARD_RULES_DIR", dir_.File("elsewhere").c_str(), 1);
  EXPECT_EQ(FindDefaultRulesDir(dir_.File("usr/bin/edgeward")), dir_.File("elsewhere"));
  ::setenv("EDGEWARD_RULES_DIR", dir_.File("gone").c_str(), 1);
  EXPECT_EQ(FindDefaultRulesDir(dir_.File("usr/bin/edgeward")), std::nullopt);
}

TEST_F(DefaultRulesDirTest, RuleFilesAreTheYamlFilesInNameOrder) {
  for (const char* name : {"20-b.yaml", "10-a.yml", "README", ".hidden.yaml", "30-c.yaml~"}) {
    ASSERT_TRUE(WriteFileAtomic(dir_.File(name), AsBytes(std::string("x")), 0644).ok());
  }
  auto files = ListRuleFiles(dir_.path());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(*files, (std::vector<std::string>{dir_.File("10-a.yml"), dir_.File("20-b.yaml")}));
  auto missing = ListRuleFiles(dir_.File("nope"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("opendir"), std::string::npos) << missing.status().ToString();
}

TEST_F(DefaultRulesDirTest, TheShippedRulesCompileAsOneSet) {
  auto files = ListRuleFiles(EDGEWARD_SOURCE_DIR "/rules/default");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_GE(files->size(), 3u);
  std::vector<rules::RuleSource> sources;
  for (const auto& f : *files) sources.push_back({f, ReadFileToString(f, rules::kMaxRuleFileBytes).value()});
  rules::Engine engine;
  std::vector<rules::Diagnostic> diagnostics;
  Status s = engine.LoadSources(sources, &diagnostics);
  ASSERT_TRUE(s.ok()) << s.ToString() << (diagnostics.empty() ? "" : diagnostics[0].ToString());
  EXPECT_GT(engine.rule_count(), 5u);
}

}  // namespace
}  // namespace edgeward::daemon
