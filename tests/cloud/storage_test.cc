// SqliteStorage on a real database file: registration single use and EK
// pinning, atomic nonce consumption, verdict + state in one transaction,
// dedupe of events, and state surviving a reopen (a verifier restart).
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <thread>

#include "edgeward/cloud/storage.h"
#include "swtpm.h"

namespace edgeward::cloud {
namespace {

using edgeward::testing::TempDir;

class StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = OpenSqliteStorage(dir_.File("v.db"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    db_ = std::move(s).value();
  }
  RegistrationRecord Reg(const std::string& id, const std::string& ek) {
    return {id, "node-1", Bytes(32, 7), 1000, ek, Bytes(10, 1), Bytes(34, 2), Bytes(32, 3), {{"group", "g"}}};
  }
  TempDir dir_;
  std::unique_ptr<Storage> db_;
};

TEST_F(StorageTest, DatabaseFileIsPrivate) {
  struct stat st {};
  ASSERT_EQ(stat(dir_.File("v.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(StorageTest, RegistrationActivatesOnceAndPinsTheEk) {
  // Before activation another EK may claim the id (no AK is trusted yet).
  ASSERT_TRUE(db_->ReserveNode("node-1", "ek-b", 9).ok());
  ASSERT_TRUE(db_->ReserveNode("node-1", "ek-a", 10).ok());
  ASSERT_TRUE(db_->PutRegistration(Reg("r1", "ek-a")).ok());
  auto ok = [](const RegistrationRecord&) { return Status::Ok(); };
  auto taken = db_->TakeRegistration("r1", ok);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  auto again = db_->TakeRegistration("r1", ok);
  EXPECT_EQ(again.status().code(), StatusCode::kNotFound);
  auto node = db_->GetNode("node-1");
  ASSERT_TRUE(node.ok() && node->has_value());
  EXPECT_EQ((*node)->state, NodeState::kActive);
  EXPECT_EQ((*node)->ak_name, Bytes(34, 2));
  EXPECT_EQ((*node)->labels.at("group"), "g");
  // Once active, the EK is pinned.
  auto other = db_->ReserveNode("node-1", "ek-b", 11);
  EXPECT_EQ(other.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(other.message().find("different TPM"), std::string::npos);
  // A registration made for another EK can't activate this node.
  ASSERT_TRUE(db_->PutRegistration(Reg("r2", "ek-b")).ok());
  EXPECT_EQ(db_->TakeRegistration("r2", ok).status().code(), StatusCode::kAlreadyExists);
  // A refused proof still consumes the registration.
  ASSERT_TRUE(db_->PutRegistration(Reg("r3", "ek-a")).ok());
  auto refused = db_->TakeRegistration("r3", [](const RegistrationRecord&) { return PermissionDenied("no"); });
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(db_->TakeRegistration("r3", ok).status().code(), StatusCode::kNotFound);
}

TEST_F(StorageTest, RevokedNodeCannotRegisterAgain) {
  ASSERT_TRUE(db_->ReserveNode("node-1", "ek-a", 10).ok());
  ASSERT_TRUE(db_->PutRegistration(Reg("r1", "ek-a")).ok());
  auto ok = [](const RegistrationRecord&) { return Status::Ok(); };
  ASSERT_TRUE(db_->TakeRegistration("r1", ok).ok());
  // Outstanding registration from before the revocation.
  ASSERT_TRUE(db_->ReserveNode("node-1", "ek-a", 11).ok());
  ASSERT_TRUE(db_->PutRegistration(Reg("r2", "ek-a")).ok());
  ASSERT_TRUE(db_->SetNodeState("node-1", NodeState::kRevoked).ok());
  // Same EK (the node itself) and another EK: both refused.
  for (const char* ek : {"ek-a", "ek-b"}) {
    Status s = db_->ReserveNode("node-1", ek, 12);
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << ek;
    EXPECT_EQ(s.message().rfind("revoked: node 'node-1' was revoked", 0), 0u) << s.message();
  }
  // Activating the registration made before the revocation: refused too.
  auto taken = db_->TakeRegistration("r2", ok);
  EXPECT_EQ(taken.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(taken.status().message().rfind("revoked: ", 0), 0u) << taken.status().message();
  auto node = db_->GetNode("node-1");
  ASSERT_TRUE(node.ok() && node->has_value());
  EXPECT_EQ((*node)->state, NodeState::kRevoked);
}

TEST_F(StorageTest, ChallengeIsConsumedExactlyOnceUnderConcurrency) {
  ASSERT_TRUE(db_->PutChallenge({"n1", "node-1", Bytes(32, 5), 100}).ok());
  std::atomic<int> wins{0}, used{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto c = db_->ConsumeChallenge("n1");
      if (c.ok()) ++wins;
      else if (c.status().code() == StatusCode::kFailedPrecondition) ++used;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(used.load(), 7);
  auto unknown = db_->ConsumeChallenge("nope");
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(db_->PutChallenge({"n2", "node-1", Bytes(32, 5), 100}).ok());
  ASSERT_TRUE(db_->PruneExpired(101).ok());
  EXPECT_EQ(db_->ConsumeChallenge("n2").status().code(), StatusCode::kNotFound);
}

TEST_F(StorageTest, StateAndHistorySurviveReopen) {
  ASSERT_TRUE(db_->ReserveNode("node-1", "ek-a", 10).ok());
  ASSERT_TRUE(db_->RecordVerdict({"v1", "node-1", 20, true, false, 0, "", "{}"}, std::string("{\"clock\":5}")).ok());
  ASSERT_TRUE(db_->RecordVerdict({"v2", "node-1", 30, false, false, 2, "golden_pcr", "{}"}, std::nullopt).ok());
  ASSERT_TRUE(db_->PutBundle({3, "abcd", "bytes", 40}).ok());
  EXPECT_EQ(db_->PutBundle({3, "abcd", "bytes", 40}).code(), StatusCode::kAlreadyExists);
  db_.reset();
  auto s = OpenSqliteStorage(dir_.File("v.db"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  db_ = std::move(s).value();
  auto state = db_->GetAppraisalState("node-1");
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ(**state, "{\"clock\":5}");
  auto hist = db_->ListVerdicts("node-1", 10);
  ASSERT_TRUE(hist.ok());
  ASSERT_EQ(hist->size(), 2u);
  EXPECT_EQ((*hist)[0].id, "v2");
  EXPECT_EQ((*hist)[0].summary, "golden_pcr");
  auto node = db_->GetNode("node-1");
  ASSERT_TRUE(node.ok() && node->has_value());
  EXPECT_EQ((*node)->last_verdict_at, 30);
  EXPECT_FALSE((*node)->last_pass);
  auto b = db_->GetBundle(3);
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->bytes, "bytes");
}

TEST_F(StorageTest, EventsAreStoredOncePerNodeAndId) {
  std::vector<EventRecord> batch = {{"node-1", "e1", 1, 1, Bytes{1}, 5}, {"node-1", "e2", 2, 1, Bytes{2}, 5}};
  auto first = db_->InsertEvents(batch);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, (std::vector<bool>{true, true}));
  batch.push_back({"node-1", "e3", 3, 1, Bytes{3}, 5});
  batch.push_back({"node-2", "e1", 1, 1, Bytes{3}, 5});
  auto second = db_->InsertEvents(batch);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, (std::vector<bool>{false, false, true, true}));
  EXPECT_EQ(*db_->CountEvents("node-1"), 3u);
}

TEST_F(StorageTest, NewerSchemaIsRefused) {
  db_.reset();
  auto r = edgeward::testing::RunCommand("sqlite3 '" + dir_.File("v.db") +
                                         "' \"INSERT INTO schema_migrations VALUES(99, 0)\"");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto s = OpenSqliteStorage(dir_.File("v.db"));
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("schema version 99 is newer"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace edgeward::cloud
