#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "edgeward/attest/cel.h"
#include "edgeward/attest/eventlog.h"
#include "edgeward/base/file.h"
#include "swtpm.h"

namespace edgeward::attest {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr HashAlg kBanks[] = {HashAlg::kSha1, HashAlg::kSha256};

CelFileMeasurement File(const std::string& path, uint8_t fill = 7) {
  CelFileMeasurement m;
  m.path = path;
  m.file_digest = Bytes(32, fill);
  m.size = 1234;
  m.mtime = 1700000000;
  return m;
}

std::string Line(uint64_t recnum, const CelFileMeasurement& m, uint32_t pcr = 14) {
  auto rec = BuildCelFileRecord(recnum, pcr, m, kBanks);
  EXPECT_TRUE(rec.ok()) << rec.status().ToString();
  return rec.ok() ? rec->line : "";
}

TEST(CelLogTest, CanonicalContentLayoutIsAsDocumented) {
  CelFileMeasurement m;
  m.path = "/a";
  m.file_digest = Bytes(32, 0xab);
  auto c = CanonicalFileContent(m);
  ASSERT_TRUE(c.ok());
  Bytes want(AsBytes(std::string_view("edgeward.file/1\0", 16)).begin(),
             AsBytes(std::string_view("edgeward.file/1\0", 16)).end());
  for (int b : {0, 0, 0, 2, int{'/'}, int{'a'}, 0x00, 0x0b, 0x00, 0x20})
    want.push_back(static_cast<uint8_t>(b));
  want.insert(want.end(), 32, 0xab);
  want.push_back(0);  // no size
  want.push_back(0);  // no mtime
  EXPECT_EQ(*c, want);
}

TEST(CelLogTest, RecordDigestsAreHashOfCanonicalContentPerBank) {
  auto m = File("/usr/bin/edgeward");
  auto rec = BuildCelFileRecord(0, 14, m, kBanks);
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  Bytes canonical = *CanonicalFileContent(m);
  EXPECT_EQ(rec->digests.at(HashAlg::kSha1), crypto::Digest(HashAlg::kSha1, canonical));
  EXPECT_EQ(rec->digests.at(HashAlg::kSha256), crypto::Digest(HashAlg::kSha256, canonical));
  auto j = nlohmann::json::parse(rec->line);
  EXPECT_EQ(j["recnum"], 0);
  EXPECT_EQ(j["pcr"], 14);
  EXPECT_EQ(j["content_type"], "edgeward.file");
  EXPECT_EQ(j["content"]["path"], "/usr/bin/edgeward");
  EXPECT_EQ(j["content"]["file_hash_alg"], "sha256");
  EXPECT_EQ(j["digests"][1]["hashAlg"], "sha256");
  EXPECT_EQ(rec->line.find('\n'), std::string::npos);
}

TEST(CelLogTest, WriteParseReplayRoundTrip) {
  std::string log;
  for (uint64_t i = 0; i < 5; ++i)
    log += Line(i, File("/bin/f" + std::to_string(i), static_cast<uint8_t>(i))) + "\n";
  auto parsed = ParseCelLog(log);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->events.size(), 5u);
  EXPECT_TRUE(parsed->warnings.empty());
  EXPECT_EQ(parsed->banks, (std::vector<HashAlg>{HashAlg::kSha1, HashAlg::kSha256}));
  EXPECT_EQ(parsed->events[3].path, "/bin/f3");
  EXPECT_EQ(parsed->events[3].file_digest, Bytes(32, 3));
  EXPECT_EQ(parsed->events[3].line, 4u);
  auto pcrs = Replay(*parsed);
  Bytes want(32, 0);
  for (uint64_t i = 0; i < 5; ++i) {
    crypto::ExtendInPlace(
        HashAlg::kSha256, want,
        crypto::Digest(HashAlg::kSha256,
                       *CanonicalFileContent(File("/bin/f" + std::to_string(i), static_cast<uint8_t>(i)))));
  }
  EXPECT_EQ(pcrs[HashAlg::kSha256][14], want);
}

TEST(CelLogTest, NonUtf8PathIsRecordedAsHexAndRoundTrips) {
  auto m = File(std::string("/tmp/\xff\xfe-bad", 11));
  auto parsed = ParseCelLog(Line(0, m) + "\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->events[0].path, m.path);
  EXPECT_THAT(Line(0, m), HasSubstr("\"path_hex\""));
}

TEST(CelLogTest, DigestContentMismatchIsRejected) {
  std::string good = Line(0, File("/bin/a"));
  std::string tampered = Line(1, File("/bin/b"));
  // Swap the recorded path while keeping the digests of the original.
  tampered.replace(tampered.find("/bin/b"), 6, "/bin/c");
  auto r = ParseCelLog(good + "\n" + tampered + "\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), StartsWith("cel log: line 2: "));
  EXPECT_THAT(r.status().message(), HasSubstr("does not match the record's content"));
}

TEST(CelLogTest, RecnumGapIsRejected) {
  auto r = ParseCelLog(Line(0, File("/a")) + "\n" + Line(2, File("/b")) + "\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("line 2: recnum 2 where 1 was expected (records missing)"));
}

TEST(CelLogTest, DuplicateRecnumIsRejected) {
  auto r = ParseCelLog(Line(0, File("/a")) + "\n" + Line(1, File("/b")) + "\n" + Line(1, File("/c")) + "\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("line 3: recnum 1 where 2 was expected (duplicate"));
}

TEST(CelLogTest, LogNotStartingAtRecnumZeroIsRejected) {
  auto r = ParseCelLog(Line(1, File("/a")) + "\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("line 1: recnum 1 where 0 was expected"));
}

TEST(CelLogTest, TrailingPartialLineIsAWarningNotAnEvent) {
  std::string a = Line(0, File("/a")), b = Line(1, File("/b"));
  for (size_t cut : {size_t{1}, b.size() / 2, b.size()}) {
    auto r = ParseCelLog(a + "\n" + b.substr(0, cut));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->events.size(), 1u);
    ASSERT_EQ(r->warnings.size(), 1u);
    EXPECT_THAT(r->warnings[0], HasSubstr("line 2: trailing partial record"));
  }
}

TEST(CelLogTest, MalformedLineInTheMiddleIsAnErrorWithItsLine) {
  std::string a = Line(0, File("/a")), b = Line(1, File("/b"));
  auto r = ParseCelLog(a + "\n" + b.substr(0, b.size() / 2) + "\n" + b + "\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), StartsWith("cel log: line 2: not valid JSON"));
}

TEST(CelLogTest, MalformedRecordsGiveSpecificErrors) {
  nlohmann::json base = nlohmann::json::parse(Line(0, File("/a")));
  struct Case {
    std::function<void(nlohmann::json&)> edit;
    std::string error;
  };
  std::vector<Case> cases = {
      {[](auto& j) { j.erase("recnum"); }, "recnum missing"},
      {[](auto& j) { j["recnum"] = -1; }, "recnum missing or not an unsigned integer"},
      {[](auto& j) { j["pcr"] = 24; }, "pcr missing or not an index below 24"},
      {[](auto& j) { j["content_type"] = "pcclient_std"; }, "unsupported content_type 'pcclient_std'"},
      {[](auto& j) { j["extra"] = 1; }, "unknown field 'extra'"},
      {[](auto& j) { j["digests"] = nlohmann::json::array(); }, "digests missing or not a non-empty array"},
      {[](auto& j) { j["digests"][0]["hashAlg"] = "md5"; }, "unknown hashAlg 'md5'"},
      {[](auto& j) { j["digests"][0]["digest"] = "00"; }, "sha1 digest must be 40 lower-case hex digits"},
      {[](auto& j) { j["digests"][1] = j["digests"][0]; }, "two sha1 digests"},
      {[](auto& j) { j["content"]["file_digest"] = "zz"; }, "content.file_digest must be 64"},
      {[](auto& j) { j["content"]["path_hex"] = "2f"; }, "exactly one of path, path_hex"},
      {[](auto& j) { j["content"]["size"] = "big"; }, "content.size is not an unsigned integer"},
      {[](auto& j) { j["content"]["owner"] = "root"; }, "unknown content field 'owner'"},
      {[](auto& j) { j["content"]["path"] = ""; }, "path of 0 bytes"},
      {[](auto& j) { j = nlohmann::json::array(); }, "record is not a JSON object"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    nlohmann::json j = base;
    cases[i].edit(j);
    auto r = ParseCelLog(j.dump() + "\n");
    ASSERT_FALSE(r.ok()) << i;
    EXPECT_THAT(r.status().message(), StartsWith("cel log: line 1: ")) << i;
    EXPECT_THAT(r.status().message(), HasSubstr(cases[i].error)) << i;
  }
}

TEST(CelLogTest, DeeplyNestedAndOverlongLinesAreRejected) {
  auto deep = ParseCelLog(std::string(10000, '[') + std::string(10000, ']') + "\n");
  ASSERT_FALSE(deep.ok());
  EXPECT_THAT(deep.status().message(), HasSubstr("line 1: JSON nested too deeply"));
  auto longline = ParseCelLog("{\"recnum\":\"" + std::string(kMaxCelLineBytes, 'a') + "\"}\n");
  ASSERT_FALSE(longline.ok());
  EXPECT_THAT(longline.status().message(), HasSubstr("line 1: longer than"));
}

TEST(CelLogTest, AppendCreatesA0600FileAndNextRecnumCounts) {
  testing::TempDir dir;
  const std::string path = dir.File("measurements.cel");
  auto n0 = NextCelRecnum(path);
  ASSERT_TRUE(n0.ok());
  EXPECT_EQ(*n0, 0u);
  ASSERT_TRUE(AppendCelRecord(path, Line(0, File("/a"))).ok());
  ASSERT_TRUE(AppendCelRecord(path, Line(1, File("/b"))).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto n2 = NextCelRecnum(path);
  ASSERT_TRUE(n2.ok()) << n2.status().ToString();
  EXPECT_EQ(*n2, 2u);
  EXPECT_EQ(AppendCelRecord(path, "two\nlines").code(), StatusCode::kInvalidArgument);
}

TEST(CelLogTest, AppendAfterACrashRemovesThePartialTail) {
  testing::TempDir dir;
  const std::string path = dir.File("log.cel");
  std::string a = Line(0, File("/a")), b = Line(1, File("/b"));
  // A crash cut the second append short: its extend never happened.
  ASSERT_TRUE(WriteFileAtomic(path, AsBytes(a + "\n" + b.substr(0, 40)), 0600).ok());
  auto warned = ParseCelLog(*ReadFileToString(path, 1 << 20));
  ASSERT_TRUE(warned.ok());
  EXPECT_EQ(warned->warnings.size(), 1u);
  auto next = NextCelRecnum(path);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(*next, 1u);
  ASSERT_TRUE(AppendCelRecord(path, b).ok());
  auto parsed = ParseCelLog(*ReadFileToString(path, 1 << 20));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->events.size(), 2u);
  EXPECT_TRUE(parsed->warnings.empty());
}

TEST(EventLogOutputTest, TextAndJsonShowEventsAndPcrs) {
  auto parsed = ParseCelLog(Line(0, File("/bin/\x1b[31mred")) + "\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto pcrs = Replay(*parsed);
  std::string text = FormatLogText(*parsed, pcrs);
  EXPECT_THAT(text, HasSubstr("format: cel"));
  EXPECT_THAT(text, HasSubstr("PCR 14 edgeward.file"));
  EXPECT_THAT(text, HasSubstr("path: /bin/.[31mred"));  // no raw escape reaches a terminal
  EXPECT_THAT(text, HasSubstr("pcrs:\n  sha1:\n    14 : 0x" + HexEncode(pcrs[HashAlg::kSha1][14])));
  auto j = nlohmann::json::parse(FormatLogJson(*parsed, pcrs));
  EXPECT_EQ(j["format"], "cel");
  EXPECT_EQ(j["events"][0]["pcr"], 14);
  EXPECT_EQ(j["events"][0]["file_hash_alg"], "sha256");
  EXPECT_EQ(j["pcrs"]["sha256"]["14"], HexEncode(pcrs[HashAlg::kSha256][14]));
}

TEST(EventLogOutputTest, ParseEventLogDetectsAndParsesEachFormat) {
  auto cel = ParseEventLog(AsBytes(Line(0, File("/a")) + "\n"));
  ASSERT_TRUE(cel.ok()) << cel.status().ToString();
  EXPECT_EQ(cel->format, EventLogFormat::kCel);
  auto uefi =
      ReadFileToString(std::string(EDGEWARD_TESTDATA_DIR) + "/eventlogs/event-uefiaction.bin", 1 << 20);
  ASSERT_TRUE(uefi.ok());
  auto u = ParseEventLog(AsBytes(*uefi));
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->format, EventLogFormat::kUefi);
  EXPECT_THAT(FormatLogText(*u, Replay(*u)), HasSubstr("EV_EFI_ACTION"));
  EXPECT_FALSE(ParseEventLog(AsBytes("{}\n"), EventLogFormat::kIma).ok());
}

}  // namespace
}  // namespace edgeward::attest

namespace edgeward::attest {
namespace {

// The seed corpora were written by an independent Python implementation of
// the documented encodings (cel.h, the kernel's IMA template layout).
TEST(IndependentWriterTest, SeedLogsFromAnotherImplementationVerify) {
  const std::string dir = std::string(EDGEWARD_SOURCE_DIR) + "/fuzz/corpus/";
  auto cel = ReadFileToString(dir + "cel_log/three.cel", 1 << 20);
  ASSERT_TRUE(cel.ok()) << cel.status().ToString();
  auto c = ParseCelLog(*cel);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->events.size(), 3u);
  auto ima = ReadFileToString(dir + "ima_log/mixed.txt", 1 << 20);
  ASSERT_TRUE(ima.ok()) << ima.status().ToString();
  auto i = ParseImaLog(*ima);
  ASSERT_TRUE(i.ok()) << i.status().ToString();
  EXPECT_EQ(i->events.size(), 7u);
}

}  // namespace
}  // namespace edgeward::attest
