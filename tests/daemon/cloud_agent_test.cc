// CloudAgent end to end on loopback: a real verifier (cloud::VerifierServer,
// SQLite, TLS 1.3, in-process), a private swtpm, the agent's worker thread
// and a real EventLoop on its own thread delivering the callbacks. Every
// event the agent emits is checked against the rules engine's schema.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "edgeward/attest/cel.h"
#include "edgeward/attest/eventlog.h"
#include "edgeward/attest/reference.h"
#include "edgeward/attest_node/collect.h"
#include "edgeward/attest_node/measure.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/file.h"
#include "edgeward/bundle/bundle.h"
#include "edgeward/bundle/root.h"
#include "edgeward/cloud/verifier.h"
#include "edgeward/crypto/hash.h"
#include "edgeward/daemon/cloud_agent.h"
#include "edgeward/policy/parse.h"
#include "edgeward/rules/event.h"
#include "edgeward/rules/event_parser.h"
#include "edgeward/tpm/pcr.h"
#include "swtpm.h"

namespace edgeward::daemon {
namespace {

using namespace std::chrono_literals;

int64_t WallNow() { return static_cast<int64_t>(::time(nullptr)); }

constexpr char kGoodPolicy[] = R"(apiVersion: edgeward/v1
kind: WorkloadPolicy
metadata: {name: sensor-reader}
spec:
  mode: enforce
  network: none
  filesystem:
    readOnly: [/usr]
  seccomp:
    profile: strict
)";

class CloudAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sw = testing::Swtpm::Start();
    ASSERT_TRUE(sw.ok()) << sw.status().ToString();
    swtpm_ = std::move(*sw);
    ASSERT_TRUE(cloud::InitVerifierDir(vdir_.path() + "/v", {"localhost", "127.0.0.1"}).ok());
    MakeBundleRoot();
    StartVerifier();
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status().ToString();
    loop_ = std::move(*loop);
    loop_thread_ = std::thread([this] {
      Status s = loop_->Run();
      EXPECT_TRUE(s.ok()) << s.ToString();
    });
  }

  void TearDown() override {
    agent_.reset();
    if (loop_) loop_->Stop();
    if (loop_thread_.joinable()) loop_thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_TRUE(schema_errors_.empty()) << schema_errors_.front();
  }

  void StartVerifier() {
    auto ca_path = testing::SwtpmCaBundlePath();
    ASSERT_TRUE(ca_path.ok()) << ca_path.status().ToString();
    auto config = cloud::LoadVerifierConfig(vdir_.path() + "/v/config.yaml");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config->port = port_;  // 0 the first time; the same port after a restart
    config->listen_address = "127.0.0.1";
    config->ek_ca_bundle_path = *ca_path;
    config->read_timeout = std::chrono::seconds(2);
    config->bundle_root_path = vdir_.path() + "/v/root.json";
    if (cert_lifetime_.count() > 0) config->cert_lifetime = cert_lifetime_;
    auto s = cloud::VerifierServer::Start(*config);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    port_ = server_->port();
  }

  // A root of trust for bundles (one root key, one policy key), used by the
  // verifier to accept publications and by the node as its trusted root.
  void MakeBundleRoot() {
    auto rk = crypto::Ed25519SigningKey::Generate();
    auto pk = crypto::Ed25519SigningKey::Generate();
    ASSERT_TRUE(rk.ok() && pk.ok());
    bundle::RootContent rc;
    rc.version = 1;
    rc.expires = WallNow() + 86400;
    rc.root_threshold = 1;
    rc.root_keys = {rk->KeyId()};
    rc.policy_threshold = 1;
    rc.policy_keys = {{pk->KeyId(), WallNow() + 86400}};
    rc.keys = {{rk->KeyId(), rk->public_key()}, {pk->KeyId(), pk->public_key()}};
    auto doc = bundle::MakeRootDocument(rc);
    ASSERT_TRUE(doc.ok()) << doc.status().ToString();
    ASSERT_TRUE(bundle::SignRootDocument(*doc, *rk).ok());
    ASSERT_TRUE(
        WriteFileAtomic(vdir_.path() + "/v/root.json", AsBytes(bundle::SerializeRootDocument(*doc)), 0600).ok());
    policy_key_.emplace(std::move(pk).value());
  }

  // Publishes a bundle for every node, as the admin (the handler the HTTPS
  // admin route calls).
  void PublishBundle(uint64_t version, const std::string& policy_text) {
    bundle::Targets all;
    all.all = true;
    auto b = bundle::MakeBundle(version, WallNow() - 10, WallNow() + 3600, all,
                                {{"policies/sensor-reader.yaml", policy_text}});
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    ASSERT_TRUE(bundle::SignBundle(*b, *policy_key_).ok());
    Bytes file = bundle::EncodeBundle(*b);
    cloud::Caller admin;
    admin.cert_cn = "admin:admin";
    auto reply = server_->service().PublishBundle(AsChars(file), admin);
    ASSERT_EQ(reply.status, 201) << reply.body;
  }

  // Reference values for group "default" from a known-good quote of this
  // node (its AK in the node state dir, its measurement log as it is now).
  // Uses its own TPM connection: call it while no agent is running.
  void PublishReference(const std::optional<std::string>& node_id_override = std::nullopt) {
    auto t = tpm::Tpm::Open(swtpm_->tcti());
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    attest_node::CollectOptions co;
    co.state_dir = node_.path();
    co.nonce = Bytes(32, 0x11);
    co.node_id = "edge-1";
    co.uefi_log_path = node_.path() + "/no-uefi-log";
    co.ima_log_path = node_.path() + "/no-ima-log";
    auto ev = attest_node::CollectEvidence(*t, co);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    auto ref = attest::ReferenceFromEvidence(*ev);
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    if (node_id_override) ref->node_id = *node_id_override;
    cloud::Caller admin;
    admin.cert_cn = "admin:admin";
    reference_yaml_ = attest::FormatReferenceValues(*ref);
    auto reply = server_->service().PutReference("default", reference_yaml_, admin);
    ASSERT_EQ(reply.status, 200) << reply.body;
  }

  // The verifier loses everything: stopped, its database deleted (as a
  // restore from a backup taken before this node registered would), started
  // again on the same port with the same keys and CA, and the reference
  // values put back.
  void WipeVerifierDatabase() {
    server_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) {
      const std::string p = vdir_.path() + "/v/verifier.db" + suffix;
      ASSERT_TRUE(::unlink(p.c_str()) == 0 || errno == ENOENT) << p;
    }
    StartVerifier();
    auto node = server_->service().storage().GetNode("edge-1");
    ASSERT_TRUE(node.ok() && !node->has_value()) << "the database was not wiped";
    cloud::Caller admin;
    admin.cert_cn = "admin:admin";
    auto reply = server_->service().PutReference("default", reference_yaml_, admin);
    ASSERT_EQ(reply.status, 200) << reply.body;
  }

  CloudAgentOptions Options(bool with_verifier = true) const {
    CloudAgentOptions o;
    o.node_id = "edge-1";
    o.labels = {{"group", "default"}};
    o.state_dir = node_.path();
    o.tcti = swtpm_->tcti();
    if (with_verifier) {
      o.verifier_url = "https://127.0.0.1:" + std::to_string(port_);
      o.verifier_ca_file = vdir_.path() + "/v/node-ca.crt";
    }
    o.connect_timeout = 2s;
    o.request_timeout = 10s;
    o.attestation_interval = 1h;  // tests ask with AttestNow()
    o.fetch_interval = 1h;
    o.fetch_jitter = 0ms;
    o.bundle_root_file = vdir_.path() + "/v/root.json";
    o.make_content_validator = [] {
      return [](bundle::FileKind kind, std::string_view path, std::string_view bytes) -> Status {
        if (kind != bundle::FileKind::kPolicy) return Status::Ok();
        return policy::ParsePolicy(bytes, std::string(path)).status();
      };
    };
    o.uefi_log_path = node_.path() + "/no-uefi-log";
    o.ima_log_path = node_.path() + "/no-ima-log";
    o.retry_initial = 100ms;
    o.retry_max = 1s;
    return o;
  }

  void StartAgent(CloudAgentOptions o) {
    CloudAgentCallbacks cb;
    cb.on_event = [this](const std::string& line) {
      rules::Event ev;
      Status s = rules::ParseEventJson(line, "cloud-agent", 1, &ev);
      std::lock_guard<std::mutex> lock(mu_);
      if (!s.ok()) schema_errors_.push_back(s.ToString() + " in " + line);
      events_.push_back(line);
      cv_.notify_all();
    };
    cb.on_bundle = [this](const bundle::Bundle& b) {
      std::lock_guard<std::mutex> lock(mu_);
      bundles_.push_back(b.manifest.version);
      cv_.notify_all();
    };
    agent_ = std::make_unique<CloudAgent>(*loop_, std::move(o), std::move(cb));
    Status s = agent_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Waits (on the callbacks' condition variable, re-checking every 20 ms
  // for Snapshot() changes) until `pred` holds.
  bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (pred()) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, 20ms);
    }
  }

  std::vector<std::string> Events(std::string_view type) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    const std::string needle = "\"type\":\"" + std::string(type) + "\"";
    for (const auto& e : events_) {
      if (e.find(needle) != std::string::npos) out.push_back(e);
    }
    return out;
  }

  std::vector<uint64_t> Bundles() {
    std::lock_guard<std::mutex> lock(mu_);
    return bundles_;
  }

  CloudStatus Snap() const { return agent_->Snapshot(); }

  testing::TempDir vdir_;
  testing::TempDir node_;
  std::unique_ptr<testing::Swtpm> swtpm_;
  int port_ = 0;
  std::chrono::seconds cert_lifetime_{0};
  std::unique_ptr<cloud::VerifierServer> server_;
  std::optional<crypto::Ed25519SigningKey> policy_key_;
  std::string reference_yaml_;
  std::unique_ptr<EventLoop> loop_;
  std::thread loop_thread_;
  std::unique_ptr<CloudAgent> agent_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> events_;
  std::vector<uint64_t> bundles_;
  std::vector<std::string> schema_errors_;
};

TEST_F(CloudAgentTest, RegistersAttestsAndGetsACertificate) {
  PublishReference();
  StartAgent(Options());
  ASSERT_TRUE(WaitFor([&] { return Snap().attestations_passed >= 1; })) << Snap().last_attest_error;
  CloudStatus st = Snap();
  EXPECT_TRUE(st.registered);
  EXPECT_TRUE(st.tpm_ok);
  ASSERT_TRUE(st.last_verdict.has_value());
  EXPECT_TRUE(st.last_verdict->pass);
  EXPECT_TRUE(st.last_verdict->reasons.empty());
  EXPECT_GT(st.cert_not_after, WallNow());
  ASSERT_TRUE(st.first_pass_after.has_value());

  // The verifier's side: an active node with one issued certificate, and a
  // passing verdict on record.
  auto node = server_->service().storage().GetNode("edge-1");
  ASSERT_TRUE(node.ok() && node->has_value());
  EXPECT_EQ((*node)->state, cloud::NodeState::kActive);
  auto certs = server_->service().storage().ListIssuedCerts("edge-1");
  ASSERT_TRUE(certs.ok());
  ASSERT_EQ(certs->size(), 1u);
  EXPECT_EQ((*certs)[0].expires_at, st.cert_not_after);
  EXPECT_TRUE(ReadFileToString(node_.path() + "/tls/tls-cert.pem", 1 << 16).ok());

  // Events reach the loop after the status is updated.
  ASSERT_TRUE(WaitFor([&] { return !Events("attestation.verdict").empty(); }));
  auto verdicts = Events("attestation.verdict");
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_NE(verdicts[0].find("\"pass\":true"), std::string::npos) << verdicts[0];
  EXPECT_NE(verdicts[0].find("\"verifier\":\"cloud\""), std::string::npos) << verdicts[0];

  // On demand: one more attestation, one more certificate.
  agent_->AttestNow();
  ASSERT_TRUE(WaitFor([&] { return Snap().attestations_passed >= 2; })) << Snap().last_attest_error;
  EXPECT_EQ(server_->service().storage().ListIssuedCerts("edge-1")->size(), 2u);

  // A restart does not register again (the registration is remembered)
  // and attests with the same identity.
  agent_.reset();
  StartAgent(Options());
  ASSERT_TRUE(WaitFor([&] { return Snap().attestations_passed >= 1; })) << Snap().last_attest_error;
  EXPECT_TRUE(Snap().registered);
  auto verdict_history = server_->service().storage().ListVerdicts("edge-1", 10);
  ASSERT_TRUE(verdict_history.ok());
  EXPECT_EQ(verdict_history->size(), 3u);
}

TEST_F(CloudAgentTest, VerifierLosesTheNodeTheAgentRegistersAgainWithTheSameIdentity) {
  PublishReference();
  StartAgent(Options());
  ASSERT_TRUE(WaitFor([&] { return Snap().attestations_passed >= 1; })) << Snap().last_attest_error;
  agent_->Report(R"({"type":"workload.start","time":"2026-11-24T00:00:00Z","workload":{"name":"w","pid":1}})");
  ASSERT_TRUE(WaitFor([&] { return Snap().events_sent == 1; })) << Snap().verifier_error;
  auto before = server_->service().storage().GetNode("edge-1");
  ASSERT_TRUE(before.ok() && before->has_value());
  const cloud::NodeRecord old_node = **before;

  WipeVerifierDatabase();
  // The first call to notice is the event send (the agent still holds a
  // certificate from the same CA, so the TLS handshake succeeds): the
  // verifier answers 404 unknown_node, the event stays in the spool, the
  // agent registers again, attests (passes: same AK, reference restored)
  // and then delivers the event.
  agent_->Report(R"({"type":"workload.exit","time":"2026-11-24T00:00:01Z","workload":{"name":"w","pid":1},"exit":{"code":0}})");
  ASSERT_TRUE(WaitFor([&] { return Snap().reregistrations == 1 && Snap().attestations_passed >= 2; }))
      << Snap().verifier_error << " / " << Snap().last_attest_error;
  ASSERT_TRUE(WaitFor([&] { return Snap().events_sent == 2 && Snap().spool_messages == 0; })) << Snap().verifier_error;
  CloudStatus st = Snap();
  EXPECT_TRUE(st.registered);
  EXPECT_EQ(st.spool_dropped, 0u);
  ASSERT_TRUE(st.last_verdict.has_value());
  EXPECT_TRUE(st.last_verdict->pass);

  // One node.reregistered event naming the verifier's answer.
  ASSERT_TRUE(WaitFor([&] { return Events("node.reregistered").size() == 1; }));
  const std::string ev = Events("node.reregistered")[0];
  EXPECT_NE(ev.find("\"registration\":{\"reason\":\"send events: /events: HTTP 404: node 'edge-1' is not registered"),
            std::string::npos)
      << ev;

  // The verifier knows the node again with the same TPM identity and event
  // key (nothing was thrown away), and has the post-wipe event once — the
  // one before the wipe was acknowledged by the old database and is not
  // resent (that history is what the restore lost).
  auto after = server_->service().storage().GetNode("edge-1");
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_EQ((*after)->state, cloud::NodeState::kActive);
  EXPECT_EQ((*after)->ek_hash, old_node.ek_hash);
  EXPECT_EQ((*after)->ak_name, old_node.ak_name);
  EXPECT_EQ((*after)->signing_key, old_node.signing_key);
  EXPECT_EQ(*server_->service().storage().CountEvents("edge-1"), 1u);
  EXPECT_TRUE(ReadFileToString(node_.path() + "/cloud/registration.json", 1 << 16).ok());

  // Lost again, noticed by an attestation this time: registered once more.
  WipeVerifierDatabase();
  agent_->AttestNow();
  ASSERT_TRUE(WaitFor([&] { return Snap().reregistrations == 2 && Snap().attestations_passed >= 3; }))
      << Snap().verifier_error << " / " << Snap().last_attest_error;
  ASSERT_TRUE(WaitFor([&] { return Events("node.reregistered").size() == 2; }));
  EXPECT_NE(Events("node.reregistered")[1].find("\"reason\":\"attest: /challenge: HTTP 404"), std::string::npos)
      << Events("node.reregistered")[1];
  // Every registration passed at once: no failed verdict in between.
  EXPECT_EQ(Snap().attestations_failed, 0u);
}

TEST_F(CloudAgentTest, ANodeDeletedOverAndOverIsReRegisteredWithBackoffNotInALoop) {
  PublishReference();
  StartAgent(Options());  // retry 100 ms doubling to 1 s
  ASSERT_TRUE(WaitFor([&] { return Snap().attestations_passed >= 1; })) << Snap().last_attest_error;
  // An operator (or a broken restore job) deletes the node row every 5 ms
  // once it is active, straight in the verifier's database, for 3 s: every
  // registration completes, and the attestation after it finds the node
  // gone. Re-registrations that never reach a pass must back off (0, 100,
  // 200, 400, 800, 1000 ms ...), not spin.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((vdir_.path() + "/v/verifier.db").c_str(), &raw), SQLITE_OK);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close);
  ASSERT_EQ(sqlite3_busy_timeout(db.get(), 5000), SQLITE_OK);
  agent_->AttestNow();
  const auto until = std::chrono::steady_clock::now() + 3s;
  int deletes = 0;
  while (std::chrono::steady_clock::now() < until) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db.get(), "DELETE FROM nodes WHERE id='edge-1' AND state='active'", nullptr, nullptr, &err), SQLITE_OK)
        << (err ? err : "");
    deletes += sqlite3_changes(db.get());
    std::this_thread::sleep_for(5ms);
  }
  const CloudStatus st = Snap();
  std::printf("node deleted %d times in 3 s: %llu re-registrations\n", deletes,
              static_cast<unsigned long long>(st.reregistrations));
  EXPECT_GE(st.reregistrations, 1u);
  // Bounded by the backoff schedule (at most ~6 in 3 s); a slower machine
  // only makes fewer. Without the backoff this is in the hundreds.
  EXPECT_LE(st.reregistrations, 8u);
  // Events reach the loop after the status: at least as many by now.
  EXPECT_TRUE(WaitFor([&] { return Events("node.reregistered").size() >= st.reregistrations; }));
  // Left alone, the node registers once more and passes.
  agent_->AttestNow();
  ASSERT_TRUE(WaitFor([&] { return Snap().registered && Snap().attestations_passed >= 2; }, 30s))
      << Snap().verifier_error << " / " << Snap().last_attest_error;
}

TEST_F(CloudAgentTest, AFileNameThatIsNotUtf8DoesNotBreakTheEventLine) {
  // File names are bytes. Before, dumping measurement.changed for such a
  // name threw on the worker thread (nlohmann's strict UTF-8 check) and
  // terminated the agent; now the bytes are replaced (U+FFFD).
  const std::string f = node_.path() + "/conf-\xff\xfe";
  ASSERT_TRUE(WriteFileAtomic(f, AsBytes(std::string("a\n")), 0600).ok());
  StartAgent(Options(/*with_verifier=*/false));
  auto measure = [&] {
    std::mutex m;
    std::optional<Status> result;
    agent_->Measure("w", {f}, [&](Status s) {
      std::lock_guard<std::mutex> lock(m);
      result = s;
    });
    EXPECT_TRUE(WaitFor([&] {
      std::lock_guard<std::mutex> lock(m);
      return result.has_value();
    }));
    return result.value_or(Internal("no answer"));
  };
  ASSERT_TRUE(measure().ok());
  ASSERT_TRUE(WriteFileAtomic(f, AsBytes(std::string("b\n")), 0600).ok());
  Status second = measure();
  ASSERT_TRUE(second.ok()) << second.ToString();
  ASSERT_TRUE(WaitFor([&] { return Events("measurement.changed").size() == 1; }));
  const std::string ev = Events("measurement.changed")[0];
  EXPECT_NE(ev.find("conf-\xef\xbf\xbd\xef\xbf\xbd\""), std::string::npos) << ev;
  EXPECT_EQ(Snap().measurements, 2u);
}

TEST_F(CloudAgentTest, ATamperedMeasuredFileIsNamedInTheVerdictReasons) {
  const std::string conf = node_.path() + "/sensor.conf";
  ASSERT_TRUE(WriteFileAtomic(conf, AsBytes(std::string("interval=5\n")), 0600).ok());
  auto measure = [&] {
    std::mutex m;
    std::optional<Status> result;
    agent_->Measure("sensor", {conf}, [&](Status s) {
      std::lock_guard<std::mutex> lock(m);
      result = s;
    });
    EXPECT_TRUE(WaitFor([&] {
      std::lock_guard<std::mutex> lock(m);
      return result.has_value();
    }));
    return result.value_or(Internal("no answer"));
  };
  StartAgent(Options(/*with_verifier=*/false));
  ASSERT_TRUE(measure().ok());
  agent_.reset();
  PublishReference();  // the file as it is now is the reference
  StartAgent(Options());
  ASSERT_TRUE(WaitFor([&] { return Snap().attestations_passed >= 1; })) << Snap().last_attest_error;

  const std::string old_hex = HexEncode(crypto::Digest(crypto::HashAlg::kSha256, AsBytes(std::string("interval=5\n"))));
  const std::string new_text = "interval=5\nupload: https://attacker.example/\n";
  const std::string new_hex = HexEncode(crypto::Digest(crypto::HashAlg::kSha256, AsBytes(new_text)));
  ASSERT_TRUE(WriteFileAtomic(conf, AsBytes(new_text), 0600).ok());
  ASSERT_TRUE(measure().ok());
  agent_->AttestNow();
  ASSERT_TRUE(WaitFor([&] { return Snap().attestations_failed >= 1; })) << Snap().last_attest_error;
  const std::string want = "file_digest: " + conf + ": a measured file's digest is not an allowed one (expected sha256:" +
                           old_hex.substr(0, 12) + "..., got sha256:" + new_hex.substr(0, 12) + "...)";
  CloudStatus st = Snap();
  ASSERT_TRUE(st.last_verdict.has_value());
  EXPECT_FALSE(st.last_verdict->pass);
  EXPECT_NE(std::find(st.last_verdict->reasons.begin(), st.last_verdict->reasons.end(), want),
            st.last_verdict->reasons.end())
      << ::testing::PrintToString(st.last_verdict->reasons);
  // The attestation.verdict event carries the same reason (JSON-escaped).
  ASSERT_TRUE(WaitFor([&] { return Events("attestation.verdict").size() == 2; }));
  EXPECT_NE(Events("attestation.verdict")[1].find(want), std::string::npos) << Events("attestation.verdict")[1];
  // And the verifier's verdict history summarises it the same way.
  auto history = server_->service().storage().ListVerdicts("edge-1", 1);
  ASSERT_TRUE(history.ok() && history->size() == 1u);
  EXPECT_FALSE((*history)[0].pass);
  EXPECT_EQ((*history)[0].summary, want);
}

TEST_F(CloudAgentTest, RevokedNodeIsNotRegisteredAgain) {
  PublishReference();
  StartAgent(Options());
  ASSERT_TRUE(WaitFor([&] { return Snap().attestations_passed >= 1; })) << Snap().last_attest_error;
  cloud::Caller admin;
  admin.cert_cn = "admin:admin";
  ASSERT_EQ(server_->service().RevokeNode("edge-1", admin).status, 200);

  agent_->AttestNow();
  ASSERT_TRUE(WaitFor([&] { return Snap().last_attest_error.find("revoked") != std::string::npos; }))
      << Snap().last_attest_error;
  EXPECT_NE(Snap().last_attest_error.find("/challenge: HTTP 403: node 'edge-1' is revoked"), std::string::npos)
      << Snap().last_attest_error;
  // Retried with backoff (100 ms .. 1 s here) for a while: never registers.
  std::this_thread::sleep_for(2500ms);
  CloudStatus st = Snap();
  EXPECT_EQ(st.reregistrations, 0u);
  EXPECT_TRUE(Events("node.reregistered").empty());
  EXPECT_EQ(st.attestations_passed, 1u);
  auto node = server_->service().storage().GetNode("edge-1");
  ASSERT_TRUE(node.ok() && node->has_value());
  EXPECT_EQ((*node)->state, cloud::NodeState::kRevoked);

  // Even a restarted agent that lost its registration record (or a copy of
  // its state on another machine with the same TPM) can't undo the
  // revocation: registration is refused with code "revoked".
  agent_.reset();
  ASSERT_EQ(::unlink((node_.path() + "/cloud/registration.json").c_str()), 0);
  StartAgent(Options());
  ASSERT_TRUE(WaitFor([&] { return Snap().verifier_error.find("revoked") != std::string::npos; }))
      << Snap().verifier_error;
  EXPECT_NE(Snap().verifier_error.find("/register: HTTP 403: revoked: node 'edge-1' was revoked"),
            std::string::npos)
      << Snap().verifier_error;
  EXPECT_FALSE(Snap().registered);
  node = server_->service().storage().GetNode("edge-1");
  ASSERT_TRUE(node.ok() && node->has_value());
  EXPECT_EQ((*node)->state, cloud::NodeState::kRevoked);
}

TEST_F(CloudAgentTest, EventsSpoolWhileTheVerifierIsDownAndArriveExactlyOnce) {
  PublishReference();
  StartAgent(Options());
  ASSERT_TRUE(WaitFor([&] { return Snap().attestations_passed >= 1; })) << Snap().last_attest_error;
  agent_->Report(R"({"type":"workload.start","time":"2026-11-24T00:00:00Z","workload":{"name":"w","pid":1}})");
  ASSERT_TRUE(WaitFor([&] { return Snap().events_sent == 1; }));
  ASSERT_EQ(*server_->service().storage().CountEvents("edge-1"), 1u);

  // Outage: 300 events; the agent is restarted in the middle of it.
  server_.reset();
  auto report = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      agent_->Report(R"({"type":"workload.exit","time":"2026-11-24T00:00:01Z","workload":{"name":"w","pid":)" +
                     std::to_string(1000 + i) + R"(},"exit":{"code":0}})");
    }
  };
  report(0, 150);
  ASSERT_TRUE(WaitFor([&] { return Snap().spool_messages == 150; })) << Snap().spool_messages;
  EXPECT_EQ(Snap().events_sent, 1u);
  agent_.reset();
  StartAgent(Options());
  ASSERT_TRUE(WaitFor([&] { return Snap().spool_messages == 150 && Snap().tpm_ok; }));
  report(150, 300);
  ASSERT_TRUE(WaitFor([&] { return Snap().spool_messages == 300; })) << Snap().spool_messages;
  EXPECT_FALSE(Snap().verifier_error.empty());

  StartVerifier();  // same state and port
  ASSERT_TRUE(WaitFor([&] { return Snap().spool_messages == 0; }, 60s)) << Snap().verifier_error;
  EXPECT_EQ(Snap().events_sent, 300u);
  EXPECT_EQ(Snap().spool_dropped, 0u);
  EXPECT_EQ(*server_->service().storage().CountEvents("edge-1"), 301u);
  EXPECT_TRUE(Events("spool.overflow").empty());
}

TEST_F(CloudAgentTest, TpmOutageIsReportedTheAgentKeepsGoingAndRecovers) {
  // A measured file is part of the reference, so the node passes with its
  // measurement log before and after the TPM's power cycle.
  const std::string file = node_.path() + "/sensor.conf";
  ASSERT_TRUE(WriteFileAtomic(file, AsBytes(std::string("interval=5\n")), 0600).ok());
  {
    auto t = tpm::Tpm::Open(swtpm_->tcti());
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(attest_node::Measure(*t, {file}, {node_.path(), 15}).ok());
  }
  PublishReference();
  StartAgent(Options());
  ASSERT_TRUE(WaitFor([&] { return Snap().attestations_passed >= 1; })) << Snap().last_attest_error;

  ASSERT_TRUE(swtpm_->Stop().ok());
  agent_->AttestNow();
  ASSERT_TRUE(WaitFor([&] { return !Events("tpm.fault").empty(); })) << Snap().last_attest_error;
  EXPECT_FALSE(Snap().tpm_ok);
  EXPECT_NE(Snap().tpm_error.find("quote"), std::string::npos) << Snap().tpm_error;
  const auto fault = Events("tpm.fault")[0];
  EXPECT_NE(fault.find("\"operation\":\"quote\""), std::string::npos) << fault;

  // Measuring while the TPM is down: answered at once with the fault, queued.
  std::mutex m;
  std::optional<Status> measured;
  agent_->Measure("sensor", {file}, [&](Status s) {
    std::lock_guard<std::mutex> lock(m);
    measured = s;
  });
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(m);
    return measured.has_value();
  }));
  EXPECT_EQ(measured->code(), StatusCode::kUnavailable) << measured->ToString();
  EXPECT_NE(measured->message().find("queued"), std::string::npos) << measured->ToString();
  EXPECT_EQ(Snap().measurements_queued, 1u);

  // Events still reach the cloud: the spool and the TLS key don't need the TPM.
  agent_->Report(R"({"type":"workload.start","time":"2026-11-24T00:00:00Z","workload":{"name":"w","pid":7}})");
  ASSERT_TRUE(WaitFor([&] { return Snap().events_sent == 1; })) << Snap().verifier_error;

  // The agent retries with backoff; one event per outage, errors counted.
  ASSERT_TRUE(WaitFor([&] { return Snap().tpm_errors >= 3; }));
  EXPECT_EQ(Events("tpm.fault").size(), 1u);
  const uint64_t passed = Snap().attestations_passed;

  ASSERT_TRUE(swtpm_->Restart().ok());  // power cycle: PCRs reset
  ASSERT_TRUE(WaitFor([&] { return Snap().tpm_ok && Snap().tpm_recoveries == 1; }, 10s)) << Snap().tpm_error;
  ASSERT_TRUE(WaitFor([&] { return Snap().measurements_queued == 0; }));
  agent_->AttestNow();
  ASSERT_TRUE(WaitFor([&] { return Snap().attestations_passed > passed; })) << Snap().last_attest_error;
  EXPECT_TRUE(Snap().last_verdict->pass);

  // The queued measurement went into the new boot's log and its PCR.
  agent_.reset();
  auto t = tpm::Tpm::Open(swtpm_->tcti());
  ASSERT_TRUE(t.ok());
  auto pcrs = tpm::ReadPcrs(*t, {{crypto::HashAlg::kSha256, {15}}});
  ASSERT_TRUE(pcrs.ok()) << pcrs.status().ToString();
  auto log = ReadFileToString(attest_node::MeasurementLogPath(node_.path()), 1 << 20);
  ASSERT_TRUE(log.ok());
  auto parsed = attest::ParseCelLog(*log);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->events.size(), 1u);
  EXPECT_EQ(attest::Replay(*parsed)[crypto::HashAlg::kSha256][15], (*pcrs)[crypto::HashAlg::kSha256][15]);
}

TEST_F(CloudAgentTest, StartsWithTheTpmDownAndCatchesUpWhenItComesBack) {
  const std::string file = node_.path() + "/sensor.conf";
  ASSERT_TRUE(WriteFileAtomic(file, AsBytes(std::string("interval=5\n")), 0600).ok());
  {
    auto t = tpm::Tpm::Open(swtpm_->tcti());
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(attest_node::Measure(*t, {file}, {node_.path(), 15}).ok());
  }
  PublishReference();
  ASSERT_TRUE(swtpm_->Stop().ok());
  StartAgent(Options());
  ASSERT_TRUE(WaitFor([&] { return !Events("tpm.fault").empty(); }));
  EXPECT_NE(Events("tpm.fault")[0].find("\"operation\":\"open\""), std::string::npos) << Events("tpm.fault")[0];
  EXPECT_FALSE(Snap().tpm_ok);
  EXPECT_FALSE(Snap().registered);
  // No spool yet (its key is sealed by the TPM): reports wait in memory.
  for (int i = 0; i < 3; ++i) {
    agent_->Report(R"({"type":"workload.start","time":"2026-11-24T00:00:00Z","workload":{"name":"w","pid":)" +
                   std::to_string(10 + i) + "}}");
  }
  ASSERT_TRUE(WaitFor([&] { return Snap().pending_reports == 3; })) << Snap().pending_reports;
  std::mutex m;
  std::optional<Status> measured;
  agent_->Measure("sensor", {file}, [&](Status s) {
    std::lock_guard<std::mutex> lock(m);
    measured = s;
  });
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(m);
    return measured.has_value();
  }));
  EXPECT_EQ(measured->code(), StatusCode::kUnavailable) << measured->ToString();

  ASSERT_TRUE(swtpm_->Restart().ok());
  ASSERT_TRUE(WaitFor([&] { return Snap().attestations_passed >= 1; })) << Snap().last_attest_error;
  EXPECT_TRUE(Snap().registered);
  // The queued measurement was made (the passing verdict shows the log
  // replays to PCR 15 with the file in it).
  EXPECT_EQ(Snap().measurements_queued, 0u);
  ASSERT_TRUE(WaitFor([&] { return Snap().events_sent == 3; })) << Snap().verifier_error;
  EXPECT_EQ(Snap().pending_reports, 0u);
  EXPECT_EQ(*server_->service().storage().CountEvents("edge-1"), 3u);
  EXPECT_EQ(Events("tpm.fault").size(), 1u);
}

TEST_F(CloudAgentTest, MeasureExtendsThePcrTheLogReplaysAndTheVerifierAgrees) {
  const std::string a = node_.path() + "/sensor", b = node_.path() + "/sensor.conf";
  ASSERT_TRUE(WriteFileAtomic(a, AsBytes(std::string("#!/bin/sh\necho hi\n")), 0700).ok());
  ASSERT_TRUE(WriteFileAtomic(b, AsBytes(std::string("interval=5\n")), 0600).ok());
  StartAgent(Options(/*with_verifier=*/false));
  auto measure = [&](std::vector<std::string> files) {
    std::mutex m;
    std::optional<Status> result;
    agent_->Measure("sensor", std::move(files), [&](Status s) {
      std::lock_guard<std::mutex> lock(m);
      result = s;
    });
    EXPECT_TRUE(WaitFor([&] {
      std::lock_guard<std::mutex> lock(m);
      return result.has_value();
    }));
    return result.value_or(Internal("no answer"));
  };
  Status first = measure({a, b});
  ASSERT_TRUE(first.ok()) << first.ToString();
  EXPECT_EQ(Snap().measurements, 2u);
  EXPECT_TRUE(Events("measurement.changed").empty());
  // Same content again: nothing new is extended.
  ASSERT_TRUE(measure({a, b}).ok());
  EXPECT_EQ(Snap().measurements, 2u);
  // A changed file: extended again, and reported.
  ASSERT_TRUE(WriteFileAtomic(b, AsBytes(std::string("interval=1\n")), 0600).ok());
  ASSERT_TRUE(measure({a, b}).ok());
  EXPECT_EQ(Snap().measurements, 3u);
  auto changed = Events("measurement.changed");
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_NE(changed[0].find("\"path\":\"" + b + "\""), std::string::npos) << changed[0];
  EXPECT_NE(changed[0].find("\"pcr\":15"), std::string::npos) << changed[0];
  // A file that doesn't exist fails that request alone.
  Status missing = measure({node_.path() + "/nope"});
  EXPECT_EQ(missing.code(), StatusCode::kNotFound) << missing.ToString();
  agent_.reset();

  {
    auto t = tpm::Tpm::Open(swtpm_->tcti());
    ASSERT_TRUE(t.ok());
    auto pcrs = tpm::ReadPcrs(*t, {{crypto::HashAlg::kSha256, {15}}});
    ASSERT_TRUE(pcrs.ok()) << pcrs.status().ToString();
    auto log = ReadFileToString(attest_node::MeasurementLogPath(node_.path()), 1 << 20);
    ASSERT_TRUE(log.ok());
    auto parsed = attest::ParseCelLog(*log);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->events.size(), 3u);
    const Bytes pcr15 = (*pcrs)[crypto::HashAlg::kSha256][15];
    EXPECT_NE(pcr15, Bytes(32, 0));
    EXPECT_EQ(attest::Replay(*parsed)[crypto::HashAlg::kSha256][15], pcr15);
  }
  // The verifier, given these files as the reference, appraises the log
  // (replay + file digests) and passes the node.
  PublishReference();
  StartAgent(Options());
  ASSERT_TRUE(WaitFor([&] { return Snap().last_verdict.has_value(); })) << Snap().last_attest_error;
  EXPECT_TRUE(Snap().last_verdict->pass) << (Snap().last_verdict->reasons.empty() ? "" : Snap().last_verdict->reasons[0]);
}

TEST_F(CloudAgentTest, BundleFetchAppliesWithETagAndABadBundleIsRejected) {
  PublishReference();
  PublishBundle(1, kGoodPolicy);
  CloudAgentOptions o = Options();
  o.fetch_interval = 300ms;
  o.fetch_jitter = 100ms;
  StartAgent(o);
  // Fetched right after the first certificate, verified, applied.
  ASSERT_TRUE(WaitFor([&] { return Snap().bundles_accepted == 1; })) << Snap().verifier_error;
  EXPECT_EQ(Snap().bundle_version, 1u);
  ASSERT_TRUE(WaitFor([&] { return Bundles().size() == 1; }));
  EXPECT_EQ(Bundles()[0], 1u);
  ASSERT_EQ(Events("bundle.accepted").size(), 1u);
  EXPECT_NE(Events("bundle.accepted")[0].find("\"version\":1"), std::string::npos);
  const std::string etag = Snap().bundle_etag;
  EXPECT_EQ(etag.size(), 66u) << etag;  // "<sha256 hex>"

  // Nothing new: the next fetches are answered 304 Not Modified.
  ASSERT_TRUE(WaitFor([&] { return Snap().bundle_not_modified >= 1; })) << Snap().verifier_error;
  EXPECT_EQ(Snap().bundles_accepted, 1u);
  EXPECT_EQ(Snap().bundle_etag, etag);

  // A bundle the verifier accepts (signed, fresh) but whose policy does not
  // parse: the node rejects it and keeps running version 1.
  PublishBundle(2, "apiVersion: edgeward/v1\nkind: WorkloadPolicy\nmetadata: {name: x}\nspec: {mode: sideways}\n");
  ASSERT_TRUE(WaitFor([&] { return Snap().bundles_rejected == 1; })) << Snap().verifier_error;
  ASSERT_TRUE(WaitFor([&] { return !Events("bundle.rejected").empty(); }));
  auto rejected = Events("bundle.rejected");
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_NE(rejected[0].find("\"reason\":\"invalid_content\""), std::string::npos) << rejected[0];
  EXPECT_NE(rejected[0].find("\"version\":2"), std::string::npos) << rejected[0];
  EXPECT_EQ(Snap().bundle_version, 1u);
  EXPECT_EQ(Bundles().size(), 1u);
  // Its ETag is remembered: not downloaded and rejected again every interval.
  const uint64_t not_modified = Snap().bundle_not_modified;
  ASSERT_TRUE(WaitFor([&] { return Snap().bundle_not_modified > not_modified; }));
  EXPECT_EQ(Snap().bundles_rejected, 1u);

  // A good version 3 replaces version 1.
  PublishBundle(3, kGoodPolicy);
  ASSERT_TRUE(WaitFor([&] { return Snap().bundles_accepted == 2; })) << Snap().verifier_error;
  EXPECT_EQ(Snap().bundle_version, 3u);
  ASSERT_TRUE(WaitFor([&] { return Bundles().size() == 2; }));
  EXPECT_EQ(Bundles()[1], 3u);

  // After a restart the running bundle comes from the store first.
  agent_.reset();
  {
    std::lock_guard<std::mutex> lock(mu_);
    bundles_.clear();
  }
  StartAgent(o);
  ASSERT_TRUE(WaitFor([&] { return Bundles().size() == 1; }));
  EXPECT_EQ(Bundles()[0], 3u);
  EXPECT_EQ(Snap().bundle_version, 3u);
}

TEST_F(CloudAgentTest, CertificateIsRenewedBeforeExpiryAndAFailedRenewalIsReported) {
  // not_before is backdated 60 s by the verifier: with a 36 s lifetime the
  // renewal point (2/3 of 96 s from not_before) comes 4 s after issue.
  cert_lifetime_ = 36s;
  server_.reset();
  StartVerifier();
  PublishReference();
  StartAgent(Options());
  ASSERT_TRUE(WaitFor([&] { return Snap().attestations_passed >= 1; })) << Snap().last_attest_error;
  const int64_t first_not_after = Snap().cert_not_after;
  // No AttestNow, attestation interval 1 h: only the renewal attests.
  ASSERT_TRUE(WaitFor([&] { return Snap().attestations_passed >= 2; }, 20s)) << Snap().last_attest_error;
  EXPECT_GT(Snap().cert_not_after, first_not_after);
  EXPECT_TRUE(Events("cert.renewal_failed").empty());

  // The node stops passing (the reference now names another node): the
  // next renewal fails and says so.
  agent_.reset();
  PublishReference(std::string("someone-else"));
  StartAgent(Options());
  ASSERT_TRUE(WaitFor([&] { return !Events("cert.renewal_failed").empty(); }, 30s)) << Snap().last_attest_error;
  const auto failed = Events("cert.renewal_failed")[0];
  EXPECT_NE(failed.find("\"name\":\"client\""), std::string::npos) << failed;
  EXPECT_NE(failed.find("attestation failed: node_id"), std::string::npos) << failed;
  EXPECT_NE(failed.find("\"not_after\":"), std::string::npos) << failed;
  EXPECT_GE(Snap().cert_renewal_failures, 1u);
  EXPECT_GE(Snap().attestations_failed, 1u);
}

TEST_F(CloudAgentTest, StartOptionsAreChecked) {
  CloudAgentOptions o = Options();
  o.node_id = "";
  CloudAgent a(*loop_, o, {});
  Status s = a.Start();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("node_id is required"), std::string::npos) << s.ToString();
  o = Options();
  o.verifier_url = "http://127.0.0.1:1";
  CloudAgent b(*loop_, o, {});
  s = b.Start();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("is not https://"), std::string::npos) << s.ToString();
  o = Options();
  o.measurement_pcr = 16;
  CloudAgent c(*loop_, o, {});
  s = c.Start();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("PCR 16"), std::string::npos) << s.ToString();
  CloudAgent d(*loop_, Options(/*with_verifier=*/false), {});
  ASSERT_TRUE(d.Start().ok());
  s = d.Start();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("already started"), std::string::npos) << s.ToString();
}

TEST_F(CloudAgentTest, StopCancelsAVerifierRequestInFlight) {
  // A "verifier" whose kernel completes TCP connections that nobody ever
  // accepts: the agent's first request (verifier info) waits for a TLS
  // answer that never comes, up to its 60 s timeout.
  UniqueFd lfd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_GE(lfd.get(), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(lfd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(lfd.get(), 8), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(lfd.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  CloudAgentOptions o = Options();
  o.verifier_url = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  o.connect_timeout = 60s;
  o.request_timeout = 60s;
  StartAgent(o);
  // A pending connection makes the listening socket readable.
  pollfd p{lfd.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 30'000), 1) << "the agent never connected";
  std::this_thread::sleep_for(300ms);  // into the TLS handshake's wait
  EXPECT_TRUE(Snap().verifier_error.empty()) << Snap().verifier_error;  // still waiting, not failed
  const auto t0 = std::chrono::steady_clock::now();
  agent_.reset();  // Stop() and join
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::printf("Stop() with a request in flight (60 s timeout): %lld ms\n", static_cast<long long>(took.count()));
  // Not a timing assertion in the usual sense: without cancellation this
  // takes the full 60 s; anything under half of it shows the cancel worked.
  EXPECT_LT(took, 30s);
  EXPECT_TRUE(Events("cert.renewal_failed").empty());
}

// Start() → first passing verdict on swtpm, over loopback TLS. Reported,
// never asserted on (tests don't fail on timing).
TEST_F(CloudAgentTest, StartToFirstPassedAttestation) {
  PublishReference();
  std::vector<int64_t> warm;
  for (int i = 0; i < 6; ++i) {
    StartAgent(Options());
    ASSERT_TRUE(WaitFor([&] { return Snap().first_pass_after.has_value(); })) << Snap().last_attest_error;
    const int64_t ms = Snap().first_pass_after->count();
    if (i == 0) {
      std::printf("start → first pass, first start (register, create keys): %lld ms\n", static_cast<long long>(ms));
    } else {
      warm.push_back(ms);
    }
    agent_.reset();
  }
  std::sort(warm.begin(), warm.end());
  std::printf("start → first pass, registered node, 5 runs: median %lld ms (min %lld, max %lld)\n",
              static_cast<long long>(warm[2]), static_cast<long long>(warm[0]), static_cast<long long>(warm[4]));
}

}  // namespace
}  // namespace edgeward::daemon
