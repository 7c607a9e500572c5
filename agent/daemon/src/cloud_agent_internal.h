// CloudAgent's private state (cloud_agent.h). Split over cloud_agent.cc (the
// thread, queues and scheduling), cloud_agent_tpm.cc (TPM open/fault/
// recovery, keys, spool, measurements) and cloud_agent_verifier.cc
// (registration, attestation, renewal, bundles, event forwarding).
//
// Members under `mu` are shared with the callers' threads; everything else
// belongs to the worker thread alone.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "edgeward/base/fd.h"
#include "edgeward/bundle/rollback.h"
#include "edgeward/bundle/root.h"
#include "edgeward/bundle/store.h"
#include "edgeward/channel/cloud_client.h"
#include "edgeward/channel/node_identity.h"
#include "edgeward/channel/spool.h"
#include "edgeward/crypto/ed25519.h"
#include "edgeward/daemon/cloud_agent.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::daemon {

using SteadyClock = std::chrono::steady_clock;

struct MeasureRequest {
  std::string name;
  std::vector<std::string> files;
  std::function<void(Status)> done;  // empty once called
};

struct CloudAgent::Impl {
  Impl(EventLoop& l, CloudAgentOptions o, CloudAgentCallbacks c)
      : loop(l), opt(std::move(o)), cb(std::move(c)) {}

  // ---- thread and shared queues (cloud_agent.cc) ----
  void Run();
  void Wake();
  // Moves measurement requests queued by callers into `measures` (under mu).
  void TakeIncomingMeasures();
  // Posts on_event(line) to the loop (and logs it at debug).
  void Emit(std::string line);
  template <typename F>
  void UpdateStatus(F&& f) {
    std::lock_guard<std::mutex> lock(mu);
    f(status);
  }

  EventLoop& loop;
  const CloudAgentOptions opt;
  const CloudAgentCallbacks cb;
  SteadyClock::time_point started_at;
  std::thread thread;
  // An eventfd Stop() makes readable: the HTTPS client's cancel_fd, so a
  // request in flight ends at once instead of at its timeout. Created by
  // Start(), outlives the thread.
  UniqueFd cancel_fd;

  mutable std::mutex mu;
  std::condition_variable cv;
  bool stop = false;               // under mu; the worker may also read `stopping` without it
  std::atomic<bool> stopping{false};
  bool attest_requested = false;   // under mu
  std::deque<std::string> incoming_reports;     // under mu
  uint64_t incoming_dropped = 0;                // under mu: over max_pending_reports
  std::deque<MeasureRequest> incoming_measures;  // under mu
  CloudStatus status;              // under mu

  // ---- worker state ----
  // TPM and what depends on it (cloud_agent_tpm.cc).
  void TryOpenTpm(SteadyClock::time_point now);
  // A TPM operation failed with `s`: decides whether the TPM is gone (a
  // probe fails too) and, if so, enters the fault state. Returns true when
  // the TPM is down.
  bool CheckTpmFault(const std::string& operation, const Status& s, SteadyClock::time_point now);
  void EnterTpmFault(const std::string& operation, const Status& s, SteadyClock::time_point now);
  Status OpenTpmDependents();
  StatusOr<crypto::Ed25519SigningKey> LoadOrCreateEventKey();
  void OpenBundleStore();
  Status ReopenGuard();
  void RunMeasurements(SteadyClock::time_point now);
  void AppendReports();
  void NoteSpoolDrops();
  void PublishSpoolStats();

  std::optional<tpm::Tpm> tpm;
  bool tpm_ok = false;
  bool tpm_fault_reported = false;
  bool tpm_ever_opened = false;
  SteadyClock::time_point tpm_retry_at{};
  std::chrono::milliseconds tpm_backoff{0};

  std::unique_ptr<channel::Spool> spool;
  std::optional<channel::NodeIdentity> identity;
  std::optional<crypto::Ed25519SigningKey> event_key;
  uint64_t spool_drops_reported = 0;
  std::deque<std::string> pending_reports;  // waiting for the spool
  uint64_t pending_dropped = 0;

  std::optional<bundle::BundleStore> store;
  std::optional<bundle::RollbackGuard> guard;
  bool guard_has_tpm = false;
  std::optional<bundle::RootDocument> root;
  std::string active_digest;

  std::deque<MeasureRequest> measures;                         // waiting for the TPM
  std::map<std::string, std::vector<std::string>> last_files;  // by request name
  std::map<std::string, std::string> last_digest;              // path → sha256 hex

  // Verifier side (cloud_agent_verifier.cc).
  void VerifierStep(SteadyClock::time_point now);
  Status BuildClient();
  bool LoadRegistration();
  Status SaveRegistration();
  void DoAttest(SteadyClock::time_point now, bool renewal_due);
  void DoFetch(SteadyClock::time_point now);
  void ApplyBundle(const std::string& bytes, const std::string& etag);
  void DoSend(SteadyClock::time_point now);
  // A verifier call failed for a reason a retry may fix: back off.
  void NetworkFailure(const std::string& what, const Status& s, SteadyClock::time_point now);
  // After a failed verifier call: when the verifier answered unknown_node
  // (it lost this node), forgets the registration so the next step
  // registers again with the same TPM identity, and returns true.
  bool VerifierLostNode(const std::string& what, const Status& s, SteadyClock::time_point now);
  SteadyClock::time_point RenewalDue(SteadyClock::time_point now) const;
  SteadyClock::time_point NextWake(SteadyClock::time_point now) const;

  std::optional<channel::CloudClient> client;
  std::optional<cloud::VerifierInfo> verifier_info;
  bool registered = false;
  bool have_cert = false;
  std::optional<channel::RenewalSchedule> renewal;
  std::string etag;
  SteadyClock::time_point next_attest{};     // {} = due now
  SteadyClock::time_point next_fetch{};
  SteadyClock::time_point next_send{};
  SteadyClock::time_point renewal_retry_at{};
  SteadyClock::time_point net_retry_at{};
  std::chrono::milliseconds net_backoff{0};
  std::chrono::milliseconds renewal_backoff{0};
  bool send_pending = false;  // the spool has records to send
  // Re-registration after unknown_node: why (for node.reregistered), and
  // the backoff between re-registrations not followed by a passing
  // attestation (a verifier that keeps forgetting the node, or two
  // verifiers behind one URL with different databases, must not make the
  // agent register in a tight loop).
  std::string reregister_reason;   // "" when the registration is not a re-registration
  uint32_t reregistrations_since_pass = 0;
  std::chrono::milliseconds reregister_backoff{0};
  std::mt19937_64 rng{std::random_device{}()};
};

// Event lines in the rules engine's schema (docs/events.md); time is now.
namespace cloud_events {
std::string Now();  // RFC 3339 UTC with milliseconds
std::string AttestationVerdict(const std::string& node_id, bool pass, const std::vector<std::string>& reasons);
std::string MeasurementChanged(const std::string& node_id, const std::string& path, uint32_t pcr,
                               const std::string& old_sha256, const std::string& new_sha256);
std::string BundleAccepted(const std::string& node_id, const std::string& id, uint64_t version,
                           const std::string& signer);
std::string BundleRejected(const std::string& node_id, const std::string& id, std::optional<uint64_t> version,
                           const std::string& reason, const std::string& message);
std::string TpmFault(const std::string& node_id, const std::string& operation, const Status& s);
std::string SpoolOverflow(const std::string& node_id, const std::string& name, uint64_t dropped, uint64_t bytes);
std::string NodeReregistered(const std::string& node_id, const std::string& reason);
std::string CertRenewalFailed(const std::string& node_id, const std::string& reason, int64_t not_after,
                              int64_t wall_now);
}  // namespace cloud_events

}  // namespace edgeward::daemon
