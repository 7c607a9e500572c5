#include "edgeward/channel/node_identity.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "edgeward/crypto/public_key.h"
#include "swtpm.h"

namespace edgeward::channel {
namespace {

Bytes Key(uint8_t fill) { return Bytes(32, fill); }

std::string ReadText(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void WriteText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// Signs `csr_pem` with a fresh test CA; returns the certificate PEM.
std::string IssueWithOpenssl(const testing::TempDir& dir, const std::string& csr_pem, int days) {
  WriteText(dir.File("node.csr"), csr_pem);
  auto r = testing::RunCommand(
      "cd '" + dir.path() +
      "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem "
      "-days 3 -subj /CN=ca && openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days " +
      std::to_string(days) + " -out node.pem");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return ReadText(dir.File("node.pem"));
}

TEST(NodeIdentityTest, KeyIsGeneratedOnceStoredEncryptedAndReloaded) {
  testing::TempDir tmp;
  auto a = NodeIdentity::LoadOrCreate(tmp.File("tls"), Key(1));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  struct stat st{};
  ASSERT_EQ(::stat(tmp.File("tls/tls-key.enc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto b = NodeIdentity::LoadOrCreate(tmp.File("tls"), Key(1));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->spki_der(), b->spki_der());
  auto pub = crypto::PublicKey::FromDer(a->spki_der());
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->Description(), "EC P-256");
  // The file holds no PEM/DER private key in the clear.
  std::string raw = ReadText(tmp.File("tls/tls-key.enc"));
  EXPECT_EQ(raw.rfind("EWTK", 0), 0u);
  EXPECT_EQ(raw.find("PRIVATE"), std::string::npos);
  auto wrong = NodeIdentity::LoadOrCreate(tmp.File("tls"), Key(2));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(wrong.status().message().find("does not decrypt"), std::string::npos);
}

TEST(NodeIdentityTest, CsrCarriesTheNodeIdAndKeyAndIssuedCertIsStored) {
  testing::TempDir tmp;
  auto id = NodeIdentity::LoadOrCreate(tmp.File("tls"), Key(3));
  ASSERT_TRUE(id.ok());
  auto csr = id->CreateCsr("node-7");
  ASSERT_TRUE(csr.ok()) << csr.status().ToString();
  WriteText(tmp.File("c.csr"), *csr);
  auto r = testing::RunCommand("openssl req -in '" + tmp.File("c.csr") + "' -verify -noout -subject");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("CN = node-7"), std::string::npos) << r.output;
  auto pem = IssueWithOpenssl(tmp, *csr, 1);
  ASSERT_TRUE(id->StoreCertificate(pem).ok());
  EXPECT_NEAR(static_cast<double>(id->cert_not_after() - id->cert_not_before()), 86400.0, 5.0);
  auto again = NodeIdentity::LoadOrCreate(tmp.File("tls"), Key(3));
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(again->certificate_pem().has_value());
  EXPECT_EQ(*again->certificate_pem(), pem);
  EXPECT_FALSE(again->PrivateKeyPem().value().empty());
  // A certificate for some other key is refused.
  auto other = NodeIdentity::LoadOrCreate(tmp.File("other"), Key(3));
  ASSERT_TRUE(other.ok());
  Status s = other->StoreCertificate(pem);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("not for this node's TLS key"), std::string::npos);
}

TEST(RenewalScheduleTest, DeadlineIsTwoThirdsOfTheLifetimeOnTheBootClock) {
  using namespace std::chrono;
  const int64_t nb = 1'000'000, na = nb + 3000;
  const auto wall = system_clock::time_point(seconds(nb + 500));
  const nanoseconds boot = seconds(100);
  RenewalSchedule s = RenewalSchedule::Compute(nb, na, wall, boot);
  EXPECT_EQ(duration_cast<seconds>(s.deadline()).count(), 100 + 2000 - 500);
  EXPECT_EQ(duration_cast<seconds>(s.RemainingAt(seconds(200))).count(), 1600 - 200);
  EXPECT_EQ(s.RemainingAt(seconds(5000)).count(), 0);
  // Already past 2/3: due immediately.
  RenewalSchedule late = RenewalSchedule::Compute(nb, na, system_clock::time_point(seconds(nb + 2900)), boot);
  EXPECT_EQ(late.deadline(), boot);
}

TEST(RenewalScheduleTest, WallClockJumpDoesNotMoveTheSchedule) {
  using namespace std::chrono;
  const auto wall0 = system_clock::now();
  const int64_t nb = duration_cast<seconds>(wall0.time_since_epoch()).count();
  const nanoseconds boot0 = BootTimeNow();
  RenewalSchedule s = RenewalSchedule::Compute(nb, nb + 30, wall0, boot0);  // due in ~19-20 s
  const nanoseconds deadline = s.deadline();
  // The wall clock now "jumps" a day forward: nothing reads it any more.
  // Recomputing from a jumped wall reading would move the deadline by the
  // jump (due at once); the stored schedule, on the boot clock alone, does not.
  RenewalSchedule jumped = RenewalSchedule::Compute(nb, nb + 30, wall0 + hours(24), boot0);
  EXPECT_EQ(jumped.deadline(), boot0);
  EXPECT_EQ(s.deadline(), deadline);
  auto remaining = s.RemainingAt(BootTimeNow());
  EXPECT_GT(remaining, seconds(10));
  EXPECT_LE(remaining, seconds(20));
  // The timerfd (CLOCK_BOOTTIME, absolute) fires at the deadline, not before.
  const nanoseconds boot1 = BootTimeNow();
  RenewalSchedule soon = RenewalSchedule::Compute(nb, nb + 6, system_clock::time_point(seconds(nb)), boot1);
  EXPECT_EQ(soon.deadline(), boot1 + seconds(4));
  auto timer = RenewalTimer::Arm(soon);
  ASSERT_TRUE(timer.ok()) << timer.status().ToString();
  auto early = timer->Wait(milliseconds(0));
  ASSERT_TRUE(early.ok());
  EXPECT_FALSE(*early);
  auto fired = timer->Wait(milliseconds(15000));
  ASSERT_TRUE(fired.ok());
  EXPECT_TRUE(*fired);
  EXPECT_GE(BootTimeNow(), soon.deadline());
}

}  // namespace
}  // namespace edgeward::channel
