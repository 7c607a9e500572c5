// Replays of logs we build while extending a real (software) TPM must equal
// the PCR values the TPM reports.
#include <gtest/gtest.h>

#include "edgeward/attest/cel.h"
#include "edgeward/attest/eventlog.h"
#include "edgeward/base/file.h"
#include "eventlog_test_util.h"
#include "swtpm.h"

namespace edgeward::attest {
namespace {

using testutil::Digests;
using testutil::ImaLine;

TEST(EventLogSwtpmTest, ImaReplayEqualsSwtpmPcr10InBothBanks) {
  auto tpm = testing::Swtpm::Start();
  ASSERT_TRUE(tpm.ok()) << tpm.status().ToString();
  std::vector<testutil::ImaEntry> entries;
  entries.push_back(ImaLine("ima-ng", "sha1", Bytes(20, 0x11), "boot_aggregate"));
  for (int i = 0; i < 30; ++i) {
    Bytes d = crypto::Digest(HashAlg::kSha256, AsBytes("file" + std::to_string(i)));
    const std::string path = "/usr/bin/tool" + std::to_string(i);
    switch (i % 5) {
      case 0:
        entries.push_back(ImaLine("ima-ng", "sha256", d, path));
        break;
      case 1:
        entries.push_back(ImaLine("ima-sig", "sha256", d, path, Bytes{3, 2, 4, 0xaa, 0xbb}));
        break;
      case 2:
        entries.push_back(ImaLine("ima-sig", "sha256", d, path));
        break;
      case 3:
        entries.push_back(ImaLine("ima", "sha1", crypto::Digest(HashAlg::kSha1, d), path));
        break;
      case 4:
        entries.push_back(ImaLine("ima-buf", "sha256", d, "kexec-cmdline", Bytes{'r', 'o'}));
        break;
    }
  }
  entries.push_back(
      ImaLine("ima-ng", "sha256", Bytes(32, 0), "/var/log/open-writers", {}, /*violation=*/true));
  entries.push_back(ImaLine("ima-ng", "sha256", Bytes(32, 0x42), "/usr/bin/after-violation"));

  std::string text;
  std::vector<Digests> extends;
  for (const auto& e : entries) {
    text += e.line + "\n";
    extends.push_back(testutil::ImaExtendValue(e));
  }
  ASSERT_EQ(testutil::ExtendPcr((*tpm)->tcti(), 10, extends), "");
  Digests tpm_pcr10 = testutil::ReadPcr((*tpm)->tcti(), 10);
  ASSERT_EQ(tpm_pcr10.size(), 2u);

  auto parsed = ParseImaLog(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto replay = Replay(*parsed);
  EXPECT_EQ(HexEncode(replay[HashAlg::kSha1][10]), HexEncode(tpm_pcr10[HashAlg::kSha1]));
  EXPECT_EQ(HexEncode(replay[HashAlg::kSha256][10]), HexEncode(tpm_pcr10[HashAlg::kSha256]));
}

TEST(EventLogSwtpmTest, CelWriteParseReplayEqualsSwtpm) {
  auto tpm = testing::Swtpm::Start();
  ASSERT_TRUE(tpm.ok()) << tpm.status().ToString();
  testing::TempDir dir;
  const std::string log_path = dir.File("measurements.cel");
  constexpr uint32_t kPcr = 14;
  const HashAlg banks[] = {HashAlg::kSha1, HashAlg::kSha256};
  for (int i = 0; i < 12; ++i) {
    auto recnum = NextCelRecnum(log_path);
    ASSERT_TRUE(recnum.ok()) << recnum.status().ToString();
    CelFileMeasurement m;
    m.path = "/opt/app/bin/part" + std::to_string(i);
    m.file_digest = crypto::Digest(HashAlg::kSha256, AsBytes(m.path));
    m.size = static_cast<uint64_t>(100 * i);
    if (i % 2) m.mtime = 1700000000 + i;
    auto rec = BuildCelFileRecord(*recnum, kPcr, m, banks);
    ASSERT_TRUE(rec.ok()) << rec.status().ToString();
    // Durable first, then extend — the order the agent uses.
    ASSERT_TRUE(AppendCelRecord(log_path, rec->line).ok());
    ASSERT_EQ(testutil::ExtendPcr((*tpm)->tcti(), kPcr, {rec->digests}), "");
  }
  Digests tpm_pcr = testutil::ReadPcr((*tpm)->tcti(), kPcr);
  ASSERT_EQ(tpm_pcr.size(), 2u);
  auto text = ReadFileToString(log_path, kMaxEventLogBytes);
  ASSERT_TRUE(text.ok());
  auto parsed = ParseCelLog(*text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->events.size(), 12u);
  auto replay = Replay(*parsed);
  EXPECT_EQ(replay[HashAlg::kSha1][kPcr], tpm_pcr[HashAlg::kSha1]);
  EXPECT_EQ(replay[HashAlg::kSha256][kPcr], tpm_pcr[HashAlg::kSha256]);
}

}  // namespace
}  // namespace edgeward::attest
