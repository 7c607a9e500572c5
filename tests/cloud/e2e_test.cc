// The verifier end to end on loopback: real TLS 1.3 (cpp-httplib server,
// httplib client), a real swtpm per node driven through edgeward's TPM
// layer (EK certificate, AK, ActivateCredential, quotes). Each refusal is
// checked by its status and reason.
#include <gtest/gtest.h>

#include <thread>

#include "edgeward/attest/reference.h"
#include "edgeward/base/file.h"
#include "edgeward/bundle/bundle.h"
#include "edgeward/bundle/root.h"
#include "edgeward/cloud/events.h"
#include "edgeward/crypto/x509.h"
#include "node_client.h"
#include "verifier_fixture.h"

namespace edgeward::cloud {
namespace {

using testing::ClientCert;
using testing::ErrorOf;
using testing::HttpResult;
using testing::Request;
using testing::TestNode;
using testing::VerifierE2e;

TEST_F(VerifierE2e, EnrolledNodePassesGetsACertificateAndUsesIt) {
  auto node = NewNode("node-1");
  ASSERT_TRUE(node);
  Enroll(*node);
  PublishReference(*node);
  auto c = GetChallenge(*node);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto r = Call("POST", "/v1/evidence", Submission(*node, *c));
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = DecodeVerdictResponse(r.body);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->pass) << r.body;
  ASSERT_TRUE(v->client_cert_pem.has_value());
  auto cert = crypto::Certificate::FromPem(*v->client_cert_pem);
  ASSERT_TRUE(cert.ok());
  EXPECT_EQ(cert->Subject(), "CN=node-1");
  EXPECT_TRUE(cert->HasExtendedKeyUsage("1.3.6.1.5.5.7.3.2"));
  EXPECT_GT(v->cert_expires_at, 0);

  ClientCert mine{*v->client_cert_pem, node->tls_key_pem()};
  auto status = Call("GET", "/v1/nodes/node-1", "", mine);
  ASSERT_EQ(status.status, 200) << status.body;
  auto ns = DecodeNodeStatus(status.body);
  ASSERT_TRUE(ns.ok());
  EXPECT_TRUE(ns->last_pass);
  EXPECT_EQ(ns->cert_expires_at, v->cert_expires_at);
  // Another node's status is not ours to read.
  EXPECT_EQ(Call("GET", "/v1/nodes/node-2", "", mine).status, 403);
  auto hist = Call("GET", "/v1/nodes/node-1/verdicts", "", mine);
  ASSERT_EQ(hist.status, 200);
  auto h = DecodeVerdictHistory(hist.body);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->verdicts.size(), 1u);
  EXPECT_TRUE(h->verdicts[0].pass);

  // Events: sealed to the verifier's key, signed by the node; stored once.
  auto info = DecodeVerifierInfo(Call("GET", "/v1/verifier-info", "").body);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EventBatch batch;
  for (int i = 0; i < 3; ++i) {
    EventMessage m{"evt-" + std::to_string(i), static_cast<uint64_t>(i), 1, {}};
    const std::string payload = "{\"n\":" + std::to_string(i) + "}";
    ASSERT_TRUE(SealEvent(node->signing_key(), info->x25519_public_key, "node-1", m, AsBytes(payload)).ok());
    batch.messages.push_back(m);
  }
  EventMessage forged{"evt-forged", 9, 1, {}};
  auto other_key = crypto::Ed25519SigningKey::Generate();
  ASSERT_TRUE(SealEvent(*other_key, info->x25519_public_key, "node-1", forged, AsBytes(std::string("x"))).ok());
  batch.messages.push_back(forged);
  auto ack = Call("POST", "/v1/events", EncodeEventBatch(batch), mine);
  ASSERT_EQ(ack.status, 200) << ack.body;
  auto a = DecodeEventAck(ack.body);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->accepted_ids.size(), 3u);
  ASSERT_EQ(a->rejected.size(), 1u);
  EXPECT_EQ(a->rejected[0].id, "evt-forged");
  EXPECT_NE(a->rejected[0].reason.find("node signature does not verify"), std::string::npos);
  batch.messages.pop_back();
  auto again = DecodeEventAck(Call("POST", "/v1/events", EncodeEventBatch(batch), mine).body);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->accepted_ids.empty());
  EXPECT_EQ(again->duplicate_ids.size(), 3u);
  EXPECT_EQ(*server_->service().storage().CountEvents("node-1"), 3u);

  // Admin listing needs the admin certificate; the node's is not one.
  EXPECT_EQ(Call("GET", "/v1/admin/nodes", "", mine).status, 403);
  auto list = Call("GET", "/v1/admin/nodes", "", admin_);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(DecodeNodeList(list.body)->nodes.size(), 1u);
}

TEST_F(VerifierE2e, TamperedEvidenceFailsWithSignatureFinding) {
  auto node = NewNode("node-1");
  Enroll(*node);
  PublishReference(*node);
  auto c = GetChallenge(*node);
  ASSERT_TRUE(c.ok());
  auto ev = node->Collect(QuoteQualifyingData(c->nonce, node->tls_spki()));
  ASSERT_TRUE(ev.ok());
  ev->quote_attest[ev->quote_attest.size() - 1] ^= 1;  // a PCR digest byte, after the signature was made
  ASSERT_TRUE(attest::DecodeEvidenceWire(*ev).ok());
  EvidenceSubmission sub{c->nonce_id, *ev, node->tls_spki(), *CreateCsr(node->tls_key_pem(), "node-1"), false};
  auto r = Call("POST", "/v1/evidence", *EncodeEvidenceSubmission(sub));
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = DecodeVerdictResponse(r.body);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->pass);
  EXPECT_TRUE(HasFinding(*v, "signature")) << r.body;
  EXPECT_FALSE(v->client_cert_pem.has_value());
}

TEST_F(VerifierE2e, ReplayedNonceIsRefused) {
  auto node = NewNode("node-1");
  Enroll(*node);
  PublishReference(*node);
  auto c = GetChallenge(*node);
  ASSERT_TRUE(c.ok());
  const std::string body = Submission(*node, *c);
  ASSERT_EQ(Call("POST", "/v1/evidence", body).status, 200);
  auto r = Call("POST", "/v1/evidence", body);
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(ErrorOf(r).find("replayed nonce: nonce already used"), std::string::npos) << r.body;
}

TEST_F(VerifierE2e, ExpiredNonceIsRefused) {
  auto node = NewNode("node-1");
  Enroll(*node);
  PublishReference(*node);
  // A challenge issued 2 minutes ago with the default 60 s lifetime: put
  // in the store as the verifier would have (waiting a minute is no test).
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  ChallengeRecord old{"old-nonce", "node-1", Bytes(32, 0x42), now - 60};
  ASSERT_TRUE(server_->service().storage().PutChallenge(old).ok());
  auto r = Call("POST", "/v1/evidence", Submission(*node, {old.nonce_id, old.nonce, old.expires_at}));
  EXPECT_EQ(r.status, 410);
  EXPECT_NE(ErrorOf(r).find("expired nonce"), std::string::npos) << r.body;
}

TEST_F(VerifierE2e, AkThatNeverActivatedIsNotTrusted) {
  auto node = NewNode("node-1");
  auto req = node->MakeRegisterRequest();
  ASSERT_TRUE(req.ok());
  ASSERT_EQ(Call("POST", "/v1/register", EncodeRegisterRequest(*req)).status, 201);
  auto r = Call("POST", "/v1/challenge", EncodeChallengeRequest({"node-1"}));
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(ErrorOf(r).find("has not activated its AK"), std::string::npos) << r.body;
}

TEST_F(VerifierE2e, WrongActivationSecretIsRefusedAndConsumesTheRegistration) {
  auto node = NewNode("node-1");
  auto req = node->MakeRegisterRequest();
  ASSERT_TRUE(req.ok());
  auto reg = DecodeRegisterChallenge(Call("POST", "/v1/register", EncodeRegisterRequest(*req)).body);
  ASSERT_TRUE(reg.ok());
  auto r = Call("POST", "/v1/activate", EncodeActivateRequest({reg->registration_id, Bytes(32, 0)}));
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(ErrorOf(r).find("activation secret does not match"), std::string::npos) << r.body;
  auto secret = node->Activate(*reg);
  ASSERT_TRUE(secret.ok());
  auto again = Call("POST", "/v1/activate", EncodeActivateRequest({reg->registration_id, *secret}));
  EXPECT_EQ(again.status, 404) << again.body;
}

TEST_F(VerifierE2e, EkFromAnUntrustedCaIsRefused) {
  // Trust only the verifier's own node CA as "TPM manufacturer".
  StartVerifier(dir_.path() + "/v/node-ca.crt");
  auto node = NewNode("node-1");
  auto req = node->MakeRegisterRequest();
  ASSERT_TRUE(req.ok());
  auto r = Call("POST", "/v1/register", EncodeRegisterRequest(*req));
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(ErrorOf(r).find("not issued by a trusted TPM manufacturer CA"), std::string::npos) << r.body;
}

TEST_F(VerifierE2e, SameIdFromAnotherEkIsRefusedSameEkMayReRegister) {
  auto node = NewNode("node-1");
  Enroll(*node);
  // The same TPM again (a reinstalled node): allowed.
  auto same = node->MakeRegisterRequest();
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(Call("POST", "/v1/register", EncodeRegisterRequest(*same)).status, 201);
  // Another EK (here: the ECC EK, with its own certificate from the
  // manufacturer CA) claiming the same id.
  auto other = NewNode("node-1");
  auto req = other->MakeRegisterRequest(tpm::EkPreference::kEcc);
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  ASSERT_NE(req->ek_public, same->ek_public);
  auto r = Call("POST", "/v1/register", EncodeRegisterRequest(*req));
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(ErrorOf(r).find("registered with a different TPM"), std::string::npos) << r.body;
}

TEST_F(VerifierE2e, EkPublicThatIsNotTheCertificatesKeyIsRefused) {
  auto node = NewNode("node-1");
  auto rsa = node->MakeRegisterRequest();
  auto other = NewNode("node-x");
  auto ecc = other->MakeRegisterRequest(tpm::EkPreference::kEcc);
  ASSERT_TRUE(rsa.ok() && ecc.ok());
  rsa->ek_public = ecc->ek_public;
  auto r = Call("POST", "/v1/register", EncodeRegisterRequest(*rsa));
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(ErrorOf(r).find("does not match the EK certificate"), std::string::npos) << r.body;
}

TEST_F(VerifierE2e, ClientWithoutCertificateIsRefusedWhereOneIsRequired) {
  auto r = Call("POST", "/v1/events", EncodeEventBatch({}));
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(ErrorOf(r).find("client certificate is required"), std::string::npos) << r.body;
  EXPECT_EQ(Call("GET", "/v1/nodes/node-1", "").status, 401);
  EXPECT_EQ(Call("GET", "/v1/bundle", "").status, 401);
  EXPECT_EQ(Call("GET", "/v1/admin/nodes", "").status, 401);
  // A certificate from a CA the verifier doesn't know fails the handshake.
  auto foreign_ca = CreateCa("foreign", std::chrono::hours(1));
  ASSERT_TRUE(foreign_ca.ok());
  auto foreign = NodeCa::FromPem(foreign_ca->cert_pem, foreign_ca->key_pem);
  ASSERT_TRUE(foreign.ok());
  auto admin = foreign->IssueAdminCert("admin", std::chrono::hours(1));
  ASSERT_TRUE(admin.ok());
  auto f = Call("GET", "/v1/admin/nodes", "", ClientCert{admin->cert_pem, admin->key_pem});
  EXPECT_EQ(f.status, 0) << f.body;
}

TEST_F(VerifierE2e, QuoteMustBindTheTlsKeyAndTheCsrMustCarryIt) {
  auto node = NewNode("node-1");
  Enroll(*node);
  PublishReference(*node);
  // Quote bound to the node's key, but another key presented.
  auto c = GetChallenge(*node);
  ASSERT_TRUE(c.ok());
  auto ev = node->Collect(QuoteQualifyingData(c->nonce, node->tls_spki()));
  ASSERT_TRUE(ev.ok());
  auto other_key = GenerateKeyPem();
  auto other_spki = SpkiDerOfKeyPem(*other_key);
  EvidenceSubmission sub{c->nonce_id, *ev, *other_spki, *CreateCsr(*other_key, "node-1"), false};
  auto r = Call("POST", "/v1/evidence", *EncodeEvidenceSubmission(sub));
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = DecodeVerdictResponse(r.body);
  EXPECT_FALSE(v->pass);
  EXPECT_TRUE(HasFinding(*v, "nonce")) << r.body;
  EXPECT_FALSE(v->client_cert_pem.has_value());
  // Quote bound to the node's key, CSR for another key.
  auto c2 = GetChallenge(*node);
  ASSERT_TRUE(c2.ok());
  auto ev2 = node->Collect(QuoteQualifyingData(c2->nonce, node->tls_spki()));
  EvidenceSubmission sub2{c2->nonce_id, *ev2, node->tls_spki(), *CreateCsr(*other_key, "node-1"), false};
  auto r2 = Call("POST", "/v1/evidence", *EncodeEvidenceSubmission(sub2));
  EXPECT_EQ(r2.status, 403);
  EXPECT_NE(ErrorOf(r2).find("not the TLS key the quote bound"), std::string::npos) << r2.body;
}

TEST_F(VerifierE2e, NoReferenceValuesMeansNoPass) {
  auto node = NewNode("node-1");
  Enroll(*node);
  auto c = GetChallenge(*node);
  ASSERT_TRUE(c.ok());
  auto r = Call("POST", "/v1/evidence", Submission(*node, *c));
  auto v = DecodeVerdictResponse(r.body);
  ASSERT_TRUE(v.ok()) << r.body;
  EXPECT_FALSE(v->pass);
  EXPECT_TRUE(HasFinding(*v, "reference_values"));
}

TEST_F(VerifierE2e, RestartResumesFromTheDatabase) {
  auto node = NewNode("node-1");
  Enroll(*node);
  PublishReference(*node);
  auto c = GetChallenge(*node);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(DecodeVerdictResponse(Call("POST", "/v1/evidence", Submission(*node, *c)).body)->pass);
  auto state_before = server_->service().storage().GetAppraisalState("node-1");
  ASSERT_TRUE(state_before.ok() && state_before->has_value());
  StartVerifier();  // a new process would do the same: everything comes from the DB
  auto c2 = GetChallenge(*node);
  ASSERT_TRUE(c2.ok()) << c2.status().ToString();
  auto v = DecodeVerdictResponse(Call("POST", "/v1/evidence", Submission(*node, *c2)).body);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->pass);
  auto state_after = server_->service().storage().GetAppraisalState("node-1");
  ASSERT_TRUE(state_after.ok() && state_after->has_value());
  auto before = attest::DecodeAppraisalState(**state_before);
  auto after = attest::DecodeAppraisalState(**state_after);
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_GT(after->clock, before->clock);
  // The state written before the restart was used: rolling it forward past
  // the TPM's clock makes the next quote fail the clock check.
  attest::AppraisalState future = *after;
  future.clock += 1000000000;
  ASSERT_TRUE(server_->service().storage().RecordVerdict({"manual", "node-1", 0, true, false, 0, "", "{}"},
                                                         attest::EncodeAppraisalState(future)).ok());
  auto c3 = GetChallenge(*node);
  auto v3 = DecodeVerdictResponse(Call("POST", "/v1/evidence", Submission(*node, *c3)).body);
  ASSERT_TRUE(v3.ok());
  EXPECT_FALSE(v3->pass);
  EXPECT_TRUE(HasFinding(*v3, "clock"));
}

TEST_F(VerifierE2e, MalformedRequestsGetA4xxWithAReason) {
  auto r = Call("POST", "/v1/register", "{not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(ErrorOf(r).find("register: not valid JSON"), std::string::npos) << r.body;
  r = Call("POST", "/v1/evidence", R"({"nonce_id":"x","evidence":[],"tls_public_key_spki_der":"AA=="})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(ErrorOf(r).find("evidence_submission.evidence: expected an object"), std::string::npos) << r.body;
  r = Call("POST", "/v1/challenge", EncodeChallengeRequest({"nobody"}));
  EXPECT_EQ(r.status, 404);
  r = Call("GET", "/v1/nothing-here", "");
  EXPECT_EQ(r.status, 404);
  EXPECT_FALSE(ErrorOf(r).empty()) << r.body;
  r = Call("POST", "/v1/register", std::string(kMaxBodyBytes + 10, 'x'));
  EXPECT_EQ(r.status, 413) << r.error;
}

TEST_F(VerifierE2e, BundlesArePublishedByAdminsAndFetchedWithEtags) {
  auto node = NewNode("node-1");
  Enroll(*node);
  auto ca_key = ReadFileToString(dir_.path() + "/v/node-ca.key", 1 << 16);
  auto ca = NodeCa::FromPem(ca_pem_, *ca_key);
  ASSERT_TRUE(ca.ok());
  auto pair = ca->IssueClientCertForTest("node-1", std::chrono::hours(1));
  ASSERT_TRUE(pair.ok());
  ClientCert mine{pair->cert_pem, pair->key_pem};
  EXPECT_EQ(Call("GET", "/v1/bundle", "", mine).status, 404);

  auto b = bundle::MakeBundle(1, Now() - 10, Now() + 3600, {.all = true}, {{"policies/web.yaml", "name: web\n"}});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const Bytes unsigned_bytes = bundle::EncodeBundle(*b);
  auto refused = Call("POST", "/v1/admin/bundles", std::string(AsChars(unsigned_bytes)), admin_);
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(ErrorOf(refused).find("bundle refused: below_threshold"), std::string::npos) << refused.body;
  ASSERT_TRUE(bundle::SignBundle(*b, *policy_key_).ok());
  const Bytes signed_bytes = bundle::EncodeBundle(*b);
  const std::string file(AsChars(signed_bytes));
  EXPECT_EQ(Call("POST", "/v1/admin/bundles", file, mine).status, 403);
  auto pub = Call("POST", "/v1/admin/bundles", file, admin_);
  ASSERT_EQ(pub.status, 201) << pub.body;
  auto info = DecodeBundleInfo(pub.body);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->version, 1u);
  EXPECT_EQ(Call("POST", "/v1/admin/bundles", file, admin_).status, 409);

  auto got = Call("GET", "/v1/bundle", "", mine);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body, file);
  EXPECT_EQ(got.etag, "\"" + info->sha256 + "\"");
  auto same = Call("GET", "/v1/bundle", "", mine, got.etag);
  EXPECT_EQ(same.status, 304);
  EXPECT_TRUE(same.body.empty());
  EXPECT_EQ(Call("GET", "/v1/bundle", "", mine, "\"stale\"").status, 200);
}

}  // namespace
}  // namespace edgeward::cloud
