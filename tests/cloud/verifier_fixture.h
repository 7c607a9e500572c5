// The verifier end-to-end fixture: a real VerifierServer on loopback (TLS
// 1.3, its own state dir), swtpm-backed TestNodes, and helpers to enroll a
// node, publish reference values and run a challenge/evidence round.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "edgeward/attest/reference.h"
#include "edgeward/base/file.h"
#include "edgeward/bundle/bundle.h"
#include "edgeward/bundle/root.h"
#include "edgeward/crypto/x509.h"
#include "node_client.h"

namespace edgeward::cloud::testing {

class VerifierE2e : public ::testing::Test {
 protected:
  void SetUp() override { StartVerifier(); }

  void StartVerifier(const std::string& ek_ca = "") {
    server_.reset();
    if (!initialised_) {
      ASSERT_TRUE(InitVerifierDir(dir_.path() + "/v", {"localhost", "127.0.0.1"}).ok());
      initialised_ = true;
    }
    auto ca_path = edgeward::testing::SwtpmCaBundlePath();
    ASSERT_TRUE(ca_path.ok()) << ca_path.status().ToString();
    auto config = LoadVerifierConfig(dir_.path() + "/v/config.yaml");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config->port = 0;
    config->listen_address = "127.0.0.1";
    config->ek_ca_bundle_path = ek_ca.empty() ? *ca_path : ek_ca;
    config->read_timeout = std::chrono::seconds(2);
    MakeBundleRoot();
    config->bundle_root_path = dir_.path() + "/v/root.json";
    auto s = VerifierServer::Start(*config);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    auto ca = ReadFileToString(dir_.path() + "/v/node-ca.crt", 1 << 16);
    ASSERT_TRUE(ca.ok());
    ca_pem_ = *ca;
    auto admin_cert = ReadFileToString(dir_.path() + "/v/admin.crt", 1 << 16);
    auto admin_key = ReadFileToString(dir_.path() + "/v/admin.key", 1 << 16);
    ASSERT_TRUE(admin_cert.ok() && admin_key.ok());
    admin_ = ClientCert{*admin_cert, *admin_key};
  }

  static int64_t Now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // A root of trust for bundles: one root key, one policy key.
  void MakeBundleRoot() {
    if (policy_key_) return;
    auto rk = crypto::Ed25519SigningKey::Generate();
    auto pk = crypto::Ed25519SigningKey::Generate();
    ASSERT_TRUE(rk.ok() && pk.ok());
    bundle::RootContent rc;
    rc.version = 1;
    rc.expires = Now() + 86400;
    rc.root_threshold = 1;
    rc.root_keys = {rk->KeyId()};
    rc.policy_threshold = 1;
    rc.policy_keys = {{pk->KeyId(), Now() + 86400}};
    rc.keys = {{rk->KeyId(), rk->public_key()}, {pk->KeyId(), pk->public_key()}};
    auto doc = bundle::MakeRootDocument(rc);
    ASSERT_TRUE(doc.ok()) << doc.status().ToString();
    ASSERT_TRUE(bundle::SignRootDocument(*doc, *rk).ok());
    ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/v/root.json", AsBytes(bundle::SerializeRootDocument(*doc)), 0600).ok());
    policy_key_.emplace(std::move(pk).value());
  }

  HttpResult Call(const std::string& method, const std::string& path, const std::string& body,
                  const std::optional<ClientCert>& cert = std::nullopt, const std::string& inm = "") {
    return Request(server_->port(), ca_pem_, cert, method, path, body, inm);
  }

  std::unique_ptr<TestNode> NewNode(const std::string& id) {
    auto n = TestNode::Create(id);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? std::move(n).value() : nullptr;
  }

  // Register + activate; returns false on any failure (with a message).
  void Enroll(TestNode& node) {
    auto req = node.MakeRegisterRequest();
    ASSERT_TRUE(req.ok()) << req.status().ToString();
    auto r = Call("POST", "/v1/register", EncodeRegisterRequest(*req));
    ASSERT_EQ(r.status, 201) << r.body << r.error;
    auto challenge = DecodeRegisterChallenge(r.body);
    ASSERT_TRUE(challenge.ok()) << challenge.status().ToString();
    auto secret = node.Activate(*challenge);
    ASSERT_TRUE(secret.ok()) << secret.status().ToString();
    auto a = Call("POST", "/v1/activate", EncodeActivateRequest({challenge->registration_id, *secret}));
    ASSERT_EQ(a.status, 200) << a.body;
    auto st = DecodeNodeStatus(a.body);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    EXPECT_EQ(st->state, "active");
  }

  // Reference values for group "default" from a known-good quote.
  void PublishReference(TestNode& node) {
    auto ev = node.Collect(Bytes(32, 0x11));
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    auto ref = attest::ReferenceFromEvidence(*ev);
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    auto r = Call("PUT", "/v1/admin/groups/default/reference", attest::FormatReferenceValues(*ref), admin_);
    ASSERT_EQ(r.status, 200) << r.body << r.error;
  }

  StatusOr<Challenge> GetChallenge(TestNode& node) {
    auto r = Call("POST", "/v1/challenge", EncodeChallengeRequest({node.node_id()}));
    if (r.status != 201) return Internal("challenge: HTTP " + std::to_string(r.status) + " " + r.body);
    return DecodeChallenge(r.body);
  }

  // Challenge → quote bound to the node's TLS key → submission body.
  std::string Submission(TestNode& node, const Challenge& c, bool with_csr = true) {
    auto ev = node.Collect(QuoteQualifyingData(c.nonce, node.tls_spki()));
    EXPECT_TRUE(ev.ok()) << ev.status().ToString();
    EvidenceSubmission sub;
    sub.nonce_id = c.nonce_id;
    sub.evidence = *ev;
    sub.tls_public_key_spki_der = node.tls_spki();
    if (with_csr) sub.csr_pem = *CreateCsr(node.tls_key_pem(), node.node_id());
    auto body = EncodeEvidenceSubmission(sub);
    EXPECT_TRUE(body.ok()) << body.status().ToString();
    return body.ok() ? *body : "";
  }

  bool HasFinding(const VerdictResponse& v, std::string_view check) {
    for (const auto& f : v.findings) {
      if (f.check == check && f.severity == attest::Severity::kFail) return true;
    }
    return false;
  }

  edgeward::testing::TempDir dir_;
  bool initialised_ = false;
  std::unique_ptr<VerifierServer> server_;
  std::string ca_pem_;
  ClientCert admin_;
  std::optional<crypto::Ed25519SigningKey> policy_key_;
};

}  // namespace edgeward::cloud::testing
