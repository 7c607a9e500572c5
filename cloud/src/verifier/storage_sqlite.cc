// SQLite implementation of Storage.
//
// Durability: WAL with synchronous=FULL. In WAL mode NORMAL may lose the
// last commits on power loss; for a verifier that would un-consume a used
// nonce or forget an appraisal state (letting a replayed quote or a rolled
// back TPM clock pass), so every commit is fsynced. WAL keeps readers off
// the writer's lock. One connection, serialised by a mutex: appraisal (the
// CPU cost) runs outside the lock, and statements are prepared once.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>

#include "edgeward/base/errno_status.h"
#include "edgeward/base/fd.h"
#include "edgeward/cloud/storage.h"

namespace edgeward::cloud {

std::string_view NodeStateName(NodeState s) {
  switch (s) {
    case NodeState::kPending: return "pending";
    case NodeState::kActive: return "active";
    case NodeState::kRevoked: return "revoked";
  }
  return "unknown";
}

namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Schema migrations, applied in order; the index + 1 is the version
// recorded in schema_migrations. Append only.
constexpr const char* kMigrations[] = {
    R"(CREATE TABLE nodes(
         id TEXT PRIMARY KEY, ek_hash TEXT NOT NULL, ak_public BLOB, ak_name BLOB, signing_key BLOB,
         labels TEXT NOT NULL DEFAULT '{}', state TEXT NOT NULL, registered_at INTEGER NOT NULL,
         last_verdict_at INTEGER NOT NULL DEFAULT 0, last_pass INTEGER NOT NULL DEFAULT 0,
         cert_expires_at INTEGER NOT NULL DEFAULT 0);
       CREATE TABLE registrations(
         id TEXT PRIMARY KEY, node_id TEXT NOT NULL, secret_hash BLOB NOT NULL, expires_at INTEGER NOT NULL,
         ek_hash TEXT NOT NULL, ak_public BLOB NOT NULL, ak_name BLOB NOT NULL, signing_key BLOB NOT NULL,
         labels TEXT NOT NULL);
       CREATE TABLE challenges(
         nonce_id TEXT PRIMARY KEY, node_id TEXT NOT NULL, nonce BLOB NOT NULL, expires_at INTEGER NOT NULL,
         used INTEGER NOT NULL DEFAULT 0);
       CREATE TABLE appraisal_state(node_id TEXT PRIMARY KEY, state TEXT NOT NULL);
       CREATE TABLE verdicts(
         id TEXT PRIMARY KEY, node_id TEXT NOT NULL, time INTEGER NOT NULL, pass INTEGER NOT NULL,
         offline INTEGER NOT NULL, failures INTEGER NOT NULL, summary TEXT NOT NULL, verdict_json TEXT NOT NULL);
       CREATE INDEX verdicts_by_node ON verdicts(node_id, time);
       CREATE TABLE reference_values(grp TEXT PRIMARY KEY, yaml TEXT NOT NULL);
       CREATE TABLE bundles(version INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, bytes BLOB NOT NULL,
         published_at INTEGER NOT NULL);
       CREATE TABLE events(node_id TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, priority INTEGER NOT NULL,
         payload BLOB NOT NULL, received_at INTEGER NOT NULL, PRIMARY KEY(node_id, id));
       CREATE TABLE issued_certs(serial TEXT PRIMARY KEY, node_id TEXT NOT NULL, issued_at INTEGER NOT NULL,
         expires_at INTEGER NOT NULL);)",
};

std::string LabelsToJson(const std::map<std::string, std::string>& labels) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : labels) j[k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::map<std::string, std::string> LabelsFromJson(std::string_view text) {
  std::map<std::string, std::string> out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it->is_string()) out.emplace(it.key(), it->get<std::string>());
  }
  return out;
}

NodeState StateFromName(std::string_view s) {
  if (s == "active") return NodeState::kActive;
  if (s == "revoked") return NodeState::kRevoked;
  return NodeState::kPending;
}

class SqliteStorage;

// A bound, reset-on-destruction use of a cached prepared statement.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Query() {
    if (stmt_ == nullptr) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Query(Query&& o) noexcept
      : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)), index_(o.index_), bind_status_(std::move(o.bind_status_)) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  Query& operator=(Query&&) = delete;

  Query& Bind(std::string_view v) {
    Check(sqlite3_bind_text(stmt_, ++index_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Query& Bind(ByteView v) {
    // A zero-length blob must still be a blob, not NULL.
    static const uint8_t kEmpty = 0;
    Check(sqlite3_bind_blob(stmt_, ++index_, v.empty() ? &kEmpty : v.data(), static_cast<int>(v.size()),
                            SQLITE_TRANSIENT));
    return *this;
  }
  Query& Bind(int64_t v) {
    Check(sqlite3_bind_int64(stmt_, ++index_, v));
    return *this;
  }
  // SQLITE_ROW → true, SQLITE_DONE → false.
  StatusOr<bool> Step() {
    if (!bind_status_.ok()) return bind_status_;
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Internal(std::string("sqlite3_step: ") + sqlite3_errmsg(db_) + " (" + sqlite3_sql(stmt_) + ")");
  }
  Status Run() {
    EW_ASSIGN_OR_RETURN(bool row, Step());
    (void)row;
    return Status::Ok();
  }
  std::string Text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  Bytes Blob(int col) const {
    const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
    return p ? Bytes(p, p + sqlite3_column_bytes(stmt_, col)) : Bytes();
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK && bind_status_.ok()) {
      bind_status_ = Internal(std::string("sqlite3_bind: ") + sqlite3_errmsg(db_));
    }
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int index_ = 0;
  Status bind_status_;
};

class SqliteStorage final : public Storage {
 public:
  static StatusOr<std::unique_ptr<Storage>> Open(const std::string& path, bool sync_full) {
    // Create the file 0600 ourselves: sqlite3 would use the umask.
    {
      UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
      if (!fd.valid()) return EW_ERRNO("open", path);
    }
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
    DbPtr db(raw);
    if (rc != SQLITE_OK) {
      return Internal("sqlite3_open_v2 " + path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    auto s = std::unique_ptr<SqliteStorage>(new SqliteStorage(std::move(db), path));
    EW_RETURN_IF_ERROR(s->Init(sync_full));
    return std::unique_ptr<Storage>(std::move(s));
  }

  StatusOr<std::optional<NodeRecord>> GetNode(const std::string& id) override {
    std::lock_guard lock(mu_);
    return GetNodeLocked(id);
  }

  StatusOr<std::vector<NodeRecord>> ListNodes() override {
    std::lock_guard lock(mu_);
    EW_ASSIGN_OR_RETURN(Query q, Prepare(std::string(kNodeSelect) + " ORDER BY id"));
    std::vector<NodeRecord> out;
    while (true) {
      EW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back(NodeFrom(q));
    }
    return out;
  }

  Status ReserveNode(const std::string& id, const std::string& ek_hash, int64_t now) override {
    std::lock_guard lock(mu_);
    EW_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status st = [&]() -> Status {
      EW_ASSIGN_OR_RETURN(auto node, GetNodeLocked(id));
      if (node) {
        // Revocation is an operator's decision: registering again (same EK
        // or not) must not undo it.
        if (node->state == NodeState::kRevoked) {
          return PermissionDenied("revoked: node '" + id + "' was revoked by an operator and may not register again");
        }
        if (node->ek_hash == ek_hash) return Status::Ok();
        // A node that never activated has no trusted AK: letting another
        // EK claim it keeps an abandoned (or squatted) registration from
        // locking the id forever. The first activation pins the EK.
        if (node->state == NodeState::kPending) {
          EW_ASSIGN_OR_RETURN(Query q, Prepare("UPDATE nodes SET ek_hash=?, registered_at=? WHERE id=?"));
          return q.Bind(ek_hash).Bind(now).Bind(id).Run();
        }
        return AlreadyExists("node '" + id + "' is registered with a different TPM (EK)");
      }
      EW_ASSIGN_OR_RETURN(Query q, Prepare("INSERT INTO nodes(id, ek_hash, state, registered_at) VALUES(?,?,?,?)"));
      return q.Bind(id).Bind(ek_hash).Bind(NodeStateName(NodeState::kPending)).Bind(now).Run();
    }();
    return Finish(std::move(st));
  }

  Status SetNodeState(const std::string& id, NodeState state) override {
    std::lock_guard lock(mu_);
    EW_ASSIGN_OR_RETURN(Query q, Prepare("UPDATE nodes SET state=? WHERE id=?"));
    EW_RETURN_IF_ERROR(q.Bind(NodeStateName(state)).Bind(id).Run());
    if (sqlite3_changes(db_.get()) == 0) return NotFound("node '" + id + "' is not registered");
    return Status::Ok();
  }

  Status PutRegistration(const RegistrationRecord& r) override {
    std::lock_guard lock(mu_);
    EW_ASSIGN_OR_RETURN(Query q, Prepare("INSERT INTO registrations(id, node_id, secret_hash, expires_at, ek_hash, "
                                         "ak_public, ak_name, signing_key, labels) VALUES(?,?,?,?,?,?,?,?,?)"));
    return q.Bind(r.id).Bind(r.node_id).Bind(ByteView(r.secret_hash)).Bind(r.expires_at).Bind(r.ek_hash)
        .Bind(ByteView(r.ak_public)).Bind(ByteView(r.ak_name)).Bind(ByteView(r.signing_key))
        .Bind(LabelsToJson(r.labels)).Run();
  }

  StatusOr<RegistrationRecord> TakeRegistration(const std::string& id,
                                                const std::function<Status(const RegistrationRecord&)>& check) override {
    std::lock_guard lock(mu_);
    EW_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    RegistrationRecord r;
    Status refused;
    Status st = [&]() -> Status {
      {
        EW_ASSIGN_OR_RETURN(Query q, Prepare("SELECT node_id, secret_hash, expires_at, ek_hash, ak_public, ak_name, "
                                             "signing_key, labels FROM registrations WHERE id=?"));
        EW_ASSIGN_OR_RETURN(bool row, q.Bind(id).Step());
        if (!row) return NotFound("registration '" + id + "' is unknown or was already used");
        r.id = id;
        r.node_id = q.Text(0);
        r.secret_hash = q.Blob(1);
        r.expires_at = q.Int(2);
        r.ek_hash = q.Text(3);
        r.ak_public = q.Blob(4);
        r.ak_name = q.Blob(5);
        r.signing_key = q.Blob(6);
        r.labels = LabelsFromJson(q.Text(7));
      }
      {
        EW_ASSIGN_OR_RETURN(Query q, Prepare("DELETE FROM registrations WHERE id=?"));
        EW_RETURN_IF_ERROR(q.Bind(id).Run());
      }
      refused = check(r);
      if (!refused.ok()) return Status::Ok();  // commit the consumption, report the refusal
      EW_ASSIGN_OR_RETURN(auto node, GetNodeLocked(r.node_id));
      if (!node) return NotFound("node '" + r.node_id + "' is not registered");
      if (node->state == NodeState::kRevoked) {
        // Revoked between /register and /activate.
        return PermissionDenied("revoked: node '" + r.node_id + "' was revoked by an operator and may not register "
                                "again");
      }
      if (node->ek_hash != r.ek_hash) {
        return AlreadyExists("node '" + r.node_id + "' is registered with a different TPM (EK)");
      }
      if (node->ak_name != r.ak_name) {
        // A new AK: counters of the old one mean nothing for it.
        EW_ASSIGN_OR_RETURN(Query q, Prepare("DELETE FROM appraisal_state WHERE node_id=?"));
        EW_RETURN_IF_ERROR(q.Bind(r.node_id).Run());
      }
      EW_ASSIGN_OR_RETURN(Query q, Prepare("UPDATE nodes SET ak_public=?, ak_name=?, signing_key=?, labels=?, "
                                           "state=? WHERE id=?"));
      return q.Bind(ByteView(r.ak_public)).Bind(ByteView(r.ak_name)).Bind(ByteView(r.signing_key))
          .Bind(LabelsToJson(r.labels)).Bind(NodeStateName(NodeState::kActive)).Bind(r.node_id).Run();
    }();
    EW_RETURN_IF_ERROR(Finish(std::move(st)));
    if (!refused.ok()) return refused;
    return r;
  }

  Status PutChallenge(const ChallengeRecord& c) override {
    std::lock_guard lock(mu_);
    EW_ASSIGN_OR_RETURN(Query q, Prepare("INSERT INTO challenges(nonce_id, node_id, nonce, expires_at) VALUES(?,?,?,?)"));
    return q.Bind(c.nonce_id).Bind(c.node_id).Bind(ByteView(c.nonce)).Bind(c.expires_at).Run();
  }

  StatusOr<ChallengeRecord> ConsumeChallenge(const std::string& nonce_id) override {
    std::lock_guard lock(mu_);
    // One statement marks and returns: no window between check and use.
    EW_ASSIGN_OR_RETURN(Query q, Prepare("UPDATE challenges SET used=1 WHERE nonce_id=? AND used=0 "
                                         "RETURNING node_id, nonce, expires_at"));
    EW_ASSIGN_OR_RETURN(bool row, q.Bind(nonce_id).Step());
    if (row) {
      ChallengeRecord c{nonce_id, q.Text(0), q.Blob(1), q.Int(2)};
      EW_RETURN_IF_ERROR(q.Run());  // finish the statement so the change commits
      return c;
    }
    EW_ASSIGN_OR_RETURN(Query e, Prepare("SELECT 1 FROM challenges WHERE nonce_id=?"));
    EW_ASSIGN_OR_RETURN(bool exists, e.Bind(nonce_id).Step());
    if (exists) return FailedPrecondition("nonce already used (nonce_id '" + nonce_id + "')");
    return NotFound("nonce_id '" + nonce_id + "' was never issued (or expired and was pruned)");
  }

  Status PruneExpired(int64_t now) override {
    std::lock_guard lock(mu_);
    {
      EW_ASSIGN_OR_RETURN(Query q, Prepare("DELETE FROM challenges WHERE expires_at < ?"));
      EW_RETURN_IF_ERROR(q.Bind(now).Run());
    }
    EW_ASSIGN_OR_RETURN(Query q, Prepare("DELETE FROM registrations WHERE expires_at < ?"));
    return q.Bind(now).Run();
  }

  StatusOr<std::optional<std::string>> GetAppraisalState(const std::string& node_id) override {
    std::lock_guard lock(mu_);
    EW_ASSIGN_OR_RETURN(Query q, Prepare("SELECT state FROM appraisal_state WHERE node_id=?"));
    EW_ASSIGN_OR_RETURN(bool row, q.Bind(node_id).Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(q.Text(0));
  }

  Status RecordVerdict(const VerdictRecord& v, const std::optional<std::string>& new_state) override {
    std::lock_guard lock(mu_);
    EW_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status st = [&]() -> Status {
      {
        EW_ASSIGN_OR_RETURN(Query q, Prepare("INSERT INTO verdicts(id, node_id, time, pass, offline, failures, "
                                             "summary, verdict_json) VALUES(?,?,?,?,?,?,?,?)"));
        EW_RETURN_IF_ERROR(q.Bind(v.id).Bind(v.node_id).Bind(v.time).Bind(int64_t{v.pass}).Bind(int64_t{v.offline})
                               .Bind(static_cast<int64_t>(v.failures)).Bind(v.summary).Bind(v.verdict_json).Run());
      }
      if (new_state) {
        EW_ASSIGN_OR_RETURN(Query q, Prepare("INSERT INTO appraisal_state(node_id, state) VALUES(?,?) "
                                             "ON CONFLICT(node_id) DO UPDATE SET state=excluded.state"));
        EW_RETURN_IF_ERROR(q.Bind(v.node_id).Bind(*new_state).Run());
      }
      // An offline verdict that holds is not a fresh pass: it leaves the
      // node's last verdict alone. One that breaks continuity counts.
      if (v.offline && v.pass) return Status::Ok();
      EW_ASSIGN_OR_RETURN(Query q, Prepare("UPDATE nodes SET last_verdict_at=?, last_pass=? WHERE id=?"));
      return q.Bind(v.time).Bind(int64_t{v.pass}).Bind(v.node_id).Run();
    }();
    return Finish(std::move(st));
  }

  StatusOr<std::vector<VerdictRecord>> ListVerdicts(const std::string& node_id, size_t limit) override {
    std::lock_guard lock(mu_);
    EW_ASSIGN_OR_RETURN(Query q, Prepare("SELECT id, time, pass, offline, failures, summary, verdict_json FROM verdicts "
                                         "WHERE node_id=? ORDER BY time DESC, rowid DESC LIMIT ?"));
    q.Bind(node_id).Bind(static_cast<int64_t>(limit));
    std::vector<VerdictRecord> out;
    while (true) {
      EW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back({q.Text(0), node_id, q.Int(1), q.Int(2) != 0, q.Int(3) != 0, static_cast<size_t>(q.Int(4)),
                     q.Text(5), q.Text(6)});
    }
    return out;
  }

  Status PutReference(const std::string& group, const std::string& yaml) override {
    std::lock_guard lock(mu_);
    EW_ASSIGN_OR_RETURN(Query q, Prepare("INSERT INTO reference_values(grp, yaml) VALUES(?,?) "
                                         "ON CONFLICT(grp) DO UPDATE SET yaml=excluded.yaml"));
    return q.Bind(group).Bind(yaml).Run();
  }

  StatusOr<std::optional<std::string>> GetReference(const std::string& group) override {
    std::lock_guard lock(mu_);
    EW_ASSIGN_OR_RETURN(Query q, Prepare("SELECT yaml FROM reference_values WHERE grp=?"));
    EW_ASSIGN_OR_RETURN(bool row, q.Bind(group).Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(q.Text(0));
  }

  Status PutBundle(const BundleRecord& b) override {
    std::lock_guard lock(mu_);
    EW_ASSIGN_OR_RETURN(Query e, Prepare("SELECT 1 FROM bundles WHERE version=?"));
    EW_ASSIGN_OR_RETURN(bool exists, e.Bind(static_cast<int64_t>(b.version)).Step());
    if (exists) return AlreadyExists("bundle version " + std::to_string(b.version) + " is already published");
    EW_ASSIGN_OR_RETURN(Query q, Prepare("INSERT INTO bundles(version, sha256, bytes, published_at) VALUES(?,?,?,?)"));
    return q.Bind(static_cast<int64_t>(b.version)).Bind(b.sha256).Bind(AsBytes(b.bytes)).Bind(b.published_at).Run();
  }

  StatusOr<std::vector<BundleRecord>> ListBundles(bool with_bytes) override {
    std::lock_guard lock(mu_);
    EW_ASSIGN_OR_RETURN(Query q, Prepare(with_bytes
                                             ? "SELECT version, sha256, published_at, bytes FROM bundles ORDER BY version DESC"
                                             : "SELECT version, sha256, published_at FROM bundles ORDER BY version DESC"));
    std::vector<BundleRecord> out;
    while (true) {
      EW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      BundleRecord b{static_cast<uint64_t>(q.Int(0)), q.Text(1), {}, q.Int(2)};
      if (with_bytes) {
        Bytes bytes = q.Blob(3);
        b.bytes.assign(bytes.begin(), bytes.end());
      }
      out.push_back(std::move(b));
    }
    return out;
  }

  StatusOr<std::optional<BundleRecord>> GetBundle(uint64_t version) override {
    std::lock_guard lock(mu_);
    EW_ASSIGN_OR_RETURN(Query q, Prepare("SELECT sha256, published_at, bytes FROM bundles WHERE version=?"));
    EW_ASSIGN_OR_RETURN(bool row, q.Bind(static_cast<int64_t>(version)).Step());
    if (!row) return std::optional<BundleRecord>();
    Bytes bytes = q.Blob(2);
    return std::optional<BundleRecord>(BundleRecord{version, q.Text(0), std::string(bytes.begin(), bytes.end()), q.Int(1)});
  }

  StatusOr<std::vector<bool>> InsertEvents(const std::vector<EventRecord>& events) override {
    std::lock_guard lock(mu_);
    EW_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    std::vector<bool> fresh;
    fresh.reserve(events.size());
    Status st = [&]() -> Status {
      for (const auto& e : events) {
        EW_ASSIGN_OR_RETURN(Query q, Prepare("INSERT OR IGNORE INTO events(node_id, id, seq, priority, payload, "
                                             "received_at) VALUES(?,?,?,?,?,?)"));
        EW_RETURN_IF_ERROR(q.Bind(e.node_id).Bind(e.id).Bind(static_cast<int64_t>(e.seq))
                               .Bind(static_cast<int64_t>(e.priority)).Bind(ByteView(e.payload)).Bind(e.received_at).Run());
        fresh.push_back(sqlite3_changes(db_.get()) == 1);
      }
      return Status::Ok();
    }();
    EW_RETURN_IF_ERROR(Finish(std::move(st)));
    return fresh;
  }

  StatusOr<size_t> CountEvents(const std::string& node_id) override {
    std::lock_guard lock(mu_);
    EW_ASSIGN_OR_RETURN(Query q, Prepare("SELECT count(*) FROM events WHERE node_id=?"));
    EW_ASSIGN_OR_RETURN(bool row, q.Bind(node_id).Step());
    return row ? static_cast<size_t>(q.Int(0)) : size_t{0};
  }

  Status PutIssuedCert(const IssuedCertRecord& c) override {
    std::lock_guard lock(mu_);
    EW_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status st = [&]() -> Status {
      {
        EW_ASSIGN_OR_RETURN(Query q, Prepare("INSERT INTO issued_certs(serial, node_id, issued_at, expires_at) "
                                             "VALUES(?,?,?,?)"));
        EW_RETURN_IF_ERROR(q.Bind(c.serial).Bind(c.node_id).Bind(c.issued_at).Bind(c.expires_at).Run());
      }
      EW_ASSIGN_OR_RETURN(Query q, Prepare("UPDATE nodes SET cert_expires_at=? WHERE id=?"));
      return q.Bind(c.expires_at).Bind(c.node_id).Run();
    }();
    return Finish(std::move(st));
  }

  StatusOr<std::vector<IssuedCertRecord>> ListIssuedCerts(const std::string& node_id) override {
    std::lock_guard lock(mu_);
    EW_ASSIGN_OR_RETURN(Query q, Prepare("SELECT serial, issued_at, expires_at FROM issued_certs WHERE node_id=? "
                                         "ORDER BY issued_at DESC"));
    q.Bind(node_id);
    std::vector<IssuedCertRecord> out;
    while (true) {
      EW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back({q.Text(0), node_id, q.Int(1), q.Int(2)});
    }
    return out;
  }

 private:
  static constexpr const char* kNodeSelect =
      "SELECT id, ek_hash, ak_public, ak_name, signing_key, labels, state, registered_at, last_verdict_at, "
      "last_pass, cert_expires_at FROM nodes";

  SqliteStorage(DbPtr db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  static NodeRecord NodeFrom(const Query& q) {
    NodeRecord n;
    n.id = q.Text(0);
    n.ek_hash = q.Text(1);
    n.ak_public = q.Blob(2);
    n.ak_name = q.Blob(3);
    n.signing_key = q.Blob(4);
    n.labels = LabelsFromJson(q.Text(5));
    n.state = StateFromName(q.Text(6));
    n.registered_at = q.Int(7);
    n.last_verdict_at = q.Int(8);
    n.last_pass = q.Int(9) != 0;
    n.cert_expires_at = q.Int(10);
    return n;
  }

  StatusOr<std::optional<NodeRecord>> GetNodeLocked(const std::string& id) {
    EW_ASSIGN_OR_RETURN(Query q, Prepare(std::string(kNodeSelect) + " WHERE id=?"));
    EW_ASSIGN_OR_RETURN(bool row, q.Bind(id).Step());
    if (!row) return std::optional<NodeRecord>();
    return std::optional<NodeRecord>(NodeFrom(q));
  }

  Status Exec(const char* sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string m = std::string("sqlite3_exec(") + sql + ") " + path_ + ": " + (err ? err : sqlite3_errstr(rc));
      sqlite3_free(err);
      return Internal(std::move(m));
    }
    return Status::Ok();
  }

  // Commits on success, rolls back on failure; returns the first error.
  Status Finish(Status st) {
    if (st.ok()) return Exec("COMMIT");
    (void)Exec("ROLLBACK");  // the original error is the one to report
    return st;
  }

  StatusOr<Query> Prepare(const std::string& sql) {
    auto it = stmts_.find(sql);
    if (it == stmts_.end()) {
      sqlite3_stmt* raw = nullptr;
      if (sqlite3_prepare_v3(db_.get(), sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK) {
        return Internal("sqlite3_prepare_v3(" + sql + "): " + sqlite3_errmsg(db_.get()));
      }
      it = stmts_.emplace(sql, StmtPtr(raw)).first;
    }
    return Query(db_.get(), it->second.get());
  }

  Status Init(bool sync_full) {
    if (sqlite3_busy_timeout(db_.get(), 5000) != SQLITE_OK) return Internal("sqlite3_busy_timeout failed");
    EW_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
    EW_RETURN_IF_ERROR(Exec(sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
    EW_RETURN_IF_ERROR(Exec("PRAGMA foreign_keys=ON"));
    EW_RETURN_IF_ERROR(Exec("CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, "
                            "applied_at INTEGER NOT NULL)"));
    int64_t current = 0;
    {
      EW_ASSIGN_OR_RETURN(Query q, Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
      EW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) current = q.Int(0);
    }
    const int64_t known = static_cast<int64_t>(std::size(kMigrations));
    if (current > known) {
      return FailedPrecondition(path_ + ": database schema version " + std::to_string(current) +
                                " is newer than this verifier (" + std::to_string(known) + ")");
    }
    for (int64_t v = current; v < known; ++v) {
      EW_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
      Status st = Exec(kMigrations[v]);
      if (st.ok()) {
        auto q = Prepare("INSERT INTO schema_migrations(version, applied_at) VALUES(?, strftime('%s','now'))");
        st = q.ok() ? q->Bind(v + 1).Run() : q.status();
      }
      EW_RETURN_IF_ERROR(Finish(std::move(st)).WithContext("schema migration " + std::to_string(v + 1)));
    }
    return Status::Ok();
  }

  std::mutex mu_;
  // Statements are finalized before the connection closes (member order).
  DbPtr db_;
  std::string path_;
  std::unordered_map<std::string, StmtPtr> stmts_;
};

}  // namespace

StatusOr<std::unique_ptr<Storage>> OpenSqliteStorage(const std::string& path, bool sync_full) {
  return SqliteStorage::Open(path, sync_full);
}

}  // namespace edgeward::cloud
