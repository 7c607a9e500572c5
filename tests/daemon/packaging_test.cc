// The install layout and the Debian package: what an operator gets from
// `cmake --install` and `cpack -G DEB` (cmake/Packaging.cmake), checked on
// the real artefacts built from this tree.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "swtpm.h"

namespace edgeward {
namespace {

using testing::RunCommand;
using testing::TempDir;

const std::string kBinaryDir = EDGEWARD_BINARY_DIR;
const std::string kSourceDir = EDGEWARD_SOURCE_DIR;

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode;
}

TEST(PackagingTest, InstallPutsBinaryUnitConfigRulesAndProfilesInPlace) {
  TempDir dest;
  auto r = RunCommand("DESTDIR=" + dest.path() + " cmake --install " + kBinaryDir + " --prefix /usr");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string root = dest.path();
  EXPECT_TRUE(S_ISREG(ModeOf(root + "/usr/bin/edgeward")));
  EXPECT_TRUE(ModeOf(root + "/usr/bin/edgeward") & S_IXUSR);
  EXPECT_TRUE(S_ISREG(ModeOf(root + "/usr/bin/edgeward-verifier")));
  EXPECT_TRUE(ModeOf(root + "/usr/bin/edgeward-run") & S_IXUSR) << "the lean workload runner is missing";
  EXPECT_TRUE(ModeOf(root + "/usr/bin/edgeward-agent") & S_IXUSR) << "the lean daemon binary is missing";
  EXPECT_TRUE(S_ISREG(ModeOf(root + "/usr/lib/systemd/system/edgeward.service")));
  EXPECT_TRUE(S_ISREG(ModeOf(root + "/usr/lib/sysusers.d/edgeward.conf")));
  // The config is readable by all (no secrets in it) but writable by root only.
  EXPECT_EQ(ModeOf(root + "/etc/edgeward/agent.yaml") & 0777, 0644u);
  EXPECT_TRUE(S_ISREG(ModeOf(root + "/usr/share/edgeward/rules/10-attestation.yaml")));
  EXPECT_TRUE(S_ISREG(ModeOf(root + "/usr/share/edgeward/seccomp/baseline.json")));
  EXPECT_TRUE(S_ISREG(ModeOf(root + "/usr/share/edgeward/seccomp/strict.json")));
}

TEST(PackagingTest, ShippedDefaultConfigValidates) {
  auto r = RunCommand(kBinaryDir + "/agent/edgeward agent --check-config --config " + kSourceDir + "/packaging/agent.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // And the check is real: a misspelt key in a copy is a located error.
  TempDir tmp;
  auto bad = RunCommand("sed 's/^stateDir:/stateDri:/' " + kSourceDir + "/packaging/agent.yaml > " + tmp.File("bad.yaml") +
                        " && " + kBinaryDir + "/agent/edgeward agent --check-config --config " + tmp.File("bad.yaml"));
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("bad.yaml:"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("stateDri"), std::string::npos) << bad.output;
}

TEST(PackagingTest, UnitIsTypeNotifyWithWatchdogAndRatesMediumOrBetter) {
  const std::string unit = kSourceDir + "/packaging/systemd/edgeward.service";
  auto grep = RunCommand("grep -E '^(Type=notify|WatchdogSec=|ExecReload=|KillMode=process|StateDirectoryMode=0700)' " + unit + " | wc -l");
  ASSERT_EQ(grep.exit_code, 0) << grep.output;
  EXPECT_EQ(std::stoi(grep.output), 5) << "the unit lost one of its daemon contract lines";
  // systemd's own exposure rating of the unit file. A root agent that
  // builds sandboxes can't take every switch (see the unit's comments);
  // this guards against losing the ones it has.
  auto sec = RunCommand("systemd-analyze security --offline=yes " + unit + " | tail -1");
  ASSERT_EQ(sec.exit_code, 0) << sec.output;
  auto pos = sec.output.find("exposure level for edgeward.service: ");
  ASSERT_NE(pos, std::string::npos) << sec.output;
  double score = std::stod(sec.output.substr(pos + 38));
  EXPECT_LE(score, 6.0) << sec.output;
  EXPECT_GT(score, 0.0) << sec.output;
}

TEST(PackagingTest, DebianPackageCarriesConffileMaintainerScriptsAndLayout) {
  TempDir out;
  auto r = RunCommand("cd " + out.path() + " && cpack -G DEB --config " + kBinaryDir + "/CPackConfig.cmake");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto deb = RunCommand("ls " + out.path() + "/*.deb");
  ASSERT_EQ(deb.exit_code, 0) << deb.output;
  std::string deb_path = deb.output.substr(0, deb.output.find('\n'));

  auto info = RunCommand("dpkg-deb -I " + deb_path);
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("Package: edgeward"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("Depends:"), std::string::npos) << "shlibdeps found no libraries:\n" << info.output;
  EXPECT_NE(info.output.find("postinst"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("conffiles"), std::string::npos) << info.output;

  auto conffiles = RunCommand("dpkg-deb --ctrl-tarfile " + deb_path + " | tar -xO ./conffiles");
  ASSERT_EQ(conffiles.exit_code, 0) << conffiles.output;
  EXPECT_EQ(conffiles.output, "/etc/edgeward/agent.yaml\n");

  auto contents = RunCommand("dpkg-deb -c " + deb_path);
  ASSERT_EQ(contents.exit_code, 0) << contents.output;
  for (const char* path : {"./usr/bin/edgeward", "./usr/lib/systemd/system/edgeward.service", "./etc/edgeward/agent.yaml",
                           "./usr/share/edgeward/rules/", "./usr/share/edgeward/seccomp/baseline.json"}) {
    EXPECT_NE(contents.output.find(path), std::string::npos) << path << " missing from:\n" << contents.output;
  }
  // The postinst makes the state directory root-only.
  auto postinst = RunCommand("dpkg-deb --ctrl-tarfile " + deb_path + " | tar -xO ./postinst");
  ASSERT_EQ(postinst.exit_code, 0) << postinst.output;
  EXPECT_NE(postinst.output.find("install -d -m 0700 -o root -g root /var/lib/edgeward"), std::string::npos);
}

}  // namespace
}  // namespace edgeward
