// The bundle container and manifest: round trip, and hostile input rejected
// with a located error, never a crash.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "bundle_test_util.h"
#include "swtpm.h"

namespace edgeward::bundle::test {
namespace {

void PutU32(Bytes& b, size_t at, uint32_t v) {
  b[at] = static_cast<uint8_t>(v >> 24);
  b[at + 1] = static_cast<uint8_t>(v >> 16);
  b[at + 2] = static_cast<uint8_t>(v >> 8);
  b[at + 3] = static_cast<uint8_t>(v);
}

// A container around hand-written manifest JSON (payload and sigs given).
Bytes Container(std::string_view manifest, std::string_view payload = "", std::string_view sigs = "[]") {
  Bytes out(kBundleMagic.begin(), kBundleMagic.end());
  for (std::string_view s : {manifest, payload, sigs}) {
    size_t at = out.size();
    out.resize(at + 4);
    PutU32(out, at, static_cast<uint32_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

std::string Manifest(const std::string& files, const std::string& targets = R"({"all":true,"labels":{},"nodes":[]})") {
  return R"({"expires_at":"2026-12-23T00:00:00Z","files":)" + files +
         R"(,"format":1,"issued_at":"2026-11-22T00:00:00Z","targets":)" + targets +
         R"(,"type":"edgeward-bundle","version":3})";
}

std::string Error(ByteView data) {
  auto b = DecodeBundle(data);
  EXPECT_FALSE(b.ok());
  if (b.ok()) return "";
  EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument) << b.status().ToString();
  return b.status().message();
}

TEST(CodecTest, RoundTrip) {
  Keys keys = NewKeys();
  Bytes bytes = SignedBundle(MakeTestBundle(7), {&keys.policy[0]});
  auto b = DecodeBundle(bytes);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->manifest.version, 7u);
  ASSERT_EQ(b->manifest.files.size(), 3u);
  EXPECT_EQ(b->manifest.files[0].path, "policies/p0.yaml");
  EXPECT_EQ(b->manifest.files[2].kind, FileKind::kRules);
  EXPECT_EQ(b->Content(b->manifest.files[1]), "name: p1\nversion: 7\n");
  EXPECT_EQ(b->signatures.size(), 1u);
  EXPECT_EQ(EncodeBundle(*b), bytes);
  EXPECT_EQ(b->digest.size(), 64u);
}

TEST(CodecTest, EveryTruncationIsRejected) {
  Keys keys = NewKeys();
  Bytes bytes = SignedBundle(MakeTestBundle(1), {&keys.policy[0]});
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto b = DecodeBundle(ByteView(bytes.data(), n));
    ASSERT_FALSE(b.ok()) << "accepted a bundle truncated to " << n << " bytes";
    EXPECT_NE(b.status().message().find("byte "), std::string::npos) << b.status().ToString();
  }
  Bytes longer = bytes;
  longer.push_back(0);
  EXPECT_NE(Error(longer).find("trailing bytes"), std::string::npos);
}

TEST(CodecTest, HugeLengthsAreRejectedBeforeAllocating) {
  Bytes b = Container("{}");
  PutU32(b, 8, 0xffffffffu);
  EXPECT_NE(Error(b).find("byte 8: manifest length 4294967295 exceeds the limit"), std::string::npos) << Error(b);
  Bytes c = Container("{}");
  PutU32(c, 8, 1000);
  EXPECT_NE(Error(c).find("exceeds the remaining"), std::string::npos);
  EXPECT_NE(Error(AsBytes("EWBUNDL2")).find("magic"), std::string::npos);
  EXPECT_NE(Error(AsBytes("garbage")).find("magic"), std::string::npos);
}

TEST(CodecTest, DeepNestingIsRejected) {
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  EXPECT_NE(Error(Container(deep)).find("nesting deeper than"), std::string::npos);
  std::string targets = R"({"all":true,"labels":{"a":[[[[[[[[1]]]]]]]]},"nodes":[]})";
  EXPECT_NE(Error(Container(Manifest("[]", targets))).find("nesting"), std::string::npos);
}

TEST(CodecTest, HostilePathsAreRejected) {
  const std::string sha = std::string(64, '0');
  for (const char* path : {"../etc/passwd", "policies/../../x", "/policies/a", "policies/./a", "policies//a",
                           "policies", "etc/passwd", "policies/a b", "policies/a/b/c/d", "policies/\u00e9",
                           "policies/a\\b", "policies/a/"}) {
    std::string files = R"([{"path":")" + std::string(path) + R"(","sha256":")" + sha + R"(","size":0}])";
    std::string err = Error(Container(Manifest(files)));
    EXPECT_NE(err.find("files[0].path"), std::string::npos) << path << ": " << err;
  }
}

TEST(CodecTest, ManifestFieldsAreCheckedWithTheirPath) {
  const std::string sha_empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  std::string one = R"([{"path":"policies/a.yaml","sha256":")" + sha_empty + R"(","size":0}])";
  ASSERT_TRUE(DecodeBundle(Container(Manifest(one))).ok()) << Error(Container(Manifest(one)));
  std::string dup = R"([{"path":"policies/a.yaml","sha256":")" + sha_empty + R"(","size":0},{"path":"policies/a.yaml","sha256":")" + sha_empty + R"(","size":0}])";
  EXPECT_NE(Error(Container(Manifest(dup))).find("files[1].path: duplicate"), std::string::npos);
  std::string big = R"([{"path":"policies/a.yaml","sha256":")" + sha_empty + R"(","size":99999999999}])";
  EXPECT_NE(Error(Container(Manifest(big))).find("files[0].size"), std::string::npos);
  std::string wrong_hash = R"([{"path":"policies/a.yaml","sha256":")" + std::string(64, 'a') + R"(","size":1}])";
  EXPECT_NE(Error(Container(Manifest(wrong_hash), "x")).find("SHA-256 does not match"), std::string::npos);
  EXPECT_NE(Error(Container(Manifest(one), "x")).find("not described by the manifest"), std::string::npos);
  std::string neg = R"([{"path":"policies/a.yaml","sha256":")" + sha_empty + R"(","size":-1}])";
  EXPECT_NE(Error(Container(Manifest(neg))).find("negative"), std::string::npos);
  std::string flt = R"([{"path":"policies/a.yaml","sha256":")" + sha_empty + R"(","size":0.5}])";
  EXPECT_NE(Error(Container(Manifest(flt))).find("fractional"), std::string::npos);
  EXPECT_NE(Error(Container(Manifest("[]", R"({"all":false,"labels":{},"nodes":[]})"))).find("targets no node"), std::string::npos);
  EXPECT_NE(Error(Container(Manifest("[]", R"({"all":true,"labels":{},"nodes":["n1"]})"))).find("ambiguous"), std::string::npos);
  std::string m = Manifest("[]");
  m.insert(m.size() - 1, R"(,"zextra":1)");
  EXPECT_NE(Error(Container(m)).find("field zextra: unknown field"), std::string::npos) << Error(Container(m));
  std::string spaced = Manifest("[]");
  spaced.insert(1, " ");
  EXPECT_NE(Error(Container(spaced)).find("canonical"), std::string::npos);
  std::string expired_before_issue = Manifest("[]");
  expired_before_issue.replace(expired_before_issue.find("2026-12-23"), 10, "2026-11-01");
  EXPECT_NE(Error(Container(expired_before_issue)).find("expires_at: not after issued_at"), std::string::npos);
  EXPECT_NE(Error(Container(Manifest("[]"), "", R"([{"keyid":"zz","sig":"AA=="}])")).find("signatures[0].keyid"),
            std::string::npos);
}

TEST(CodecTest, TooManyFilesIsRejected) {
  std::string files = "[";
  for (size_t i = 0; i <= kMaxFiles; ++i) files += std::string(i ? "," : "") + "1";
  files += "]";
  EXPECT_NE(Error(Container(Manifest(files))).find("items (at most 10000)"), std::string::npos);
}

TEST(TargetsTest, SelectorParsesAndMatches) {
  auto all = ParseTargetSelector("all");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(TargetsMatch(*all, NodeIdentity{"x", {}}));
  auto t = ParseTargetSelector("node=edge-7,label.site=berlin,label.tier=gold");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(TargetsMatch(*t, NodeIdentity{"edge-7", {}}));
  EXPECT_TRUE(TargetsMatch(*t, NodeIdentity{"other", {{"site", "berlin"}, {"tier", "gold"}, {"x", "y"}}}));
  EXPECT_FALSE(TargetsMatch(*t, NodeIdentity{"other", {{"site", "berlin"}}}));
  EXPECT_FALSE(TargetsMatch(*t, NodeIdentity{"other", {{"site", "berlin"}, {"tier", "silver"}}}));
  EXPECT_EQ(FormatTargets(*t), "node=edge-7,label.site=berlin,label.tier=gold");
  for (const char* bad : {"", "all,node=a", "node=", "host=a", "label.=x", "node=a b", "label.k=v,label.k=w"}) {
    EXPECT_EQ(ParseTargetSelector(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(BuildTest, DirectoryIsPackedAndOddEntriesRefused) {
  testing::TempDir dir;
  ASSERT_EQ(::mkdir(dir.File("policies").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(dir.File("policies/team").c_str(), 0700), 0);
  std::ofstream(dir.File("policies/web.yaml")) << "name: web\n";
  std::ofstream(dir.File("policies/team/db.yaml")) << "name: db\n";
  Targets all;
  all.all = true;
  auto b = MakeBundleFromDir(dir.path(), 1, kNow, kNow + kDay, all);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ(b->manifest.files.size(), 2u);
  EXPECT_EQ(b->manifest.files[0].path, "policies/team/db.yaml");
  EXPECT_EQ(b->Content(*b->Find("policies/web.yaml")), "name: web\n");

  ASSERT_EQ(::symlink("/etc/passwd", dir.File("policies/link.yaml").c_str()), 0);
  auto linked = MakeBundleFromDir(dir.path(), 1, kNow, kNow + kDay, all);
  EXPECT_NE(linked.status().message().find("not a regular file"), std::string::npos) << linked.status().ToString();
  ASSERT_EQ(::unlink(dir.File("policies/link.yaml").c_str()), 0);
  std::ofstream(dir.File("README")) << "x";
  auto stray = MakeBundleFromDir(dir.path(), 1, kNow, kNow + kDay, all);
  EXPECT_NE(stray.status().message().find("holds only the directories"), std::string::npos);
}

TEST(BuildTest, WorkloadsDirectoryIsCarriedAndDecoded) {
  testing::TempDir dir;
  ASSERT_EQ(::mkdir(dir.File("policies").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(dir.File("workloads").c_str(), 0700), 0);
  std::ofstream(dir.File("policies/web.yaml")) << "name: web\n";
  std::ofstream(dir.File("workloads/web.yaml")) << "kind: Workload\n";
  Targets all;
  all.all = true;
  auto b = MakeBundleFromDir(dir.path(), 1, kNow, kNow + kDay, all);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ(b->manifest.files.size(), 2u);
  EXPECT_EQ(b->manifest.files[1].path, "workloads/web.yaml");
  EXPECT_EQ(b->manifest.files[1].kind, FileKind::kWorkload);
  EXPECT_EQ(FileKindName(FileKind::kWorkload), "workloads");
  auto decoded = DecodeBundle(EncodeBundle(*b));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->Content(*decoded->Find("workloads/web.yaml")), "kind: Workload\n");
  auto kind = ValidateBundlePath("workloads/web.yaml");
  ASSERT_TRUE(kind.ok());
  EXPECT_EQ(*kind, FileKind::kWorkload);
  auto other = ValidateBundlePath("workload/web.yaml");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("top directory must be policies, rules, reference or workloads"), std::string::npos);
}

TEST(ChangesTest, ChangedFilesPerKind) {
  Bundle a = MakeTestBundle(1, 3);
  std::map<std::string, std::string> files = {{"policies/p0.yaml", std::string(a.Content(a.manifest.files[0]))},
                                              {"policies/p1.yaml", "changed\n"},
                                              {"policies/p9.yaml", "new\n"},
                                              {"rules/base.rules", std::string(a.Content(*a.Find("rules/base.rules")))}};
  Targets all;
  all.all = true;
  auto b = MakeBundle(2, kNow, kNow + kDay, all, files);
  ASSERT_TRUE(b.ok());
  ChangeSet c = ChangedFiles(a, *b);
  ASSERT_EQ(c.by_kind.size(), 1u);
  const KindChanges& p = c.by_kind.at(FileKind::kPolicy);
  EXPECT_EQ(p.added, std::vector<std::string>{"policies/p9.yaml"});
  EXPECT_EQ(p.removed, std::vector<std::string>{"policies/p2.yaml"});
  EXPECT_EQ(p.changed, std::vector<std::string>{"policies/p1.yaml"});
  EXPECT_TRUE(ChangedFiles(a, a).empty());
}

}  // namespace
}  // namespace edgeward::bundle::test
