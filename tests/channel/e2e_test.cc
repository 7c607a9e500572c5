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
  void PublishReference() {
    attest_node::CollectOptions co;
    co.state_dir = node_.path();
    co.nonce = Bytes(32, 0x11);
    co.node_id = "edge-1";
    co.uefi_log_path = node_.path() + "/no-uefi-log";
    co.ima_log_path = node_.path() + "/no-ima-log";
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

}  // namespace
}  // namespace edgeward::channel
