// The bundle CLI end to end, as an operator and a node would use it: keygen,
// root create/sign, policy bundle/sign/verify/apply/show, root update. The
// node runs without a TPM here (--no-tpm); the TPM path is in
// bundle_tpm_test.
#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>

#include "edgeward/base/file.h"
#include "swtpm.h"

namespace edgeward::bundle::test {
namespace {

using testing::RunCommand;

const std::string kBin = std::string(EDGEWARD_BINARY_DIR) + "/agent/edgeward";

class BundleCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* k : {"r1", "r2", "r3", "p1", "r4"}) {
      auto r = Run("keygen --no-passphrase --out " + dir_.File(k));
      ASSERT_EQ(r.exit_code, 0) << r.output;
    }
    Write("src/policies/web.yaml", Example());
  }
  testing::CommandResult Run(const std::string& args) { return RunCommand(kBin + " " + args + " 2>&1"); }
  // The one key file with `ext` in the key's directory.
  std::string Key(const std::string& name, const std::string& ext) {
    auto r = RunCommand("ls " + dir_.File(name) + "/*." + ext);
    std::string path = r.output.substr(0, r.output.find('\n'));
    EXPECT_FALSE(path.empty());
    return path;
  }
  void Write(const std::string& rel, const std::string& text) {
    std::string path = dir_.File(rel);
    ASSERT_EQ(RunCommand("mkdir -p \"$(dirname " + path + ")\"").exit_code, 0);
    std::ofstream(path) << text;
  }
  static std::string Example() {
    auto text = ReadFileToString(std::string(EDGEWARD_SOURCE_DIR) + "/examples/policies/loopback-server.yaml", 1 << 20);
    EXPECT_TRUE(text.ok());
    return text.ok() ? *text : "";
  }
  void MakeRoot(const std::string& out, int version, const std::string& r_a, const std::string& r_b,
                const std::string& r_c, const std::vector<std::string>& signers) {
    auto c = Run("root create --version " + std::to_string(version) + " --expires +365d --root-key " +
                 Key(r_a, "pub") + " --root-key " + Key(r_b, "pub") + " --root-key " + Key(r_c, "pub") +
                 " --threshold 2 --policy-key " + Key("p1", "pub") + "@+90d --policy-threshold 1 -o " + out);
    ASSERT_EQ(c.exit_code, 0) << c.output;
    for (const std::string& s : signers) {
      auto r = Run("root sign --key " + Key(s, "key") + " " + out);
      ASSERT_EQ(r.exit_code, 0) << r.output;
    }
  }
  std::string Bundle(int version, const std::string& targets = "all") {
    std::string out = dir_.File("b" + std::to_string(version) + ".ewb");
    auto r = Run("policy bundle --version " + std::to_string(version) + " --expires +30d --targets " + targets + " " +
                 dir_.File("src") + " -o " + out);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return out;
  }
  std::string Sign(const std::string& file) {
    auto r = Run("policy sign --key " + Key("p1", "key") + " " + file);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return file;
  }
  std::string Apply(const std::string& file) {
    return "policy apply --no-tpm --state-dir " + dir_.File("state") + " --root " + dir_.File("root.json") +
           " --node-id edge-1 --label site=berlin " + file;
  }

  testing::TempDir dir_;
};

TEST_F(BundleCliTest, OperatorToNodeRoundTrip) {
  MakeRoot(dir_.File("root.json"), 1, "r1", "r2", "r3", {"r1", "r2"});
  std::string b1 = Bundle(1);
  auto unsigned_verify = Run("policy verify --root " + dir_.File("root.json") + " " + b1);
  EXPECT_EQ(unsigned_verify.exit_code, 1) << unsigned_verify.output;
  EXPECT_NE(unsigned_verify.output.find("below_threshold: 0 of 1 required signatures"), std::string::npos)
      << unsigned_verify.output;
  Sign(b1);
  auto ok = Run("policy verify --root " + dir_.File("root.json") + " --node-id edge-1 " + b1);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;

  auto applied = Run(Apply(b1));
  EXPECT_EQ(applied.exit_code, 0) << applied.output;
  EXPECT_NE(applied.output.find("\"type\":\"bundle.accepted\""), std::string::npos) << applied.output;
  auto again = Run(Apply(b1));
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_NE(again.output.find("version_not_greater"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("\"type\":\"bundle.rejected\""), std::string::npos);

  // Version 2 carries a policy that does not validate: rejected whole.
  Write("src/policies/broken.yaml", "apiVersion: edgeward/v1\nkind: WorkloadPolicy\nspec: {bogus: 1}\n");
  auto bad = Run(Apply(Sign(Bundle(2))));
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("invalid_content: policies/broken.yaml"), std::string::npos) << bad.output;
  ASSERT_EQ(::unlink(dir_.File("src/policies/broken.yaml").c_str()), 0);

  // Version 3 targets another node.
  auto other = Run(Apply(Sign(Bundle(3, "node=edge-2,label.site=paris"))));
  EXPECT_EQ(other.exit_code, 1) << other.output;
  EXPECT_NE(other.output.find("not_targeted"), std::string::npos);
  auto mine = Run(Apply(Sign(Bundle(4, "label.site=berlin"))));
  EXPECT_EQ(mine.exit_code, 0) << mine.output;

  auto show = Run("policy show --state-dir " + dir_.File("state"));
  EXPECT_EQ(show.exit_code, 0) << show.output;
  EXPECT_NE(show.output.find("active:           version 4"), std::string::npos) << show.output;
  EXPECT_NE(show.output.find("last-known-good:  version 1"), std::string::npos) << show.output;
  EXPECT_NE(show.output.find("highest accepted: 4"), std::string::npos) << show.output;
  struct stat st {};
  ASSERT_EQ(::stat(dir_.File("state/root.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(BundleCliTest, BadInputExitsTwo) {
  MakeRoot(dir_.File("root.json"), 1, "r1", "r2", "r3", {"r1", "r2"});
  std::string b1 = Sign(Bundle(1));
  Write("garbage.ewb", "EWBUNDL1\xff\xff\xff\xff");
  auto garbage = Run("policy verify --root " + dir_.File("root.json") + " " + dir_.File("garbage.ewb"));
  EXPECT_EQ(garbage.exit_code, 2) << garbage.output;
  EXPECT_NE(garbage.output.find("malformed: bundle: byte 8: manifest length 4294967295"), std::string::npos)
      << garbage.output;
  auto missing = Run("policy verify --root " + dir_.File("root.json") + " " + dir_.File("none.ewb"));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  auto selector = Run("policy bundle --version 1 --expires +1d --targets everyone " + dir_.File("src") + " -o " +
                      dir_.File("x.ewb"));
  EXPECT_EQ(selector.exit_code, 2) << selector.output;
  EXPECT_NE(selector.output.find("--targets"), std::string::npos);
  // An under-signed root is refused as a trust anchor.
  MakeRoot(dir_.File("weak.json"), 1, "r1", "r2", "r3", {"r1"});
  auto weak = Run("policy verify --root " + dir_.File("weak.json") + " " + b1);
  EXPECT_EQ(weak.exit_code, 1) << weak.output;
  EXPECT_NE(weak.output.find("1 of 2 required root signatures"), std::string::npos) << weak.output;
}

TEST_F(BundleCliTest, RootRotation) {
  MakeRoot(dir_.File("root.json"), 1, "r1", "r2", "r3", {"r1", "r2"});
  ASSERT_EQ(Run(Apply(Sign(Bundle(1)))).exit_code, 0);
  // Version 2 replaces r3 with r4; signed by r1 and r4 only: one current root key.
  MakeRoot(dir_.File("root2.json"), 2, "r1", "r2", "r4", {"r1", "r4"});
  auto refused = Run("root update --state-dir " + dir_.File("state") + " " + dir_.File("root2.json"));
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("1 of 2 required root signatures by the currently trusted root keys"),
            std::string::npos) << refused.output;
  ASSERT_EQ(Run("root sign --key " + Key("r2", "key") + " " + dir_.File("root2.json")).exit_code, 0);
  auto rotated = Run("root update --state-dir " + dir_.File("state") + " " + dir_.File("root2.json"));
  EXPECT_EQ(rotated.exit_code, 0) << rotated.output;
  EXPECT_NE(rotated.output.find("version 1 -> 2"), std::string::npos);
  // The old root document is no longer accepted by this node.
  auto old_root = Run(Apply(Sign(Bundle(2))));
  EXPECT_EQ(old_root.exit_code, 1) << old_root.output;
  EXPECT_NE(old_root.output.find("not greater than the trusted root's version 2"), std::string::npos) << old_root.output;
}

}  // namespace
}  // namespace edgeward::bundle::test

namespace edgeward::bundle::test {
namespace {

TEST_F(BundleCliTest, RulesAndReferenceFilesAreValidatedToo) {
  MakeRoot(dir_.File("root.json"), 1, "r1", "r2", "r3", {"r1", "r2"});
  // A rules file may use a list defined by an earlier file (Falco's
  // define-before-use order); a well-formed reference file passes.
  Write("src/rules/10-lists.yaml", "- list: watched\n  items: [web]\n");
  Write("src/rules/20-use.yaml",
        "- rule: watched violation\n"
        "  condition: event.type = \"sandbox.violation\" and workload.name in (watched)\n"
        "  actions: [log]\n"
        "  priority: high\n"
        "  output: \"violation by %workload.name\"\n");
  auto good = Run(Apply(Sign(Bundle(1))));
  EXPECT_EQ(good.exit_code, 0) << good.output;

  // A rules file with an unknown field: rejected whole, naming file and place.
  Write("src/rules/30-bad.yaml",
        "- rule: typo\n  condition: workload.nmae = \"x\"\n  actions: [log]\n  priority: low\n  output: x\n");
  auto bad_rules = Run(Apply(Sign(Bundle(2))));
  EXPECT_EQ(bad_rules.exit_code, 1) << bad_rules.output;
  EXPECT_NE(bad_rules.output.find("invalid_content: rules/30-bad.yaml"), std::string::npos) << bad_rules.output;
  EXPECT_NE(bad_rules.output.find("rules/30-bad.yaml:2:"), std::string::npos) << bad_rules.output;
  ASSERT_EQ(::unlink(dir_.File("src/rules/30-bad.yaml").c_str()), 0);

  // A reference file that isn't one: rejected whole.
  Write("src/reference/node.yaml", "pcrs: [this is not a map\n");
  auto bad_ref = Run(Apply(Sign(Bundle(3))));
  EXPECT_EQ(bad_ref.exit_code, 1) << bad_ref.output;
  EXPECT_NE(bad_ref.output.find("invalid_content: reference/node.yaml"), std::string::npos) << bad_ref.output;

  auto show = Run("policy show --state-dir " + dir_.File("state"));
  EXPECT_NE(show.output.find("active:           version 1"), std::string::npos) << show.output;
}

TEST_F(BundleCliTest, WorkloadsAreValidatedAndMustNameABundledPolicy) {
  MakeRoot(dir_.File("root.json"), 1, "r1", "r2", "r3", {"r1", "r2"});
  const std::string policy_name = "local-api";  // examples/policies/loopback-server.yaml
  Write("src/workloads/web.yaml", "apiVersion: edgeward/v1\nkind: Workload\nmetadata: {name: web}\n"
                                  "spec: {command: [/usr/bin/web], policy: " + policy_name + "}\n");
  auto good = Run(Apply(Sign(Bundle(1))));
  EXPECT_EQ(good.exit_code, 0) << good.output;

  // A workload naming a policy the bundle doesn't carry: rejected whole.
  Write("src/workloads/web.yaml", "apiVersion: edgeward/v1\nkind: Workload\nmetadata: {name: web}\n"
                                  "spec: {command: [/usr/bin/web], policy: missing}\n");
  auto missing = Run(Apply(Sign(Bundle(2))));
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("invalid_content: workloads/web.yaml"), std::string::npos) << missing.output;
  EXPECT_NE(missing.output.find("no policy named 'missing'"), std::string::npos) << missing.output;

  // A workload file with a typo: rejected, located.
  Write("src/workloads/web.yaml", "apiVersion: edgeward/v1\nkind: Workload\nmetadata: {name: web}\n"
                                  "spec: {comand: [/usr/bin/web], policy: " + policy_name + "}\n");
  auto typo = Run(Apply(Sign(Bundle(3))));
  EXPECT_EQ(typo.exit_code, 1) << typo.output;
  EXPECT_NE(typo.output.find("workloads/web.yaml:4:8: field spec.comand: unknown key 'comand' (did you mean 'command'?)"),
            std::string::npos)
      << typo.output;
}

}  // namespace
}  // namespace edgeward::bundle::test
