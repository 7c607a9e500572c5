// CloudAgent: the worker thread, its request queues and its schedule. The
// worker sleeps on a condition variable until the earliest of its deadlines
// (steady_clock, i.e. CLOCK_MONOTONIC) or until a caller queues something;
// it never polls.
#include "edgeward/daemon/cloud_agent.h"

#include <spdlog/spdlog.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "cloud_agent_internal.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/file.h"

namespace edgeward::daemon {

CloudAgent::CloudAgent(EventLoop& loop, CloudAgentOptions options, CloudAgentCallbacks callbacks)
    : loop_(loop), impl_(std::make_unique<Impl>(loop, std::move(options), std::move(callbacks))) {}

CloudAgent::~CloudAgent() { Stop(); }

Status CloudAgent::Start() {
  const CloudAgentOptions& o = impl_->opt;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->status.started) return FailedPrecondition("cloud agent: already started");
  }
  if (o.node_id.empty()) return InvalidArgument("cloud agent: node_id is required");
  if (auto s = bundle::ValidateNodeId(o.node_id); !s.ok()) return s.WithContext("cloud agent: node_id");
  if (o.state_dir.empty()) return InvalidArgument("cloud agent: state_dir is required");
  if (!o.verifier_url.empty()) {
    if (o.verifier_url.rfind("https://", 0) != 0) {
      return InvalidArgument("cloud agent: verifier url '" + o.verifier_url + "' is not https://");
    }
    if (o.verifier_ca_file.empty()) return InvalidArgument("cloud agent: verifier caFile is required with a url");
  }
  if (o.attestation_interval.count() <= 0) return InvalidArgument("cloud agent: attestation interval must be > 0");
  if (o.fetch_interval.count() <= 0) return InvalidArgument("cloud agent: bundle fetch interval must be > 0");
  if (o.fetch_jitter.count() < 0) return InvalidArgument("cloud agent: bundle fetch jitter must be >= 0");
  if (o.retry_initial.count() <= 0 || o.retry_max < o.retry_initial) {
    return InvalidArgument("cloud agent: retry backoff must satisfy 0 < initial <= max");
  }
  if (o.max_pending_reports == 0) return InvalidArgument("cloud agent: max_pending_reports must be > 0");
  if (o.measurement_pcr > 23 || o.measurement_pcr == 16 || o.measurement_pcr == 23) {
    return InvalidArgument("cloud agent: measurement PCR " + std::to_string(o.measurement_pcr) +
                           " is not usable (0-22, not 16)");
  }
  const int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) return EW_ERRNO("eventfd", "cloud agent cancel fd");
  impl_->cancel_fd = UniqueFd(efd);
  EW_RETURN_IF_ERROR(MakeDirs(o.state_dir, 0700));
  EW_RETURN_IF_ERROR(MakeDirs(o.state_dir + "/cloud", 0700, /*enforce_mode=*/true));
  impl_->started_at = SteadyClock::now();
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->status.started = true;
    impl_->status.local_only = o.verifier_url.empty();
  }
  impl_->thread = std::thread([impl = impl_.get()] { impl->Run(); });
  return Status::Ok();
}

void CloudAgent::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->stopping.store(true);
  // A verifier request in flight ends now ("cancelled"), not at its
  // timeout. The fd stays readable: nothing is sent after this anyway.
  if (impl_->cancel_fd.get() >= 0) {
    const uint64_t one = 1;
    if (::write(impl_->cancel_fd.get(), &one, sizeof one) != static_cast<ssize_t>(sizeof one)) {
      spdlog::warn("cloud agent: {}", EW_ERRNO("write", "cloud agent cancel fd").ToString());
    }
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void CloudAgent::Report(std::string json_line) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stop || impl_->opt.verifier_url.empty()) return;
    // Bounded even while the worker is stuck in a slow request.
    if (impl_->incoming_reports.size() >= impl_->opt.max_pending_reports) {
      impl_->incoming_reports.pop_front();
      ++impl_->incoming_dropped;
    }
    impl_->incoming_reports.push_back(std::move(json_line));
  }
  impl_->cv.notify_all();
}

void CloudAgent::AttestNow() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->attest_requested = true;
  }
  impl_->cv.notify_all();
}

void CloudAgent::Measure(std::string name, std::vector<std::string> files, std::function<void(Status)> done) {
  bool rejected = false;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stop || !impl_->status.started) {
      rejected = true;
    } else {
      impl_->incoming_measures.push_back({std::move(name), std::move(files), std::move(done)});
    }
  }
  if (rejected) {
    if (done) loop_.Post([done] { done(FailedPrecondition("cloud agent is not running: nothing measured")); });
    return;
  }
  impl_->cv.notify_all();
}

CloudStatus CloudAgent::Snapshot() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->status;
}

void CloudAgent::Impl::Emit(std::string line) {
  spdlog::debug("cloud agent event: {}", line);
  if (!cb.on_event) return;
  loop.Post([f = cb.on_event, line = std::move(line)] { f(line); });
}

void CloudAgent::Impl::TakeIncomingMeasures() {
  std::lock_guard<std::mutex> lock(mu);
  while (!incoming_measures.empty()) {
    measures.push_back(std::move(incoming_measures.front()));
    incoming_measures.pop_front();
  }
}

void CloudAgent::Impl::Run() {
  // The bundle store works without a TPM (the rollback guard then has only
  // its disk record), so the last accepted bundle reaches the daemon before
  // anything slow happens.
  OpenBundleStore();
  for (;;) {
    bool attest_now = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stop) break;
      while (!incoming_reports.empty()) {
        pending_reports.push_back(std::move(incoming_reports.front()));
        incoming_reports.pop_front();
      }
      attest_now = attest_requested;
      attest_requested = false;
    }
    if (attest_now) next_attest = SteadyClock::time_point{};

    auto now = SteadyClock::now();
    if (!tpm_ok && now >= tpm_retry_at) TryOpenTpm(now);
    // Taken after the TPM open (which may take a while at start): what the
    // daemon asked for meanwhile is measured before anything is attested.
    TakeIncomingMeasures();
    RunMeasurements(SteadyClock::now());
    AppendReports();
    if (!opt.verifier_url.empty()) VerifierStep(SteadyClock::now());
    PublishSpoolStats();

    std::unique_lock<std::mutex> lock(mu);
    if (stop) break;
    if (!incoming_reports.empty() || !incoming_measures.empty() || attest_requested) continue;
    const auto wake = NextWake(SteadyClock::now());
    cv.wait_until(lock, wake, [this] {
      return stop || !incoming_reports.empty() || !incoming_measures.empty() || attest_requested;
    });
  }
  // Reports queued but never appended: put them in the spool so a restart
  // sends them (Append returns once the record is in the kernel).
  {
    std::lock_guard<std::mutex> lock(mu);
    while (!incoming_reports.empty()) {
      pending_reports.push_back(std::move(incoming_reports.front()));
      incoming_reports.pop_front();
    }
  }
  AppendReports();
  if (spool) {
    if (Status s = spool->Flush(); !s.ok()) spdlog::warn("cloud agent: spool flush at stop: {}", s.ToString());
  }
  // Measurement requests still waiting get their answer (posted; the
  // loop may already be stopping, in which case nobody waits for it).
  std::deque<MeasureRequest> left;
  {
    std::lock_guard<std::mutex> lock(mu);
    left.swap(incoming_measures);
  }
  for (auto& m : left) {
    if (m.done) loop.Post([done = std::move(m.done)] { done(FailedPrecondition("cloud agent stopped before measuring")); });
  }
  for (auto& m : measures) {
    if (m.done) loop.Post([done = std::move(m.done)] { done(FailedPrecondition("cloud agent stopped before measuring")); });
  }
  // Teardown order: everything that borrows the TPM before the TPM.
  client.reset();
  guard.reset();
  store.reset();
  spool.reset();
  tpm.reset();
}

SteadyClock::time_point CloudAgent::Impl::NextWake(SteadyClock::time_point now) const {
  // An idle agent with nothing scheduled still wakes once an hour: cheap,
  // and it bounds the damage of any scheduling mistake.
  SteadyClock::time_point wake = now + std::chrono::hours(1);
  if (!tpm_ok) wake = std::min(wake, tpm_retry_at);
  if (!opt.verifier_url.empty() && client) {
    auto net = [&](SteadyClock::time_point t) { return std::max(t, net_retry_at); };
    if (!verifier_info) {
      wake = std::min(wake, net_retry_at);
    } else if (!registered) {
      // Registration needs the TPM; with it down, the TPM retry wakes us.
      if (tpm_ok) wake = std::min(wake, net_retry_at);
    } else {
      if (tpm_ok) wake = std::min(wake, net(next_attest));
      if (tpm_ok && have_cert) wake = std::min(wake, net(std::max(RenewalDue(now), renewal_retry_at)));
      if (have_cert) wake = std::min(wake, net(next_fetch));
      if (have_cert && send_pending) wake = std::min(wake, net(next_send));
    }
  }
  return std::max(wake, now);
}

}  // namespace edgeward::daemon
