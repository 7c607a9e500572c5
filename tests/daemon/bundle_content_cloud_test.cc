// The cloud path with the daemon's content validator: a real verifier
// (in-process, TLS on loopback), a private swtpm, CloudAgent with
// make_content_validator = MakeBundleContentValidator exactly as the daemon
// sets it (daemon.cc StartCloud). Bundles signed with a key the root trusts
// (so the verifier publishes them) but whose policy, workload or rules are
// bad are rejected by the node, naming file and line; the running bundle
// stays. The fixture follows tests/daemon/cloud_agent_test.cc.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "bundle_content_util.h"
#include "edgeward/attest/reference.h"
#include "edgeward/attest_node/collect.h"
#include "edgeward/base/file.h"
#include "edgeward/cloud/verifier.h"
#include "edgeward/daemon/bundle_content.h"
#include "edgeward/daemon/cloud_agent.h"
#include "swtpm.h"

namespace edgeward::daemon {
namespace {

using namespace std::chrono_literals;
using testing::bundles::kGoodPolicy;
using testing::bundles::Signer;
using testing::bundles::WorkloadYaml;

class BundleContentCloudTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sw = testing::Swtpm::Start();
    ASSERT_TRUE(sw.ok()) << sw.status().ToString();
    swtpm_ = std::move(*sw);
    ASSERT_TRUE(cloud::InitVerifierDir(vdir_.path() + "/v", {"localhost", "127.0.0.1"}).ok());
    ASSERT_TRUE(signer_.WriteRoot(vdir_.path() + "/v/root.json").ok());
    auto ca_path = testing::SwtpmCaBundlePath();
    ASSERT_TRUE(ca_path.ok()) << ca_path.status().ToString();
    auto config = cloud::LoadVerifierConfig(vdir_.path() + "/v/config.yaml");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config->port = 0;
    config->listen_address = "127.0.0.1";
    config->ek_ca_bundle_path = *ca_path;
    config->read_timeout = std::chrono::seconds(2);
    config->bundle_root_path = vdir_.path() + "/v/root.json";
    auto s = cloud::VerifierServer::Start(*config);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status().ToString();
    loop_ = std::move(*loop);
    loop_thread_ = std::thread([this] {
      Status st = loop_->Run();
      EXPECT_TRUE(st.ok()) << st.ToString();
    });
  }

  void TearDown() override {
    agent_.reset();
    if (loop_) loop_->Stop();
    if (loop_thread_.joinable()) loop_thread_.join();
  }

  void Publish(uint64_t version, const std::map<std::string, std::string>& files) {
    const std::string file = signer_.Signed(version, files);
    cloud::Caller admin;
    admin.cert_cn = "admin:admin";
    auto reply = server_->service().PublishBundle(file, admin);
    ASSERT_EQ(reply.status, 201) << reply.body;
  }

  // Reference values from a known-good quote of this node, so attestation
  // passes and the node gets the certificate it fetches bundles with.
  void PublishReference() {
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
    cloud::Caller admin;
    admin.cert_cn = "admin:admin";
    auto reply = server_->service().PutReference("default", attest::FormatReferenceValues(*ref), admin);
    ASSERT_EQ(reply.status, 200) << reply.body;
  }

  void StartAgent() {
    CloudAgentOptions o;
    o.node_id = "edge-1";
    o.labels = {{"group", "default"}};
    o.state_dir = node_.path();
    o.tcti = swtpm_->tcti();
    o.verifier_url = "https://127.0.0.1:" + std::to_string(server_->port());
    o.verifier_ca_file = vdir_.path() + "/v/node-ca.crt";
    o.connect_timeout = 2s;
    o.request_timeout = 10s;
    o.attestation_interval = 1h;
    o.fetch_interval = 200ms;
    o.fetch_jitter = 0ms;
    o.bundle_root_file = vdir_.path() + "/v/root.json";
    o.make_content_validator = MakeBundleContentValidator;  // as daemon.cc sets it
    o.uefi_log_path = node_.path() + "/no-uefi-log";
    o.ima_log_path = node_.path() + "/no-ima-log";
    o.retry_initial = 100ms;
    o.retry_max = 1s;
    CloudAgentCallbacks cb;
    cb.on_event = [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(mu_);
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

  bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (pred()) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, 20ms);
    }
  }

  std::vector<std::string> Rejections() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& e : events_) {
      if (e.find("\"type\":\"bundle.rejected\"") != std::string::npos) out.push_back(e);
    }
    return out;
  }
  std::vector<uint64_t> Bundles() {
    std::lock_guard<std::mutex> lock(mu_);
    return bundles_;
  }

  // Publishes `files` as `version` and waits for the node to reject it;
  // returns the bundle.rejected event.
  std::string PublishAndExpectRejection(uint64_t version, const std::map<std::string, std::string>& files) {
    const size_t before = Rejections().size();
    Publish(version, files);
    EXPECT_TRUE(WaitFor([&] { return Rejections().size() > before; })) << agent_->Snapshot().verifier_error;
    auto r = Rejections();
    return r.size() > before ? r.back() : std::string();
  }

  testing::TempDir vdir_;
  testing::TempDir node_;
  std::unique_ptr<testing::Swtpm> swtpm_;
  std::unique_ptr<cloud::VerifierServer> server_;
  Signer signer_;
  std::unique_ptr<EventLoop> loop_;
  std::thread loop_thread_;
  std::unique_ptr<CloudAgent> agent_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> events_;
  std::vector<uint64_t> bundles_;
};

TEST_F(BundleContentCloudTest, SignedButBrokenBundlesAreRejectedLocatedAndTheRunningOneStays) {
  const std::map<std::string, std::string> good = {
      {"policies/sensor-reader.yaml", kGoodPolicy},
      {"workloads/sensor.yaml", WorkloadYaml("sensor", "sensor-reader")},
      {"rules/10-local.yaml", "- rule: r\n  condition: event.type = \"workload.start\"\n  actions: [log]\n"
                              "  priority: low\n  output: x\n"}};
  PublishReference();
  Publish(1, good);
  StartAgent();
  ASSERT_TRUE(WaitFor([&] { return agent_->Snapshot().bundles_accepted == 1; })) << agent_->Snapshot().verifier_error;
  ASSERT_TRUE(WaitFor([&] { return Bundles().size() == 1; }));

  auto broken_policy = good;
  broken_policy["policies/sensor-reader.yaml"] =
      "apiVersion: edgeward/v1\nkind: WorkloadPolicy\nmetadata: {name: sensor-reader}\nspec:\n  mode: sideways\n";
  std::string r = PublishAndExpectRejection(2, broken_policy);
  EXPECT_NE(r.find("\"reason\":\"invalid_content\""), std::string::npos) << r;
  EXPECT_NE(r.find("policies/sensor-reader.yaml:5:"), std::string::npos) << r;

  auto missing_policy = good;
  missing_policy["workloads/sensor.yaml"] = WorkloadYaml("sensor", "no-such-policy");
  r = PublishAndExpectRejection(3, missing_policy);
  EXPECT_NE(r.find("\"reason\":\"invalid_content\""), std::string::npos) << r;
  EXPECT_NE(r.find("workloads/sensor.yaml:6:11: field spec.policy: no policy named 'no-such-policy'"),
            std::string::npos)
      << r;

  auto bad_rules = good;
  bad_rules["rules/20-bad.yaml"] = "- rule: typo\n  condition: workload.nmae = \"x\"\n  actions: [log]\n"
                                   "  priority: low\n  output: x\n";
  r = PublishAndExpectRejection(4, bad_rules);
  EXPECT_NE(r.find("\"reason\":\"invalid_content\""), std::string::npos) << r;
  EXPECT_NE(r.find("rules/20-bad.yaml:2:"), std::string::npos) << r;

  // Version 1 is still the one running, and nothing else was handed over.
  EXPECT_EQ(agent_->Snapshot().bundle_version, 1u);
  EXPECT_EQ(agent_->Snapshot().bundles_rejected, 3u);
  EXPECT_EQ(Bundles(), std::vector<uint64_t>{1});
}

}  // namespace
}  // namespace edgeward::daemon
