#include "edgeward/channel/spool.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "swtpm.h"

namespace edgeward::channel {
namespace {

namespace fs = std::filesystem;

crypto::GuardedBytes TestKey(uint8_t fill = 7) {
  Bytes k(kSpoolKeyBytes, fill);
  return std::move(crypto::GuardedBytes::CopyOf(k).value());
}

SpoolOptions Options(const std::string& dir) {
  SpoolOptions o;
  o.dir = dir;
  return o;
}

std::unique_ptr<Spool> OpenOrDie(const SpoolOptions& o, uint8_t fill = 7) {
  auto s = Spool::Open(o, TestKey(fill));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

std::string Text(const Bytes& b) { return std::string(b.begin(), b.end()); }

std::vector<std::string> DrainAll(Spool& spool, size_t batch = 500) {
  std::vector<std::string> out;
  uint64_t last_seq = 0;
  for (;;) {
    auto msgs = spool.Peek(batch);
    EXPECT_TRUE(msgs.ok()) << msgs.status().ToString();
    if (!msgs.ok() || msgs->empty()) break;
    std::vector<MessageId> ids;
    for (auto& m : *msgs) {
      EXPECT_GT(m.seq, last_seq);
      last_seq = m.seq;
      out.push_back(Text(m.payload));
      ids.push_back(m.id);
    }
    EXPECT_TRUE(spool.Ack(ids).ok());
  }
  return out;
}

std::vector<std::string> SegmentFiles(const std::string& dir) {
  std::vector<std::string> v;
  for (auto& e : fs::directory_iterator(dir)) {
    std::string n = e.path().filename();
    if (n.rfind("seg-", 0) == 0) v.push_back(e.path());
  }
  std::sort(v.begin(), v.end());
  return v;
}

TEST(SpoolTest, DeliversInOrderAndAcksSurviveRestart) {
  testing::TempDir tmp;
  SpoolOptions o = Options(tmp.File("spool"));
  uint64_t first_seq = 0;
  {
    auto spool = OpenOrDie(o);
    for (int i = 0; i < 10; ++i) {
      auto m = spool->Append(Priority::kEvent, AsBytes("m" + std::to_string(i)));
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      if (i == 0) first_seq = m->seq;
    }
    auto head = spool->Peek(4);
    ASSERT_TRUE(head.ok());
    ASSERT_EQ(head->size(), 4u);
    EXPECT_EQ(Text((*head)[0].payload), "m0");
    EXPECT_EQ((*head)[0].seq, first_seq);
    std::vector<MessageId> ids;
    for (auto& m : *head) ids.push_back(m.id);
    ASSERT_TRUE(spool->Ack(ids).ok());
    EXPECT_EQ(spool->stats().live_records, 6u);
  }
  struct stat st{};
  ASSERT_EQ(::stat(o.dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  for (const auto& f : SegmentFiles(o.dir)) {
    ASSERT_EQ(::stat(f.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
  auto spool = OpenOrDie(o);
  EXPECT_GE(spool->next_seq(), first_seq + 10);  // monotonic across restarts
  auto rest = DrainAll(*spool);
  EXPECT_EQ(rest, (std::vector<std::string>{"m4", "m5", "m6", "m7", "m8", "m9"}));
  auto m = spool->Append(Priority::kEvent, AsBytes("after"));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->seq, first_seq + 10);
}

TEST(SpoolTest, SequenceStaysMonotonicAfterEverythingIsAckedAndDeleted) {
  testing::TempDir tmp;
  SpoolOptions o = Options(tmp.File("spool"));
  uint64_t last = 0;
  {
    auto spool = OpenOrDie(o);
    for (int i = 0; i < 5; ++i) last = spool->Append(Priority::kEvent, AsBytes("x")).value().seq;
    DrainAll(*spool);
  }
  {
    auto spool = OpenOrDie(o);  // the old segment is now fully acked and deleted
    EXPECT_EQ(SegmentFiles(o.dir).size(), 1u);
    EXPECT_EQ(spool->Append(Priority::kEvent, AsBytes("y")).value().seq, last + 1);
  }
}

TEST(SpoolTest, SecondOpenerIsRefused) {
  testing::TempDir tmp;
  SpoolOptions o = Options(tmp.File("spool"));
  auto a = OpenOrDie(o);
  auto b = Spool::Open(o, TestKey());
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(b.status().message().find("in use"), std::string::npos);
}

TEST(SpoolTest, RejectsBadKeyAndOversizedPayload) {
  testing::TempDir tmp;
  auto bad = Spool::Open(Options(tmp.File("s")), std::move(crypto::GuardedBytes::Allocate(16).value()));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  auto spool = OpenOrDie(Options(tmp.File("s")));
  Bytes big(kMaxRecordPayloadBytes + 1);
  auto m = spool->Append(Priority::kEvent, big);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
}

// The writer: reopens the spool, finds where the previous (killed) writer
// got to by reading back what it wrote, and appends from there, reporting
// each index on `report_fd` once Append has returned.
[[noreturn]] void WriterChild(const SpoolOptions& o, int report_fd, int total) {
  auto spool = Spool::Open(o, TestKey());
  if (!spool.ok()) _exit(10);
  auto all = (*spool)->Peek(SIZE_MAX);
  if (!all.ok()) _exit(11);
  int next = all->empty() ? 0 : std::stoi(Text(all->back().payload).substr(6)) + 1;
  for (int i = next; i < total; ++i) {
    if (!(*spool)->Append(Priority::kEvent, AsBytes("event-" + std::to_string(i))).ok()) _exit(12);
    if (::write(report_fd, &i, sizeof i) != sizeof i) _exit(13);
  }
  if (!(*spool)->Flush().ok()) _exit(14);
  _exit(0);
}

TEST(SpoolTest, TenThousandEventsSurviveTwoSigkillsInOrderWithoutDuplicates) {
  testing::TempDir tmp;
  SpoolOptions o = Options(tmp.File("spool"));
  o.segment_bytes = 64 << 10;  // many segments, so kills land near rotations too
  constexpr int kTotal = 10000;
  std::mt19937 rng(12345);
  int max_reported = -1;
  for (int round = 0; round < 3; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      WriterChild(o, fds[1], kTotal);
    }
    ::close(fds[1]);
    // Kill after a random number of reported appends (rounds 0 and 1).
    int kill_after = round < 2 ? std::uniform_int_distribution<int>(1500, 3500)(rng) : -1;
    // Reports still in the pipe after the kill are appends that returned
    // too: keep reading to EOF.
    int seen = 0, idx = 0;
    while (::read(fds[0], &idx, sizeof idx) == sizeof idx) {
      // Consecutive within a round. A restarted writer may start one past the
      // last report: its predecessor was killed after Append returned but
      // before reporting (that record is in the spool; the final check
      // proves it is delivered).
      if (seen == 0 && round > 0 && idx == max_reported + 2) max_reported = idx - 1;
      EXPECT_EQ(idx, max_reported + 1);
      max_reported = idx;
      if (++seen == kill_after) {
        ASSERT_EQ(::kill(pid, SIGKILL), 0);
      }
    }
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    if (round < 2) {
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    } else {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }
  }
  EXPECT_EQ(max_reported, kTotal - 1);
  auto spool = OpenOrDie(o);
  EXPECT_EQ(spool->quarantine_reports().size(), 0u);  // a kill never tears a record
  auto delivered = DrainAll(*spool, 1000);
  ASSERT_EQ(delivered.size(), static_cast<size_t>(kTotal));
  for (int i = 0; i < kTotal; ++i) ASSERT_EQ(delivered[i], "event-" + std::to_string(i));
  spool.reset();
  auto again = OpenOrDie(o);
  EXPECT_EQ(again->stats().live_records, 0u);  // acks persisted: nothing resent
}

void FlipByte(const std::string& path, off_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(offset);
  char c = 0;
  f.get(c);
  f.seekp(offset);
  f.put(static_cast<char>(c ^ 0x40));
}

// Three segments of 20 records each, closed.
std::vector<std::string> MakeThreeSegments(const SpoolOptions& o) {
  auto spool = OpenOrDie(o);
  for (int i = 0; i < 60; ++i) {
    EXPECT_TRUE(spool->Append(Priority::kEvent, AsBytes("r" + std::to_string(i))).ok());
  }
  return SegmentFiles(o.dir);
}

TEST(SpoolTest, CorruptRecordQuarantinesItsSegmentAndTheRestIsDelivered) {
  testing::TempDir tmp;
  SpoolOptions o = Options(tmp.File("spool"));
  // Each record: 37 header + 2..3 payload + 17 tag bytes; rotate after 20.
  o.segment_bytes = kSegmentHeaderBytes + 19 * 57 + 1;
  auto segs = MakeThreeSegments(o);
  ASSERT_GE(segs.size(), 3u);
  // Corrupt the ciphertext of the 6th record of the second segment.
  std::ifstream in(segs[1], std::ios::binary);
  std::string image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<RecordMeta> metas;
  std::vector<std::string> lost;
  auto key = TestKey();
  ASSERT_TRUE(ReadSegment(AsBytes(image), key.view(), [&](const RecordMeta& m, ByteView p) {
                metas.push_back(m);
                if (metas.size() > 5) lost.push_back(std::string(p.begin(), p.end()));
                return true;
              }).ok());
  ASSERT_GT(metas.size(), 6u);
  FlipByte(segs[1], static_cast<off_t>(metas[5].offset + kRecordHeaderBytes + 1));
  auto spool = OpenOrDie(o);
  ASSERT_EQ(spool->quarantine_reports().size(), 1u);
  const Status& r = spool->quarantine_reports()[0];
  EXPECT_EQ(r.code(), StatusCode::kDataLoss);
  EXPECT_NE(r.message().find("does not authenticate"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find(fs::path(segs[1]).filename().string()), std::string::npos);
  EXPECT_EQ(spool->stats().quarantined_segments, 1u);
  EXPECT_TRUE(fs::exists(o.dir + "/quarantine/" + fs::path(segs[1]).filename().string()));
  auto got = DrainAll(*spool);
  std::vector<std::string> want;
  for (int i = 0; i < 60; ++i) {
    std::string name = "r" + std::to_string(i);
    if (std::find(lost.begin(), lost.end(), name) == lost.end()) want.push_back(name);
  }
  EXPECT_EQ(want.size(), 60 - lost.size());
  EXPECT_EQ(got, want);
}

TEST(SpoolTest, TornTailIsQuarantinedAndTheIntactPrefixDelivered) {
  testing::TempDir tmp;
  SpoolOptions o = Options(tmp.File("spool"));
  o.segment_bytes = kSegmentHeaderBytes + 19 * 57 + 1;
  auto segs = MakeThreeSegments(o);
  ASSERT_GE(segs.size(), 3u);
  const std::string& last = segs[2];
  fs::resize_file(last, fs::file_size(last) - 5);  // power loss mid-record
  auto spool = OpenOrDie(o);
  ASSERT_EQ(spool->quarantine_reports().size(), 1u);
  EXPECT_NE(spool->quarantine_reports()[0].message().find("torn record"), std::string::npos)
      << spool->quarantine_reports()[0].message();
  auto got = DrainAll(*spool);
  ASSERT_EQ(got.size(), 59u);
  EXPECT_EQ(got.back(), "r58");
  // A restart after recovery finds nothing more to quarantine and no duplicates.
  spool.reset();
  auto again = OpenOrDie(o);
  EXPECT_EQ(again->quarantine_reports().size(), 0u);
  EXPECT_EQ(again->stats().live_records, 0u);
}

TEST(SpoolTest, WrongKeyQuarantinesInsteadOfDeliveringGarbage) {
  testing::TempDir tmp;
  SpoolOptions o = Options(tmp.File("spool"));
  {
    auto spool = OpenOrDie(o);
    ASSERT_TRUE(spool->Append(Priority::kEvent, AsBytes("secret")).ok());
  }
  auto spool = OpenOrDie(o, /*fill=*/9);
  ASSERT_EQ(spool->quarantine_reports().size(), 1u);
  EXPECT_EQ(spool->stats().live_records, 0u);
}

TEST(SpoolTest, FullSpoolDropsTelemetryThenEventsAndNeverAttestationForLess) {
  testing::TempDir tmp;
  SpoolOptions o = Options(tmp.File("spool"));
  const uint64_t rec = kRecordHeaderBytes + 4 + kRecordOverheadBytes;  // 4-byte payloads
  o.max_bytes = 6 * rec;
  auto spool = OpenOrDie(o);
  auto add = [&](Priority p, const char* s) { return spool->Append(p, AsBytes(s)); };
  ASSERT_TRUE(add(Priority::kTelemetry, "tel0").ok());
  ASSERT_TRUE(add(Priority::kAttestation, "att0").ok());
  ASSERT_TRUE(add(Priority::kTelemetry, "tel1").ok());
  ASSERT_TRUE(add(Priority::kEvent, "evt0").ok());
  ASSERT_TRUE(add(Priority::kEvent, "evt1").ok());
  ASSERT_TRUE(add(Priority::kAttestation, "att1").ok());
  // Full. An event evicts the oldest telemetry, then the next one.
  ASSERT_TRUE(add(Priority::kEvent, "evt2").ok());
  ASSERT_TRUE(add(Priority::kEvent, "evt3").ok());
  EXPECT_EQ(spool->stats().dropped[2], 2u);
  // No telemetry left: new telemetry is refused, not allowed to evict events.
  auto t = add(Priority::kTelemetry, "tel2");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(t.status().message().find("spool full"), std::string::npos);
  EXPECT_EQ(spool->stats().refused[2], 1u);
  // Attestation evicts the oldest event.
  ASSERT_TRUE(add(Priority::kAttestation, "att2").ok());
  EXPECT_EQ(spool->stats().dropped[1], 1u);
  auto all = spool->Peek(100).value();
  std::vector<std::string> got;
  for (auto& m : all) got.push_back(Text(m.payload));
  EXPECT_EQ(got, (std::vector<std::string>{"att0", "evt1", "att1", "evt2", "evt3", "att2"}));
  // Events can't evict attestation.
  ASSERT_TRUE(add(Priority::kAttestation, "att3").ok());  // evicts evt1
  ASSERT_TRUE(add(Priority::kAttestation, "att4").ok());  // evicts evt2
  ASSERT_TRUE(add(Priority::kAttestation, "att5").ok());  // evicts evt3
  EXPECT_EQ(add(Priority::kEvent, "evt4").status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(spool->stats().dropped[0], 0u);
  // Only attestation remains: a new attestation evicts the oldest one.
  ASSERT_TRUE(add(Priority::kAttestation, "att6").ok());
  EXPECT_EQ(spool->stats().dropped[0], 1u);
  EXPECT_EQ(Text(spool->Peek(1).value()[0].payload), "att1");
  EXPECT_LE(spool->stats().live_bytes, o.max_bytes);
  // Drops persist: a restart delivers exactly what is live now.
  spool.reset();
  auto again = OpenOrDie(o);
  EXPECT_EQ(again->stats().live_records, 6u);
}

}  // namespace
}  // namespace edgeward::channel
