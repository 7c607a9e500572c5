// CloudAgent: the daemon's cloud worker (docs/agent-cloud.md). One thread
// that owns everything slow or blocking — the TPM (ESAPI context), the
// verifier client (blocking libcurl), the spool and the bundle store — so
// the daemon's main thread (the EventLoop) never waits on a TPM command or
// the network.
//
// What it does, all on its own thread:
//   * start-up: opens the TPM (tcti; "" auto-detects /dev/tpmrm0), the
//     spool (data key sealed by the TPM), the node's TLS identity and its
//     Ed25519 event key (TPM-sealed, created on first start), the bundle
//     store (recovered; the active bundle is handed to on_bundle), and
//     registers with the verifier when not registered yet;
//   * periodic attestation on a monotonic schedule, plus AttestNow();
//   * client-certificate renewal before expiry (deadline on the boot-time
//     clock, so wall-clock jumps don't move it); a failure emits
//     cert.renewal_failed and is retried with backoff;
//   * bundle fetch every fetch_interval + random jitter with ETag
//     (If-None-Match); a fetched bundle is verified and applied through the
//     BundleStore: accepted → bundle.accepted + on_bundle; rejected →
//     bundle.rejected and the running bundle stays;
//   * event forwarding: Report()ed lines go into the spool and are sent
//     (sealed and signed) whenever the verifier can be reached;
//   * workload measurements (Measure()): CEL log + PCR extend, as
//     `edgeward measure` does;
//   * TPM faults: tpm.fault is emitted once per outage, the TPM is reopened
//     with exponential backoff and everything that needs it resumes;
//     measurements queue meanwhile (a log record is only written with its
//     extend, so the log always replays).
//
// Events the agent itself produces (attestation.verdict,
// measurement.changed, bundle.accepted, bundle.rejected, tpm.fault,
// spool.overflow, cert.renewal_failed, node.reregistered) are JSON lines in the rules engine's
// schema (docs/events.md), delivered to callbacks.on_event on the loop. The
// agent does not spool them itself: the daemon runs them through the rules
// engine and hands whatever should reach the cloud back to Report().
//
// Threading: Start(), Stop() and the destructor on the loop's thread (or any
// one thread); Report(), AttestNow(), Measure() and Snapshot() are
// thread-safe. Every callback runs on the EventLoop's thread, via
// EventLoop::Post(). Callbacks posted before Stop() returned may still run
// afterwards; they hold copies of what they need, never the agent itself.
// The EventLoop must outlive the agent.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgeward/base/status.h"
#include "edgeward/bundle/bundle.h"
#include "edgeward/bundle/verify.h"
#include "edgeward/daemon/event_loop.h"

namespace edgeward::daemon {

struct CloudAgentOptions {
  std::string node_id;                        // required; also the bundle targeting id
  std::map<std::string, std::string> labels;  // sent at registration; bundle targeting
  // Holds the AK blob and measurements.cel (as `edgeward measure/attest
  // --state-dir`), the bundle store (root.json, state.json, bundles/),
  // spool/, tls/ and cloud/ (registration record, event key, ETag).
  // Created 0700.
  std::string state_dir;
  std::string tcti;  // "" auto-detect; "device:/dev/tpmrm0"; "swtpm:host=…,port=…"

  // Verifier. An empty url → local-only: no registration, attestation,
  // bundle fetch or event forwarding (Report() drops lines); the TPM,
  // measurements and the local bundle store still work.
  std::string verifier_url;  // "https://verifier.example:8443"
  std::string verifier_ca_file;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{30'000};

  std::chrono::milliseconds attestation_interval{10 * 60 * 1000};
  std::chrono::milliseconds fetch_interval{5 * 60 * 1000};
  std::chrono::milliseconds fetch_jitter{30 * 1000};
  // Installed as the trusted root at start (bundle::InstallRoot: the first
  // one, or a valid root update). "" → the root already installed (none →
  // fetched bundles are rejected until one is).
  std::string bundle_root_file;
  // Makes the content validator for one bundle verification (rules files
  // are checked cumulatively, so one validator per bundle). Empty → no
  // content checks beyond the bundle format.
  std::function<bundle::ContentValidator()> make_content_validator;

  uint32_t measurement_pcr = 15;
  std::string uefi_log_path;  // "" → attest_node's default
  std::string ima_log_path;   // "" → attest_node's default

  // Retry schedule for a TPM that is down and for a verifier that can't be
  // reached: initial, doubled per failure, capped.
  std::chrono::milliseconds retry_initial{1000};
  std::chrono::milliseconds retry_max{5 * 60 * 1000};

  uint64_t spool_max_bytes = 64u << 20;
  // Report()ed lines kept in memory until the spool is open (TPM down at
  // start), and queued while the worker is busy in a request; beyond this
  // the oldest are dropped, counted and reported (spool.overflow, name
  // "pending").
  size_t max_pending_reports = 10'000;
};

struct CloudAgentCallbacks {
  // One event JSON line (docs/events.md) the agent produced.
  std::function<void(const std::string& json_line)> on_event;
  // The bundle to run: the store's active bundle at start, then every
  // newly accepted one.
  std::function<void(const bundle::Bundle& bundle)> on_bundle;
};

struct CloudStatus {
  bool started = false;
  bool local_only = false;
  bool registered = false;
  // Registered again because the verifier answered unknown_node (its
  // database restored or wiped, or the node deleted), since start.
  uint64_t reregistrations = 0;

  bool tpm_ok = false;
  std::string tpm_error;           // the last TPM failure ("" when none yet)
  uint64_t tpm_errors = 0;         // failed TPM operations/opens
  uint64_t tpm_recoveries = 0;     // reopened after a fault

  struct Verdict {
    bool pass = false;
    int64_t time = 0;                  // wall clock, seconds since the epoch
    std::vector<std::string> reasons;  // failing findings' messages
  };
  std::optional<Verdict> last_verdict;
  std::string last_attest_error;   // the last attempt that got no verdict
  std::string verifier_error;      // the last failed verifier call ("" after a success)
  uint64_t attestations_passed = 0;
  uint64_t attestations_failed = 0;
  // Start() → first passing verdict (nullopt until then).
  std::optional<std::chrono::milliseconds> first_pass_after;

  int64_t cert_not_after = 0;      // 0: no certificate
  uint64_t cert_renewal_failures = 0;

  uint64_t spool_messages = 0;     // live (unsent) records
  uint64_t spool_bytes = 0;
  uint64_t spool_dropped = 0;      // by the drop rule or refused, since start
  uint64_t events_sent = 0;        // accepted by the verifier, since start
  uint64_t pending_reports = 0;    // waiting for the spool to open

  std::optional<uint64_t> bundle_version;  // the active bundle
  std::string bundle_etag;
  uint64_t bundles_accepted = 0;
  uint64_t bundles_rejected = 0;
  uint64_t bundle_fetches = 0;     // answered (200 or 304)
  uint64_t bundle_not_modified = 0;

  uint64_t measurements = 0;        // files extended
  uint64_t measurements_queued = 0; // requests waiting for the TPM
};

class CloudAgent {
 public:
  // Borrows `loop`. Nothing happens until Start().
  CloudAgent(EventLoop& loop, CloudAgentOptions options, CloudAgentCallbacks callbacks);
  ~CloudAgent();  // Stop()
  CloudAgent(const CloudAgent&) = delete;
  CloudAgent& operator=(const CloudAgent&) = delete;

  // Checks the options (kInvalidArgument naming the field), creates the
  // state directory (0700) and starts the worker thread. Everything that
  // can fail later (TPM, verifier, disk) is reported through events and
  // Snapshot(), never by stopping the worker. Twice → kFailedPrecondition.
  Status Start();
  // Wakes the worker, cancels a verifier request in flight (the HTTPS
  // client's cancel_fd: it ends at once, not at its timeout), lets a TPM
  // command in progress finish, flushes the spool and joins. Idempotent.
  void Stop();

  // Queues one event line for the cloud (spooled, then sent). Never blocks
  // on I/O.
  void Report(std::string json_line);
  // Attests as soon as the worker is free (coalesced with a pending one).
  void AttestNow();
  // Hashes `files`, appends each new digest to the CEL log and extends the
  // measurement PCR; `done` is posted to the loop with the result. While
  // the TPM is down, done gets kUnavailable at once and the measurement
  // stays queued until the TPM is back (the caller may start the workload
  // anyway: enforcement does not wait for the TPM). `name` labels the
  // request (a workload name); the latest files per name are measured again
  // after a TPM reset so the log describes what runs.
  void Measure(std::string name, std::vector<std::string> files, std::function<void(Status)> done);

  CloudStatus Snapshot() const;

  struct Impl;

 private:
  EventLoop& loop_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgeward::daemon
