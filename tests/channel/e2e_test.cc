// The node side end to end on loopback against the real verifier
// (cloud::VerifierServer, SQLite, TLS 1.3) with a private swtpm: register
// (ActivateCredential), attest (quote bound to the TLS key, CSR → client
// certificate), then 10,000 events spooled during a verifier outage — with
// the writer SIGKILLed twice — delivered once each when it comes back.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include "edgeward/attest/reference.h"
#include "edgeward/attest_node/collect.h"
#include "edgeward/base/file.h"
#include "edgeward/channel/cloud_client.h"
#include "edgeward/channel/spool_key.h"
#include "edgeward/cloud/verifier.h"
#include "edgeward/tpm/pcr.h"
#include "eventlog_test_util.h"
#include "swtpm.h"

namespace edgeward::channel {
namespace {

class ChannelE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cloud::InitVerifierDir(dir_.path() + "/v", {"localhost", "127.0.0.1"}).ok());
    StartVerifier();
    auto sw = testing::Swtpm::Start();
    ASSERT_TRUE(sw.ok()) << sw.status().ToString();
    swtpm_ = std::move(*sw);
    auto t = tpm::Tpm::Open(swtpm_->tcti());
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tpm_.emplace(std::move(*t));
  }

  void StartVerifier() {
    auto ca_path = testing::SwtpmCaBundlePath();
    ASSERT_TRUE(ca_path.ok()) << ca_path.status().ToString();
    auto config = cloud::LoadVerifierConfig(dir_.path() + "/v/config.yaml");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config->port = port_;
    config->listen_address = "127.0.0.1";
    config->ek_ca_bundle_path = *ca_path;
    config->read_timeout = std::chrono::seconds(2);
    auto s = cloud::VerifierServer::Start(*config);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    port_ = server_->port();
  }

  HttpsClientOptions Https() const {
    HttpsClientOptions o;
    o.ca_file = dir_.path() + "/v/node-ca.crt";
    o.connect_timeout = std::chrono::milliseconds(2000);
    o.total_timeout = std::chrono::milliseconds(20000);
    return o;
  }

  CloudClientOptions Client() const {
    CloudClientOptions o;
    o.base_url = "https://127.0.0.1:" + std::to_string(port_);
    o.node_id = "edge-1";
    o.state_dir = node_.path();
    o.labels = {{"group", "default"}};
    o.uefi_log_path = node_.path() + "/no-uefi-log";
    o.ima_log_path = node_.path() + "/no-ima-log";
    o.max_attempts = 2;
    o.initial_backoff = std::chrono::milliseconds(50);
    return o;
  }

  // Reference values for group "default" from a known-good quote (admin).
  void PublishReference(const std::string& ima_log = "") {
    attest_node::CollectOptions co;
    co.state_dir = node_.path();
    co.nonce = Bytes(32, 0x11);
    co.node_id = "edge-1";
    co.uefi_log_path = node_.path() + "/no-uefi-log";
    co.ima_log_path = ima_log.empty() ? node_.path() + "/no-ima-log" : ima_log;
    auto ev = attest_node::CollectEvidence(*tpm_, co);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    auto ref = attest::ReferenceFromEvidence(*ev);
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    // The admin API is not part of the node client: call the handler the
    // HTTPS route calls, as the admin.
    cloud::Caller caller;
    caller.cert_cn = "admin:admin";
    auto reply = server_->service().PutReference("default", attest::FormatReferenceValues(*ref), caller);
    ASSERT_EQ(reply.status, 200) << reply.body;
  }

  // Appends `n` IMA entries to `path` and extends them into PCR 10, as the
  // kernel does (a fresh log when `fresh`).
  void MeasureIma(const std::string& path, int n, bool fresh = false) {
    static const char* const kFiles[] = {"/usr/bin/sensor", "/etc/sensor.yaml", "/usr/lib/libc.so.6"};
    std::string log;
    if (!fresh) {
      auto old = ReadFileToString(path, 1 << 20);
      if (old.ok()) log = *old;
    }
    for (int i = 0; i < n; ++i) {
      const std::string file = kFiles[i % 3];
      auto e = attest::testutil::ImaLine("ima-ng", "sha256", crypto::Digest(crypto::HashAlg::kSha256, AsBytes(file)), file);
      ASSERT_TRUE(tpm::ExtendPcr(*tpm_, 10, attest::testutil::ImaExtendValue(e)).ok());
      log += e.line + "\n";
    }
    ASSERT_TRUE(WriteFileAtomic(path, AsBytes(log), 0600).ok());
  }

  testing::TempDir dir_;
  testing::TempDir node_;
  int port_ = 0;
  std::unique_ptr<cloud::VerifierServer> server_;
  std::unique_ptr<testing::Swtpm> swtpm_;
  std::optional<tpm::Tpm> tpm_;
};

[[noreturn]] void Writer(const SpoolOptions& o, ByteView key, int report_fd, int total) {
  auto k = crypto::GuardedBytes::CopyOf(key);
  if (!k.ok()) _exit(9);
  auto spool = Spool::Open(o, std::move(*k));
  if (!spool.ok()) _exit(10);
  auto all = (*spool)->Peek(SIZE_MAX);
  if (!all.ok()) _exit(11);
  int next = all->empty() ? 0 : std::stoi(std::string(all->back().payload.begin() + 6, all->back().payload.end())) + 1;
  for (int i = next; i < total; ++i) {
    std::string p = "event-" + std::to_string(i);
    if (!(*spool)->Append(Priority::kEvent, AsBytes(p)).ok()) _exit(12);
    if (::write(report_fd, &i, sizeof i) != sizeof i) _exit(13);
  }
  if (!(*spool)->Flush().ok()) _exit(14);
  _exit(0);
}

TEST_F(ChannelE2e, RegisterAttestThenTenThousandSpooledEventsArriveOnceAfterAnOutage) {
  auto spool_key = LoadOrCreateSpoolKey(node_.path() + "/spool", &*tpm_);
  ASSERT_TRUE(spool_key.ok()) << spool_key.status().ToString();
  ASSERT_TRUE(spool_key->tpm_sealed);
  auto identity = NodeIdentity::LoadOrCreate(node_.path() + "/tls", spool_key->key.view());
  ASSERT_TRUE(identity.ok()) << identity.status().ToString();
  auto signing = crypto::Ed25519SigningKey::Generate();
  ASSERT_TRUE(signing.ok());
  auto https = HttpsClient::Create(Https());
  ASSERT_TRUE(https.ok());
  CloudClient client(Client(), std::move(*https), *tpm_, *identity, *signing);

  auto info = client.FetchVerifierInfo();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_TRUE(client.Register().ok());
  PublishReference();
  auto verdict = client.Attest();
  ASSERT_TRUE(verdict.ok()) << verdict.status().ToString();
  ASSERT_TRUE(verdict->pass) << (verdict->findings.empty() ? "" : verdict->findings[0].message);
  ASSERT_TRUE(verdict->client_cert_pem.has_value());
  ASSERT_TRUE(identity->certificate_pem().has_value());
  EXPECT_GT(identity->cert_not_after(), identity->cert_not_before());

  // Outage: the verifier goes away; 10,000 events are spooled by a writer
  // that is SIGKILLed twice and restarted.
  server_.reset();
  SpoolOptions so;
  so.dir = node_.path() + "/spool";
  so.segment_bytes = 256 << 10;
  constexpr int kTotal = 10000;
  std::mt19937 rng(7);
  int max_reported = -1;
  for (int round = 0; round < 3; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      Writer(so, spool_key->key.view(), fds[1], kTotal);
    }
    ::close(fds[1]);
    int kill_after = round < 2 ? std::uniform_int_distribution<int>(1000, 4000)(rng) : -1;
    int seen = 0, idx = 0;
    while (::read(fds[0], &idx, sizeof idx) == sizeof idx) {
      // Consecutive within a round. A restarted writer may start one past the
      // last report: its predecessor was killed after Append returned but
      // before reporting (that record is in the spool; the final check
      // proves it is delivered).
      if (seen == 0 && round > 0 && idx == max_reported + 2) max_reported = idx - 1;
      ASSERT_EQ(idx, max_reported + 1);
      max_reported = idx;
      if (++seen == kill_after) {
        ASSERT_EQ(::kill(pid, SIGKILL), 0);
      }
    }
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_EQ(round < 2, WIFSIGNALED(status)) << status;
  }
  ASSERT_EQ(max_reported, kTotal - 1);

  auto spool = Spool::Open(so, std::move(spool_key->key));
  ASSERT_TRUE(spool.ok()) << spool.status().ToString();
  ASSERT_EQ((*spool)->stats().live_records, static_cast<uint64_t>(kTotal));
  // While the verifier is down, sending fails as unavailable and keeps all.
  auto down = client.SendEvents(**spool, *info);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable) << down.status().ToString();
  EXPECT_EQ((*spool)->stats().live_records, static_cast<uint64_t>(kTotal));

  StartVerifier();  // same state directory and port
  auto sent = client.SendEvents(**spool, *info);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(sent->sent, static_cast<uint64_t>(kTotal));
  EXPECT_EQ(sent->duplicates, 0u);
  EXPECT_EQ(sent->rejected, 0u);
  EXPECT_EQ((*spool)->stats().live_records, 0u);
  auto count = server_->service().storage().CountEvents("edge-1");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, static_cast<size_t>(kTotal));
  std::printf("wire: %llu bytes in %llu batches for %d events (%.1f bytes/event)\n",
              static_cast<unsigned long long>(sent->wire_bytes), static_cast<unsigned long long>(sent->batches),
              kTotal, static_cast<double>(sent->wire_bytes) / kTotal);
}

// The client side of incremental IMA and offline reports: a second
// attestation sends only the new entries; a quote taken during an outage
// goes to the spool and, delivered later, is appraised for continuity; after
// a reboot the client resends the whole log when the verifier asks.
TEST_F(ChannelE2e, IncrementalImaOfflineReportAndFullLogAfterReboot) {
  const std::string ima = node_.path() + "/ima.log";
  MeasureIma(ima, 30);
  auto spool_key = LoadOrCreateSpoolKey(node_.path() + "/spool", &*tpm_);
  ASSERT_TRUE(spool_key.ok()) << spool_key.status().ToString();
  auto identity = NodeIdentity::LoadOrCreate(node_.path() + "/tls", spool_key->key.view());
  ASSERT_TRUE(identity.ok()) << identity.status().ToString();
  auto signing = crypto::Ed25519SigningKey::Generate();
  ASSERT_TRUE(signing.ok());
  auto https = HttpsClient::Create(Https());
  ASSERT_TRUE(https.ok());
  CloudClientOptions co = Client();
  co.ima_log_path = ima;
  CloudClient client(co, std::move(*https), *tpm_, *identity, *signing);
  ASSERT_TRUE(client.Register().ok());
  PublishReference(ima);

  auto first = client.Attest();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(first->pass);
  EXPECT_EQ(client.ima_offset(), 30u);
  const size_t full_bytes = client.last_evidence_bytes();
  MeasureIma(ima, 2);
  auto second = client.Attest();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->pass);
  EXPECT_EQ(client.ima_offset(), 32u);
  const size_t inc_bytes = client.last_evidence_bytes();
  EXPECT_LT(inc_bytes + 28 * 100, full_bytes);
  std::printf("evidence: %zu bytes with 30 IMA entries, %zu bytes with the 2 new ones\n", full_bytes, inc_bytes);
  EXPECT_EQ(client.full_log_retries(), 0u);

  // Outage: the quote goes to the spool, labelled offline.
  auto info = client.FetchVerifierInfo();
  ASSERT_TRUE(info.ok());
  server_.reset();
  MeasureIma(ima, 1);
  SpoolOptions so;
  so.dir = node_.path() + "/spool";
  auto spool = Spool::Open(so, std::move(spool_key->key));
  ASSERT_TRUE(spool.ok()) << spool.status().ToString();
  auto queued = client.AttestOffline(**spool);
  ASSERT_TRUE(queued.ok()) << queued.status().ToString();
  EXPECT_EQ((*spool)->stats().live_records, 1u);
  StartVerifier();
  auto sent = client.SendEvents(**spool, *info);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(sent->sent, 1u);
  EXPECT_EQ(sent->rejected, 0u);
  auto history = server_->service().storage().ListVerdicts("edge-1", 10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_TRUE((*history)[0].offline);
  EXPECT_TRUE((*history)[0].pass) << (*history)[0].summary;
  auto node = server_->service().storage().GetNode("edge-1");
  ASSERT_TRUE(node.ok() && *node);
  EXPECT_EQ((*node)->last_verdict_at, (*history)[1].time);  // still the fresh one

  // Reboot: a new IMA log, longer than the old offset; the verifier asks
  // for the whole log and the client sends it.
  tpm_.reset();
  ASSERT_TRUE(swtpm_->Restart().ok());
  auto t = tpm::Tpm::Open(swtpm_->tcti());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  tpm_.emplace(std::move(*t));  // same object address: the client's reference stays valid
  MeasureIma(ima, 40, /*fresh=*/true);
  auto after = client.Attest();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(after->pass) << (after->findings.empty() ? "" : after->findings[0].message);
  EXPECT_EQ(client.full_log_retries(), 1u);
  EXPECT_EQ(client.ima_offset(), 40u);
}

}  // namespace
}  // namespace edgeward::channel
