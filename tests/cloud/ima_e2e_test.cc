// Incremental IMA and offline reports end to end: the real verifier on
// loopback (TLS 1.3, SQLite state), a swtpm per node with an IMA log
// extended into PCR 10 as the kernel does. The node sends only the entries
// after the verifier's last pass; a verifier restart stays incremental; a
// tampered or truncated slice fails; a reboot (TPM2_Startup(CLEAR),
// resetCount + 1) makes the verifier ask for the full log. Offline quotes
// are appraised for continuity only, never as a fresh pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <thread>

#include "edgeward/cloud/events.h"
#include "edgeward/crypto/random.h"
#include "verifier_fixture.h"

namespace edgeward::cloud {
namespace {

using testing::ClientCert;
using testing::ErrorOf;
using testing::HttpResult;
using testing::TestNode;

const char* const kFiles[] = {"/usr/bin/sensor", "/etc/sensor.yaml", "/usr/lib/libc.so.6", "/usr/bin/uploader",
                              "/usr/sbin/sshd"};

size_t Lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

std::string Describe(const VerdictResponse& v) {
  std::string out;
  for (const auto& f : v.findings) out += std::string(attest::SeverityName(f.severity)) + " " + f.check + ": " + f.message + "\n";
  return out;
}

class ImaE2e : public testing::VerifierE2e {
 protected:
  // Measures `n` more files (cycling through kFiles, so the reference
  // values made from the first quote know them all).
  void Measure(TestNode& node, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(node.MeasureIma(kFiles[node.ima_entries() % std::size(kFiles)]).ok());
    }
  }

  // An enrolled node with 20 IMA entries and reference values from them.
  std::unique_ptr<TestNode> ReadyNode(const std::string& id = "node-1") {
    auto node = NewNode(id);
    if (!node) return nullptr;
    Enroll(*node);
    Measure(*node, 20);
    PublishReference(*node);
    return node;
  }

  struct Round {
    HttpResult http;
    std::optional<VerdictResponse> verdict;
    size_t body_bytes = 0;
    size_t ima_lines = 0;      // entries in the evidence's IMA log
    uint64_t offered = 0;      // the challenge's ima_offset
  };

  // One challenge/evidence round. `start`: the IMA entry to start at
  // (default: what the challenge says); `edit` may tamper with the IMA log.
  Round Attest(TestNode& node, std::optional<uint64_t> start = std::nullopt,
               const std::function<void(std::string&)>& edit = nullptr) {
    Round out;
    auto c = GetChallenge(node);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return out;
    out.offered = c->ima_offset;
    auto ev = node.Collect(QuoteQualifyingData(c->nonce, node.tls_spki()), start.value_or(c->ima_offset));
    EXPECT_TRUE(ev.ok()) << ev.status().ToString();
    if (!ev.ok()) return out;
    for (auto& l : ev->event_logs) {
      if (l.format != attest::EventLogFormat::kIma) continue;
      if (edit) edit(l.data);
      out.ima_lines = Lines(l.data);
    }
    EvidenceSubmission sub;
    sub.nonce_id = c->nonce_id;
    sub.evidence = *ev;
    sub.tls_public_key_spki_der = node.tls_spki();
    sub.csr_pem = *CreateCsr(node.tls_key_pem(), node.node_id());
    auto body = EncodeEvidenceSubmission(sub);
    EXPECT_TRUE(body.ok());
    out.body_bytes = body->size();
    out.http = Call("POST", "/v1/evidence", *body);
    if (out.http.status == 200) {
      auto v = DecodeVerdictResponse(out.http.body);
      EXPECT_TRUE(v.ok()) << v.status().ToString();
      if (v.ok() && v->client_cert_pem) cert_ = ClientCert{*v->client_cert_pem, node.tls_key_pem()};
      if (v.ok()) out.verdict = std::move(v).value();
    }
    return out;
  }

  // An offline submission: the node's own nonce, no challenge.
  std::string OfflineBody(TestNode& node, uint64_t start) {
    auto nonce = crypto::RandomBytes(32);
    EXPECT_TRUE(nonce.ok());
    auto ev = node.Collect(Bytes(nonce->begin(), nonce->end()), start);
    EXPECT_TRUE(ev.ok()) << ev.status().ToString();
    EvidenceSubmission sub;
    sub.offline = true;
    sub.evidence = *ev;
    sub.tls_public_key_spki_der = node.tls_spki();
    auto body = EncodeEvidenceSubmission(sub);
    EXPECT_TRUE(body.ok()) << body.status().ToString();
    return body.ok() ? *body : "";
  }

  std::vector<VerdictSummary> History(const std::string& id) {
    auto r = Call("GET", "/v1/nodes/" + id + "/verdicts", "", admin_);
    EXPECT_EQ(r.status, 200) << r.body;
    auto h = DecodeVerdictHistory(r.body);
    EXPECT_TRUE(h.ok());
    return h.ok() ? h->verdicts : std::vector<VerdictSummary>{};
  }

  NodeStatus Status(const std::string& id) {
    auto r = Call("GET", "/v1/nodes/" + id, "", admin_);
    EXPECT_EQ(r.status, 200) << r.body;
    auto s = DecodeNodeStatus(r.body);
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : NodeStatus{};
  }

  std::optional<ClientCert> cert_;
};

TEST_F(ImaE2e, SecondAttestationSendsOnlyTheNewEntries) {
  auto node = ReadyNode();
  ASSERT_TRUE(node);
  Round first = Attest(*node);
  ASSERT_EQ(first.http.status, 200) << first.http.body;
  EXPECT_EQ(first.offered, 0u);
  EXPECT_EQ(first.ima_lines, 20u);
  EXPECT_TRUE(first.verdict->pass) << first.http.body;
  EXPECT_EQ(first.verdict->ima_offset, 20u);

  Measure(*node, 3);
  Round second = Attest(*node);
  ASSERT_EQ(second.http.status, 200) << second.http.body;
  EXPECT_EQ(second.offered, 20u);
  EXPECT_EQ(second.ima_lines, 3u);
  EXPECT_TRUE(second.verdict->pass) << second.http.body;
  EXPECT_EQ(second.verdict->ima_offset, 23u);
  // 17 fewer IMA lines of ~130 bytes each on the wire.
  EXPECT_LT(second.body_bytes + 17 * 100, first.body_bytes);
  std::printf("evidence body: full log (20 entries) %zu bytes, incremental (3 entries) %zu bytes\n",
              first.body_bytes, second.body_bytes);

  // Nothing new: an empty slice, still a pass.
  Round idle = Attest(*node);
  ASSERT_EQ(idle.http.status, 200) << idle.http.body;
  EXPECT_EQ(idle.ima_lines, 0u);
  EXPECT_TRUE(idle.verdict->pass) << idle.http.body;
  EXPECT_EQ(idle.verdict->ima_offset, 23u);
}

TEST_F(ImaE2e, VerifierRestartResumesIncrementally) {
  auto node = ReadyNode();
  ASSERT_TRUE(node);
  Round first = Attest(*node);
  ASSERT_EQ(first.http.status, 200);
  ASSERT_TRUE(first.verdict->pass) << first.http.body;
  StartVerifier();  // a new process's worth of state: only the database survives
  Measure(*node, 2);
  Round second = Attest(*node);
  ASSERT_EQ(second.http.status, 200) << second.http.body;
  EXPECT_EQ(second.offered, 20u);
  EXPECT_EQ(second.ima_lines, 2u);
  EXPECT_TRUE(second.verdict->pass) << second.http.body;
}

TEST_F(ImaE2e, TamperedOrTruncatedSliceFailsAndTheOffsetStays) {
  auto node = ReadyNode();
  ASSERT_TRUE(node);
  ASSERT_TRUE(Attest(*node).verdict->pass);
  Measure(*node, 3);
  // Drop the middle entry of the three (hiding a measured file).
  Round dropped = Attest(*node, std::nullopt, [](std::string& log) {
    size_t a = log.find('\n');
    size_t b = log.find('\n', a + 1);
    log.erase(a + 1, b - a);
  });
  ASSERT_EQ(dropped.http.status, 200) << dropped.http.body;
  EXPECT_FALSE(dropped.verdict->pass);
  EXPECT_TRUE(HasFinding(*dropped.verdict, "replay")) << dropped.http.body;
  EXPECT_FALSE(dropped.verdict->client_cert_pem);
  EXPECT_EQ(dropped.verdict->ima_offset, 20u);
  // Cut the last entry the quote covers.
  Round truncated = Attest(*node, std::nullopt, [](std::string& log) {
    log.erase(log.rfind('\n', log.size() - 2) + 1);
  });
  ASSERT_EQ(truncated.http.status, 200) << truncated.http.body;
  EXPECT_EQ(truncated.ima_lines, 2u);
  EXPECT_FALSE(truncated.verdict->pass);
  EXPECT_TRUE(HasFinding(*truncated.verdict, "replay")) << truncated.http.body;
  // The honest slice still starts at 20 and passes.
  Round honest = Attest(*node);
  EXPECT_EQ(honest.offered, 20u);
  ASSERT_EQ(honest.http.status, 200);
  EXPECT_TRUE(honest.verdict->pass) << honest.http.body;
}

TEST_F(ImaE2e, RebootMakesTheVerifierAskForTheFullLog) {
  auto node = ReadyNode();
  ASSERT_TRUE(node);
  ASSERT_TRUE(Attest(*node).verdict->pass);
  ASSERT_TRUE(node->Reboot().ok());
  Measure(*node, 25);  // longer than before: the node can't tell it from its log length
  Round inc = Attest(*node);
  EXPECT_EQ(inc.offered, 20u);
  EXPECT_EQ(inc.ima_lines, 5u);
  ASSERT_EQ(inc.http.status, 409) << inc.http.body;
  auto err = DecodeErrorResponse(inc.http.body);
  ASSERT_TRUE(err.ok()) << err.status().ToString();
  EXPECT_TRUE(err->full_log_required);
  EXPECT_NE(err->error.find("full IMA log required"), std::string::npos) << err->error;
  EXPECT_NE(err->error.find("the TPM was reset"), std::string::npos) << err->error;
  // Nothing was recorded for it.
  EXPECT_EQ(History("node-1").size(), 1u);

  Round full = Attest(*node, 0);
  ASSERT_EQ(full.http.status, 200) << full.http.body;
  EXPECT_EQ(full.ima_lines, 25u);
  EXPECT_TRUE(full.verdict->pass) << full.http.body;
  EXPECT_EQ(full.verdict->ima_offset, 25u);
  bool saw_reset = false;
  for (const auto& f : full.verdict->findings) saw_reset |= f.check == "reset";
  EXPECT_TRUE(saw_reset) << full.http.body;
}

TEST_F(ImaE2e, OfflineQuoteIsAppraisedForContinuityNotFreshness) {
  auto node = ReadyNode();
  ASSERT_TRUE(node);
  Round first = Attest(*node);
  ASSERT_TRUE(first.verdict && first.verdict->pass) << first.http.body;
  ASSERT_TRUE(cert_);
  const NodeStatus before = Status("node-1");

  Measure(*node, 2);
  // Without the node's certificate: refused.
  const std::string body = OfflineBody(*node, 20);
  EXPECT_EQ(Call("POST", "/v1/evidence", body).status, 401);
  auto r = Call("POST", "/v1/evidence", body, cert_);
  ASSERT_EQ(r.status, 200) << r.body << r.error;
  auto v = DecodeVerdictResponse(r.body);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->offline);
  EXPECT_TRUE(v->pass) << r.body;  // continuity holds
  EXPECT_FALSE(v->client_cert_pem);
  EXPECT_EQ(v->ima_offset, 22u);
  auto h = History("node-1");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_TRUE(h[0].offline);
  EXPECT_FALSE(h[1].offline);
  // Not a fresh pass: the node's last verdict is still the online one.
  const NodeStatus after = Status("node-1");
  EXPECT_EQ(after.last_verdict_at, before.last_verdict_at);
  EXPECT_TRUE(after.last_pass);
}

TEST_F(ImaE2e, OfflineReportsTravelSealedThroughTheEventsEndpointOnce) {
  auto node = ReadyNode();
  ASSERT_TRUE(node);
  ASSERT_TRUE(Attest(*node).verdict->pass);
  ASSERT_TRUE(cert_);
  auto info = DecodeVerifierInfo(Call("GET", "/v1/verifier-info", "").body);
  ASSERT_TRUE(info.ok());
  Measure(*node, 1);
  const std::string report = OfflineBody(*node, 20);
  EventBatch batch;
  EventMessage m{"offline-1", 1, 0, {}};
  ASSERT_TRUE(SealEvent(node->signing_key(), info->x25519_public_key, "node-1", m, AsBytes(report)).ok());
  batch.messages.push_back(m);
  // Not a report at all: rejected with the reason, never stored.
  EventMessage junk{"offline-junk", 2, 0, {}};
  ASSERT_TRUE(SealEvent(node->signing_key(), info->x25519_public_key, "node-1", junk, AsBytes(std::string("{}"))).ok());
  batch.messages.push_back(junk);
  auto ack = DecodeEventAck(Call("POST", "/v1/events", EncodeEventBatch(batch), cert_).body);
  ASSERT_TRUE(ack.ok());
  ASSERT_EQ(ack->accepted_ids, std::vector<std::string>{"offline-1"});
  ASSERT_EQ(ack->rejected.size(), 1u);
  EXPECT_NE(ack->rejected[0].reason.find("not an offline report"), std::string::npos) << ack->rejected[0].reason;
  auto h = History("node-1");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_TRUE(h[0].offline);
  EXPECT_TRUE(h[0].pass) << h[0].summary;
  // A resend (lost ack) is a duplicate and is not appraised again.
  batch.messages.pop_back();
  auto again = DecodeEventAck(Call("POST", "/v1/events", EncodeEventBatch(batch), cert_).body);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->duplicate_ids, std::vector<std::string>{"offline-1"});
  EXPECT_EQ(History("node-1").size(), 2u);
}

TEST_F(ImaE2e, OfflineQuoteOlderThanTheStateBreaksContinuity) {
  auto node = ReadyNode();
  ASSERT_TRUE(node);
  ASSERT_TRUE(Attest(*node).verdict->pass);
  ASSERT_TRUE(cert_);
  // Taken offline, then delivered only after a later online pass: the TPM
  // clock in it is behind the verifier's state.
  const std::string old = OfflineBody(*node, 20);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(Attest(*node).verdict->pass);
  auto r = Call("POST", "/v1/evidence", old, cert_);
  ASSERT_EQ(r.status, 200) << r.body << r.error;
  auto v = DecodeVerdictResponse(r.body);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->offline);
  EXPECT_FALSE(v->pass);
  EXPECT_TRUE(HasFinding(*v, "clock")) << r.body;
  // A broken continuity counts against the node.
  EXPECT_FALSE(Status("node-1").last_pass);
}

TEST_F(ImaE2e, OfflineQuoteAfterAResetWithoutTheFullLogBreaksContinuity) {
  auto node = ReadyNode();
  ASSERT_TRUE(node);
  ASSERT_TRUE(Attest(*node).verdict->pass);
  ASSERT_TRUE(cert_);
  ASSERT_TRUE(node->Reboot().ok());
  Measure(*node, 22);
  auto r = Call("POST", "/v1/evidence", OfflineBody(*node, 20), cert_);
  ASSERT_EQ(r.status, 200) << r.body << r.error;  // offline: no one to ask for the full log
  auto v = DecodeVerdictResponse(r.body);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->offline);
  EXPECT_FALSE(v->pass);
  EXPECT_TRUE(HasFinding(*v, "ima_continuity")) << r.body;
  // With the whole log the same reboot holds up.
  auto full = DecodeVerdictResponse(Call("POST", "/v1/evidence", OfflineBody(*node, 0), cert_).body);
  ASSERT_TRUE(full.ok());
  EXPECT_TRUE(full->pass) << Describe(*full);
}

}  // namespace
}  // namespace edgeward::cloud
