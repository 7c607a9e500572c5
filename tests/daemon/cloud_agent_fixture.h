// The CloudAgent end-to-end fixture (cloud_agent_test.cc,
// cloud_agent_identity_test.cc): a real verifier (cloud::VerifierServer,
// SQLite, TLS 1.3, in-process), a private swtpm, the agent's worker thread
// and a real EventLoop on its own thread delivering the callbacks. Every
// event the agent emits is checked against the rules engine's schema.
#pragma once

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
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

using namespace std::chrono_literals;

inline int64_t WallNow() { return static_cast<int64_t>(::time(nullptr)); }

inline constexpr char kGoodPolicy[] = R"(apiVersion: edgeward/v1
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

}  // namespace edgeward::daemon
