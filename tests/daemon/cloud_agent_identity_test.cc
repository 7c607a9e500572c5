// CloudAgent and the node's identity at the verifier: re-registration when
// the verifier lost the node (database restored or wiped, node deleted)
// with the same TPM identity and without a loop, no way back for a revoked
// node, and verdict reasons / event lines that name measured files safely.
// Fixture: cloud_agent_fixture.h.
#include <sqlite3.h>

#include "cloud_agent_fixture.h"

namespace edgeward::daemon {
namespace {

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

}  // namespace
}  // namespace edgeward::daemon
