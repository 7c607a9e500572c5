// The verifier's persistent state behind one interface, so that a
// PostgreSQL backend (for horizontally scaled verifiers) can implement the
// same calls; SqliteStorage is the embedded default (storage_sqlite.cc).
//
// Every method is one transaction: the state is never half-updated. The
// single-use operations (TakeRegistration, ConsumeChallenge) are atomic
// against concurrent callers, also across processes sharing the database.
// Implementations are thread-safe. Errors: kNotFound for a missing row where
// the method says so, kInternal naming the failing database call otherwise.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"

namespace edgeward::cloud {

enum class NodeState { kPending, kActive, kRevoked };
std::string_view NodeStateName(NodeState s);  // "pending", "active", "revoked"

struct NodeRecord {
  std::string id;
  std::string ek_hash;     // hex SHA-256 of the EK's TPM2B_PUBLIC: which TPM this node is
  Bytes ak_public;         // TPM2B_PUBLIC; trusted only when state is active
  Bytes ak_name;
  Bytes signing_key;       // Ed25519 public key (events)
  std::map<std::string, std::string> labels;
  NodeState state = NodeState::kPending;
  int64_t registered_at = 0;
  int64_t last_verdict_at = 0;
  bool last_pass = false;
  int64_t cert_expires_at = 0;
};

// An outstanding MakeCredential challenge. Holds what becomes the node's
// identity once activation succeeds.
struct RegistrationRecord {
  std::string id;
  std::string node_id;
  Bytes secret_hash;       // SHA-256 of the credential secret (never the secret)
  int64_t expires_at = 0;
  std::string ek_hash;
  Bytes ak_public;
  Bytes ak_name;
  Bytes signing_key;
  std::map<std::string, std::string> labels;
};

struct ChallengeRecord {
  std::string nonce_id;
  std::string node_id;
  Bytes nonce;
  int64_t expires_at = 0;
};

struct VerdictRecord {
  std::string id;
  std::string node_id;
  int64_t time = 0;
  bool pass = false;
  bool offline = false;
  size_t failures = 0;
  std::string summary;
  std::string verdict_json;  // attest::FormatVerdictJson
};

struct BundleRecord {
  uint64_t version = 0;
  std::string sha256;        // hex of the bundle file: the ETag
  std::string bytes;
  int64_t published_at = 0;
};

struct EventRecord {
  std::string node_id;
  std::string id;
  uint64_t seq = 0;
  int priority = 0;
  Bytes payload;             // opened and verified
  int64_t received_at = 0;
};

struct IssuedCertRecord {
  std::string serial;        // hex
  std::string node_id;
  int64_t issued_at = 0;
  int64_t expires_at = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Nodes. GetNode: nullopt when unknown.
  virtual StatusOr<std::optional<NodeRecord>> GetNode(const std::string& id) = 0;
  virtual StatusOr<std::vector<NodeRecord>> ListNodes() = 0;
  // Creates a pending node row unless one exists. An existing row with a
  // different ek_hash → kAlreadyExists (another TPM owns this id) once that
  // node has activated; a still-pending row is re-claimed by the new EK; a
  // revoked row → kPermissionDenied ("revoked: ...") whatever the EK.
  virtual Status ReserveNode(const std::string& id, const std::string& ek_hash, int64_t now) = 0;
  virtual Status SetNodeState(const std::string& id, NodeState state) = 0;

  // Registrations.
  virtual Status PutRegistration(const RegistrationRecord& r) = 0;
  // Removes and returns the registration (single use); kNotFound if absent.
  // In the same transaction `check` judges the proof: on error the
  // registration is still consumed and that error returned; on success the
  // node becomes active with the registration's AK, signing key and labels,
  // provided its ek_hash still equals the registration's (else
  // kAlreadyExists) and it is not revoked (else kPermissionDenied
  // "revoked: ..."). The appraisal state is dropped when the AK changes.
  virtual StatusOr<RegistrationRecord> TakeRegistration(
      const std::string& id, const std::function<Status(const RegistrationRecord&)>& check) = 0;

  // Challenges. ConsumeChallenge marks the nonce used atomically and
  // returns it; unknown → kNotFound; already used → kFailedPrecondition
  // "nonce already used". Expiry is the caller's to check.
  virtual Status PutChallenge(const ChallengeRecord& c) = 0;
  virtual StatusOr<ChallengeRecord> ConsumeChallenge(const std::string& nonce_id) = 0;
  // Drops challenges and registrations that expired before `now`.
  virtual Status PruneExpired(int64_t now) = 0;

  // Appraisal state (attest::EncodeAppraisalState JSON); nullopt if none.
  virtual StatusOr<std::optional<std::string>> GetAppraisalState(const std::string& node_id) = 0;
  // Records the verdict and, when given, the new appraisal state, and the
  // node's last verdict (not for an offline verdict that passed: continuity
  // is not freshness), in one transaction.
  virtual Status RecordVerdict(const VerdictRecord& v, const std::optional<std::string>& new_state) = 0;
  virtual StatusOr<std::vector<VerdictRecord>> ListVerdicts(const std::string& node_id, size_t limit) = 0;

  // Reference values (YAML text) per node group.
  virtual Status PutReference(const std::string& group, const std::string& yaml) = 0;
  virtual StatusOr<std::optional<std::string>> GetReference(const std::string& group) = 0;

  // Bundles. A version that already exists → kAlreadyExists.
  virtual Status PutBundle(const BundleRecord& b) = 0;
  // Newest first, without bytes unless `with_bytes`.
  virtual StatusOr<std::vector<BundleRecord>> ListBundles(bool with_bytes) = 0;
  virtual StatusOr<std::optional<BundleRecord>> GetBundle(uint64_t version) = 0;

  // Events: inserts each not yet stored (by node_id, id); returns per event
  // whether it was new (false: a duplicate, stored once already).
  virtual StatusOr<std::vector<bool>> InsertEvents(const std::vector<EventRecord>& events) = 0;
  virtual StatusOr<size_t> CountEvents(const std::string& node_id) = 0;

  // Issued client certificates; also updates the node's cert_expires_at.
  virtual Status PutIssuedCert(const IssuedCertRecord& c) = 0;
  virtual StatusOr<std::vector<IssuedCertRecord>> ListIssuedCerts(const std::string& node_id) = 0;
};

// Opens (creating if needed, mode 0600) the SQLite database at `path` and
// applies pending schema migrations. WAL journal, synchronous=FULL, a 5 s
// busy timeout (docs/verifier.md "Storage"). sync_full=false: NORMAL, for
// benchmarks and deployments that accept losing the last commits on power loss.
StatusOr<std::unique_ptr<Storage>> OpenSqliteStorage(const std::string& path, bool sync_full = true);

}  // namespace edgeward::cloud
