#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <iostream>

#include "edgeward/attest/eventlog.h"
#include "eventlog_test_util.h"

namespace edgeward::attest {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testutil::ImaLine;

Bytes Fill(size_t n, uint8_t b) { return Bytes(n, b); }

Bytes Unhex(const std::string& s) { return *HexDecode(s); }

TEST(ImaLogTest, RealKernelLinesVerify) {
  // Lines recorded by Linux kernels (published in Keylime's test data); the
  // trailing space is the kernel's separator before an empty signature.
  const std::string log =
      "10 0c8a706a75a5689c1e168f0a573a3cbec33061b5 ima-sig "
      "sha256:e4cb9f5709c88376b5fc3743cd88e76b9aae8f3d992d845678de5215edb31216 boot_aggregate \n"
      "10 5426cf3031a43f5bfca183d79950698a95a728f6 ima-sig "
      "sha256:f1125b940480d20ad841d26d5ea253edc0704b5ec1548c891edf212cb1a9365e "
      "/lib/modules/5.4.48-openpower1/kernel/drivers/usb/common/usb-common.ko \n";
  auto parsed = ParseImaLog(log);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->events.size(), 2u);
  EXPECT_EQ(parsed->events[0].path, "boot_aggregate");
  EXPECT_EQ(parsed->events[1].type, "ima-sig");
  EXPECT_EQ(parsed->events[1].file_digest_alg, HashAlg::kSha256);
  EXPECT_EQ(HexEncode(parsed->events[1].file_digest),
            "f1125b940480d20ad841d26d5ea253edc0704b5ec1548c891edf212cb1a9365e");
  EXPECT_EQ(parsed->events[1].description, "no signature");
}

TEST(ImaLogTest, Sha256TemplateHashOfAKnownLineMatches) {
  // A sha256 template digest computed independently (Rust IMA replay test).
  auto parsed = ParseImaLog(
      "10 8aa71d146be2b1a0a53cb603be22928f1b74ae17 ima-sig "
      "sha256:94326940137a8f59b369d1aa058bccce58cbda37e68be0f138ea45c2cb743a46 boot_aggregate\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(HexEncode(parsed->events[0].digests.at(HashAlg::kSha256)),
            "cc1078d3b981e8ef52b3d4d9cffc2f27648d05947d4caa829e47f83fb8f8ed00");
}

TEST(ImaLogTest, EveryTemplateParsesIntoPathDigestAndReplay) {
  std::vector<testutil::ImaEntry> entries = {
      ImaLine("ima", "sha1", Fill(20, 1), "/usr/bin/legacy"),
      ImaLine("ima-ng", "sha256", Fill(32, 2), "/usr/bin/ng"),
      ImaLine("ima-ng", "sha1", Fill(20, 3), "/usr/bin/ng-sha1"),
      ImaLine("ima-sig", "sha256", Fill(32, 4), "/usr/bin/signed", Unhex("030204aabbccdd0002beef")),
      ImaLine("ima-sig", "sha512", Fill(64, 5), "/usr/bin/unsigned"),
      ImaLine("ima-buf", "sha256", Fill(32, 6), "kexec-cmdline", Unhex("726f6f743d2f6465762f736461")),
      ImaLine("ima-ng", "md5", Fill(16, 7), "/old/md5"),
  };
  std::string text;
  for (auto& e : entries) text += e.line + "\n";
  auto parsed = ParseImaLog(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->events.size(), entries.size());
  EXPECT_EQ(parsed->banks, (std::vector<HashAlg>{HashAlg::kSha1, HashAlg::kSha256}));
  const auto& ev = parsed->events;
  EXPECT_EQ(ev[0].type, "ima");
  EXPECT_EQ(ev[0].path, "/usr/bin/legacy");
  EXPECT_EQ(ev[0].file_digest_alg, HashAlg::kSha1);
  EXPECT_EQ(ev[1].file_digest, Fill(32, 2));
  EXPECT_EQ(ev[3].description, "signature 11 bytes");
  EXPECT_EQ(ev[4].file_digest_alg, HashAlg::kSha512);
  EXPECT_EQ(ev[5].path, "kexec-cmdline");
  EXPECT_EQ(ev[5].description, "buffer 13 bytes");
  EXPECT_EQ(ev[6].file_digest_alg, std::nullopt);
  EXPECT_THAT(ev[6].description, HasSubstr("md5"));
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(ev[i].line, i + 1);
    EXPECT_EQ(ev[i].pcr, 10u);
    EXPECT_EQ(ev[i].digests, entries[i].template_hash) << "line " << i + 1;
  }
  // Replay = fold of the independent template hashes.
  auto pcrs = Replay(*parsed);
  for (HashAlg bank : {HashAlg::kSha1, HashAlg::kSha256}) {
    Bytes want(crypto::DigestSize(bank), 0);
    for (auto& e : entries) crypto::ExtendInPlace(bank, want, e.template_hash[bank]);
    EXPECT_EQ(pcrs[bank][10], want) << crypto::HashAlgName(bank);
  }
}

TEST(ImaLogTest, ViolationExtendsAllOnes) {
  auto v = ImaLine("ima-ng", "sha256", Fill(32, 0), "/var/log/tomtou", {}, /*violation=*/true);
  auto parsed = ParseImaLog(v.line + "\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_THAT(parsed->events[0].description, HasSubstr("violation"));
  auto pcrs = Replay(*parsed);
  for (HashAlg bank : {HashAlg::kSha1, HashAlg::kSha256}) {
    Bytes want(crypto::DigestSize(bank), 0);
    crypto::ExtendInPlace(bank, want, Bytes(crypto::DigestSize(bank), 0xff));
    EXPECT_EQ(pcrs[bank][10], want);
  }
}

TEST(ImaLogTest, Sha256TemplateHashColumnIsChecked) {
  auto e = ImaLine("ima-ng", "sha256", Fill(32, 9), "/bin/sh");
  std::string line = "10 " + HexEncode(e.template_hash[HashAlg::kSha256]) + e.line.substr(3 + 40);
  auto parsed = ParseImaLog(line + "\n", HashAlg::kSha256);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->events[0].digests.at(HashAlg::kSha1), e.template_hash[HashAlg::kSha1]);
  // The sha1 column given to a sha256 parser is the wrong length.
  auto wrong = ParseImaLog(e.line + "\n", HashAlg::kSha256);
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.status().message(), HasSubstr("line 1: template hash must be 64 hex digits"));
}

TEST(ImaLogTest, TemplateHashMismatchIsRejectedWithLineNumber) {
  auto a = ImaLine("ima-ng", "sha256", Fill(32, 1), "/bin/a");
  auto b = ImaLine("ima-ng", "sha256", Fill(32, 2), "/bin/b");
  std::string tampered = b.line;
  tampered.replace(tampered.rfind("/bin/b"), 6, "/bin/c");  // path changed after measurement
  auto r = ParseImaLog(a.line + "\n" + tampered + "\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), StartsWith("ima log: line 2: template hash"));
  EXPECT_THAT(r.status().message(), HasSubstr("does not match the template data"));
}

struct BadLine {
  std::string line;
  std::string error;
};

TEST(ImaLogTest, MalformedLinesGiveSpecificErrors) {
  const std::string h40(40, 'a');
  const std::string d = "sha256:" + std::string(64, 'b');
  const std::vector<BadLine> cases = {
      {"10", "expected 'PCR TEMPLATE-HASH TEMPLATE-NAME FIELDS'"},
      {"x " + h40 + " ima-ng " + d + " /a", "PCR 'x' is not a number"},
      {"99 " + h40 + " ima-ng " + d + " /a", "PCR 99 out of range"},
      {"10 " + h40.substr(2) + " ima-ng " + d + " /a", "template hash must be 40 hex digits"},
      {"10 " + h40 + " ima-foo " + d + " /a", "unsupported template 'ima-foo'"},
      {"10 " + h40 + " ima-ng " + d, "needs a name field"},
      {"10 " + h40 + " ima-ng " + d + " /a extra", "has 2 fields, found more"},
      {"10 " + h40 + " ima-sig " + d + " /a 00 extra", "has 3 fields, found more"},
      {"10 " + h40 + " ima-ng sha256:zz /a", "file digest is not hex"},
      {"10 " + h40 + " ima-ng sha256:abcd /a", "sha256 digest of 2 bytes"},
      {"10 " + h40 + " ima-ng SHA$:abcd /a", "bad digest algorithm"},
      {"10 " + h40 + " ima-sig " + d + " /a 0g", "signature is not hex"},
      {"10 " + h40 + " ima-buf " + d + " /a 0", "buffer has odd hex length"},
      {"10 " + h40 + " ima " + std::string(40, 'c') + " /" + std::string(300, 'n'), "name longer than 255"},
      {"10 " + h40 + " ima " + std::string(30, 'c') + " /a", "must be 40 (SHA-1) or 32 (MD5) hex digits"},
      {"10 " + h40 + " ima-ng " + d + " /a\tb", "control character"},
  };
  const auto good = ImaLine("ima-ng", "sha1", Fill(20, 1), "/ok").line + "\n";
  for (const auto& c : cases) {
    auto r = ParseImaLog(good + good + c.line + "\n" + good);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_THAT(r.status().message(), StartsWith("ima log: line 3: ")) << c.line;
    EXPECT_THAT(r.status().message(), HasSubstr(c.error)) << c.line;
  }
}

TEST(ImaLogTest, EmptyLineInTheMiddleIsRejected) {
  const auto good = ImaLine("ima-ng", "sha1", Fill(20, 1), "/ok").line + "\n";
  auto r = ParseImaLog(good + "\n" + good);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("line 2: empty line"));
  EXPECT_TRUE(ParseImaLog("").ok());
}

TEST(ImaLogTest, TruncatedLastLineIsRejected) {
  const auto good = ImaLine("ima-ng", "sha256", Fill(32, 1), "/usr/lib/libc.so.6").line;
  for (size_t cut = 1; cut < good.size(); ++cut) {
    auto r = ParseImaLog(good + "\n" + good.substr(0, cut));
    EXPECT_FALSE(r.ok()) << "accepted a cut at " << cut;
    if (!r.ok()) {
      EXPECT_THAT(r.status().message(), StartsWith("ima log: line 2: "));
    }
  }
}

// Not a timing assertion: prints the figure for the record.
TEST(ImaLogTest, ParseAndReplayOfHundredThousandEntriesThroughput) {
  std::string text;
  const size_t n = 100'000;
  std::vector<std::string> lines;
  for (size_t i = 0; i < 64; ++i) {
    Bytes digest = crypto::Digest(HashAlg::kSha256, AsBytes(std::to_string(i)));
    lines.push_back(
        ImaLine("ima-ng", "sha256", digest, "/usr/lib/x86_64-linux-gnu/lib" + std::to_string(i) + ".so")
            .line);
  }
  for (size_t i = 0; i < n; ++i) text += lines[i % lines.size()] + "\n";
  // Best of three runs (the first pays for page faults on fresh memory),
  // timed in this thread's CPU time so a busy machine skews it less.
  auto cpu_now = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  };
  double best_parse = 1e9, best_total = 1e9;
  for (int run = 0; run < 3; ++run) {
    const double start = cpu_now();
    auto parsed = ParseImaLog(text);
    const double mid = cpu_now();
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    auto pcrs = Replay(*parsed);
    const double end = cpu_now();
    ASSERT_EQ(parsed->events.size(), n);
    ASSERT_EQ(pcrs.size(), 2u);
    best_parse = std::min(best_parse, mid - start);
    best_total = std::min(best_total, end - start);
  }
  std::cout << "IMA 100k entries (CPU time): parse+verify " << static_cast<long>(n / best_parse)
            << " entries/s; parse+verify+replay (sha1+sha256) " << static_cast<long>(n / best_total)
            << " entries/s\n";
  RecordProperty("ima_entries_per_second", static_cast<int>(n / best_total));
}

}  // namespace
}  // namespace edgeward::attest
