// CloudAgent, the verifier side: registration, attestation and certificate
// renewal, bundle fetch and apply, event forwarding. Every call blocks this
// worker thread only (libcurl, bounded by the request timeout).
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "cloud_agent_internal.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/file.h"
#include "edgeward/crypto/hash.h"

namespace edgeward::daemon {
namespace {

int64_t WallNow() { return static_cast<int64_t>(::time(nullptr)); }

std::chrono::milliseconds Doubled(std::chrono::milliseconds b, const CloudAgentOptions& o) {
  return b.count() == 0 ? o.retry_initial : std::min(b * 2, o.retry_max);
}

}  // namespace

Status CloudAgent::Impl::BuildClient() {
  client.reset();
  channel::HttpsClientOptions ho;
  ho.ca_file = opt.verifier_ca_file;
  ho.connect_timeout = opt.connect_timeout;
  ho.total_timeout = opt.request_timeout;
  ho.cancel_fd = cancel_fd.get();  // Stop() ends a request in flight
  EW_ASSIGN_OR_RETURN(channel::HttpsClient https, channel::HttpsClient::Create(ho));
  channel::CloudClientOptions co;
  co.base_url = opt.verifier_url;
  while (!co.base_url.empty() && co.base_url.back() == '/') co.base_url.pop_back();
  co.node_id = opt.node_id;
  co.state_dir = opt.state_dir;
  co.labels = opt.labels;
  co.uefi_log_path = opt.uefi_log_path;
  co.ima_log_path = opt.ima_log_path;
  // The worker has its own backoff; a blocking retry loop inside
  // SendEvents would only delay everything else on this thread.
  co.max_attempts = 1;
  client.emplace(std::move(co), std::move(https), *tpm, *identity, *event_key);
  have_cert = identity->certificate_pem().has_value() && identity->cert_not_after() > WallNow();
  if (have_cert) {
    renewal = channel::RenewalSchedule::Compute(identity->cert_not_before(), identity->cert_not_after(),
                                                std::chrono::system_clock::now(), channel::BootTimeNow());
  } else if (identity->certificate_pem()) {
    client->https().ClearClientCertificate();  // expired: the verifier would refuse the handshake
  }
  const int64_t not_after = have_cert ? identity->cert_not_after() : 0;
  UpdateStatus([&](CloudStatus& s) { s.cert_not_after = not_after; });
  return Status::Ok();
}

bool CloudAgent::Impl::LoadRegistration() {
  auto text = ReadFileToString(opt.state_dir + "/cloud/registration.json", 64 * 1024);
  if (!text.ok()) return false;
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  // A registration counts for this node id at this verifier only.
  return j.value("node_id", "") == opt.node_id && j.value("verifier_url", "") == opt.verifier_url;
}

Status CloudAgent::Impl::SaveRegistration() {
  nlohmann::json j = {{"node_id", opt.node_id}, {"verifier_url", opt.verifier_url}, {"registered_at", WallNow()}};
  return WriteFileAtomic(opt.state_dir + "/cloud/registration.json", AsBytes(j.dump() + "\n"), 0600);
}

void CloudAgent::Impl::NetworkFailure(const std::string& what, const Status& s, SteadyClock::time_point now) {
  if (stopping.load()) {
    // Cancelled by Stop(): not a verifier problem, nothing to retry.
    spdlog::debug("cloud agent: {} ended by stop: {}", what, s.ToString());
    return;
  }
  net_backoff = Doubled(net_backoff, opt);
  net_retry_at = now + net_backoff;
  spdlog::warn("cloud agent: {}: {}; retrying in {} ms", what, s.ToString(), net_backoff.count());
  UpdateStatus([&](CloudStatus& st) { st.verifier_error = what + ": " + s.ToString(); });
}

bool CloudAgent::Impl::VerifierLostNode(const std::string& what, const Status& s, SteadyClock::time_point now) {
  if (client->last_error_code() == cloud::kErrorRevoked) {
    // Revoked by an operator: not ours to undo. Attestation keeps being
    // retried with backoff (an operator may restore the node) but nothing
    // registers again.
    spdlog::error("cloud agent: {}: the verifier says this node is revoked: {}", what, s.message());
    return false;
  }
  if (client->last_error_code() != cloud::kErrorUnknownNode) return false;
  // The TLS session, the verifier's own answer in a mutually checked
  // channel, says it has no record of this node: register again with the
  // identity we have (EK, AK blob, event key and TLS key are all kept; only
  // the registration record goes). Events wait in the spool meanwhile.
  spdlog::warn("cloud agent: {}: the verifier does not know this node ({}); registering again", what, s.message());
  registered = false;
  const std::string path = opt.state_dir + "/cloud/registration.json";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    spdlog::warn("cloud agent: {}", EW_ERRNO("unlink", path).ToString());
  }
  reregister_reason = what + ": " + s.message();
  if (reregistrations_since_pass > 0) {
    // Registered again already and still no pass: wait, doubling.
    reregister_backoff = Doubled(reregister_backoff, opt);
    net_retry_at = std::max(net_retry_at, now + reregister_backoff);
  }
  UpdateStatus([&](CloudStatus& st) {
    st.registered = false;
    st.verifier_error = what + ": " + s.ToString();
  });
  return true;
}

SteadyClock::time_point CloudAgent::Impl::RenewalDue(SteadyClock::time_point now) const {
  if (!renewal) return SteadyClock::time_point::max();
  // The deadline lives on the boot-time clock; converted afresh each time,
  // so neither wall-clock jumps nor suspend move it.
  return now +
         std::chrono::duration_cast<SteadyClock::duration>(renewal->RemainingAt(channel::BootTimeNow()));
}

void CloudAgent::Impl::VerifierStep(SteadyClock::time_point now) {
  if (!client || now < net_retry_at) return;
  if (have_cert && identity->cert_not_after() <= WallNow()) {
    // Expired without a renewal: present no certificate, so attestation
    // (which needs none) can still earn a new one.
    have_cert = false;
    renewal.reset();
    client->https().ClearClientCertificate();
    UpdateStatus([&](CloudStatus& s) { s.cert_not_after = 0; });
  }
  if (!verifier_info) {
    auto info = client->FetchVerifierInfo();
    if (!info.ok()) return NetworkFailure("verifier info", info.status(), now);
    verifier_info = std::move(info).value();
  }
  if (!registered && LoadRegistration()) registered = true;
  if (!registered) {
    if (!tpm_ok) return;
    Status s = client->Register();
    if (!s.ok()) {
      if (CheckTpmFault("activate_credential", s, now)) return;
      return NetworkFailure("register", s, now);
    }
    if (Status w = SaveRegistration(); !w.ok()) spdlog::error("cloud agent: {}", w.ToString());
    registered = true;
    net_backoff = std::chrono::milliseconds(0);
    next_attest = SteadyClock::time_point{};
    spdlog::info("cloud agent: registered as {} with {}", opt.node_id, opt.verifier_url);
    if (!reregister_reason.empty()) {
      ++reregistrations_since_pass;
      UpdateStatus([&](CloudStatus& st) { ++st.reregistrations; });
      Emit(cloud_events::NodeReregistered(opt.node_id, reregister_reason));
      reregister_reason.clear();
    }
  }
  UpdateStatus([&](CloudStatus& s) { s.registered = true; });
  const bool renewal_due = have_cert && now >= RenewalDue(now) && now >= renewal_retry_at;
  if (tpm_ok && (now >= next_attest || renewal_due)) {
    // A quote covers the measurement log as it is: first measure what was
    // requested before now (e.g. while registering, at start — the
    // daemon's first workload), or the first attestation fails for a log
    // that is about to exist (required_log / unknown_file).
    TakeIncomingMeasures();
    RunMeasurements(SteadyClock::now());
    if (!tpm_ok) return;
    DoAttest(now, renewal_due);
    // Not registered any more: the verifier lost the node; register first.
    if (!registered || SteadyClock::now() < net_retry_at) return;
  }
  if (have_cert && now >= next_fetch) {
    DoFetch(now);
    if (!registered || SteadyClock::now() < net_retry_at) return;
  }
  if (have_cert && send_pending && SteadyClock::now() >= next_send) DoSend(SteadyClock::now());
}

void CloudAgent::Impl::DoAttest(SteadyClock::time_point now, bool renewal_due) {
  auto renewal_failed = [&](const std::string& reason) {
    renewal_backoff = Doubled(renewal_backoff, opt);
    renewal_retry_at = now + renewal_backoff;
    UpdateStatus([&](CloudStatus& s) { ++s.cert_renewal_failures; });
    spdlog::warn("cloud agent: certificate renewal failed: {}", reason);
    Emit(cloud_events::CertRenewalFailed(opt.node_id, reason, identity->cert_not_after(), WallNow()));
  };
  auto verdict = client->Attest();
  if (!verdict.ok()) {
    if (stopping.load()) return;  // cancelled by Stop(): no verdict, no renewal failure
    UpdateStatus([&](CloudStatus& s) { s.last_attest_error = verdict.status().ToString(); });
    if (VerifierLostNode("attest", verdict.status(), now)) return;
    if (CheckTpmFault("quote", verdict.status(), now)) return;
    if (renewal_due) renewal_failed(verdict.status().ToString());
    return NetworkFailure("attest", verdict.status(), now);
  }
  net_backoff = std::chrono::milliseconds(0);
  next_attest = now + opt.attestation_interval;
  std::vector<std::string> reasons;
  for (const auto& f : verdict->findings) {
    // With the file's path and digest prefixes, escaped and bounded: the
    // path comes from the node's logs (cloud/api.h FindingReason).
    if (f.severity == attest::Severity::kFail) reasons.push_back(cloud::FindingReason(f));
  }
  const bool pass = verdict->pass;
  if (pass) {
    reregistrations_since_pass = 0;
    reregister_backoff = std::chrono::milliseconds(0);
  }
  const bool new_cert = pass && verdict->client_cert_pem.has_value();
  const bool first_cert = new_cert && !have_cert;
  if (new_cert) {
    have_cert = true;
    renewal = channel::RenewalSchedule::Compute(identity->cert_not_before(), identity->cert_not_after(),
                                                std::chrono::system_clock::now(), channel::BootTimeNow());
    renewal_backoff = std::chrono::milliseconds(0);
    renewal_retry_at = SteadyClock::time_point{};
  }
  if (first_cert) {
    // Certificate in hand: fetch the bundle and send what waited for it.
    next_fetch = now;
    next_send = now;
  }
  const auto since_start = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started_at);
  const int64_t not_after = have_cert ? identity->cert_not_after() : 0;
  UpdateStatus([&](CloudStatus& s) {
    s.last_verdict = CloudStatus::Verdict{pass, WallNow(), reasons};
    s.last_attest_error.clear();
    s.verifier_error.clear();
    (pass ? s.attestations_passed : s.attestations_failed)++;
    if (pass && !s.first_pass_after) s.first_pass_after = since_start;
    s.cert_not_after = not_after;
  });
  if (pass) {
    spdlog::info("cloud agent: attestation passed");
  } else {
    spdlog::warn("cloud agent: attestation FAILED: {}", reasons.empty() ? "(no reason given)" : reasons.front());
  }
  Emit(cloud_events::AttestationVerdict(opt.node_id, pass, reasons));
  if (renewal_due && !new_cert) {
    renewal_failed(pass ? "the verifier issued no certificate"
                        : "attestation failed: " + (reasons.empty() ? std::string("no reason given") : reasons.front()));
  }
}

void CloudAgent::Impl::DoFetch(SteadyClock::time_point now) {
  const auto jitter_ms = opt.fetch_jitter.count();
  const auto jitter =
      std::chrono::milliseconds(jitter_ms > 0 ? std::uniform_int_distribution<int64_t>(0, jitter_ms)(rng) : 0);
  next_fetch = now + opt.fetch_interval + jitter;
  auto fetched = client->FetchBundle(etag);
  if (!fetched.ok()) {
    if (VerifierLostNode("bundle fetch", fetched.status(), now)) return;
    if (fetched.status().code() == StatusCode::kUnavailable) {
      return NetworkFailure("bundle fetch", fetched.status(), now);
    }
    // 404 (nothing targets this node yet) and other refusals: try again at
    // the next interval.
    spdlog::info("cloud agent: bundle fetch: {}", fetched.status().ToString());
    return;
  }
  net_backoff = std::chrono::milliseconds(0);
  const bool not_modified = fetched->not_modified;
  UpdateStatus([&](CloudStatus& s) {
    ++s.bundle_fetches;
    if (not_modified) ++s.bundle_not_modified;
  });
  if (!not_modified) ApplyBundle(fetched->bundle, fetched->etag);
}

void CloudAgent::Impl::ApplyBundle(const std::string& bytes, const std::string& new_etag) {
  auto remember_etag = [&] {
    etag = new_etag;
    if (Status s = WriteFileAtomic(opt.state_dir + "/cloud/bundle.etag", AsBytes(etag), 0600); !s.ok()) {
      spdlog::warn("cloud agent: {}", s.ToString());
    }
    UpdateStatus([&](CloudStatus& s) { s.bundle_etag = etag; });
  };
  auto rejected = [&](const std::string& id, std::optional<uint64_t> version, const std::string& reason,
                      const std::string& message) {
    spdlog::warn("cloud agent: bundle rejected ({}): {}", reason, message);
    UpdateStatus([&](CloudStatus& s) { ++s.bundles_rejected; });
    Emit(cloud_events::BundleRejected(opt.node_id, id, version, reason, message));
  };
  if (!store || !guard) {
    spdlog::error("cloud agent: a bundle arrived but the bundle store is not open; not applied");
    return;
  }
  if (!root) {
    rejected(HexEncode(crypto::Digest(crypto::HashAlg::kSha256, AsBytes(bytes))), std::nullopt, "no_trusted_root",
             "no root of trust installed (bundles.rootFile)");
    return remember_etag();
  }
  bundle::VerifyOptions vo;
  vo.node = bundle::NodeIdentity{opt.node_id, opt.labels};
  if (opt.make_content_validator) vo.validate = opt.make_content_validator();
  auto verdict = store->Apply(AsBytes(bytes), *root, *guard, vo, WallNow());
  if (!verdict.ok()) {
    // Operational (I/O, TPM): the running bundle stays; the ETag is not
    // remembered, so the next fetch tries again.
    if (guard_has_tpm) CheckTpmFault("nv_write", verdict.status(), SteadyClock::now());
    spdlog::error("cloud agent: applying bundle: {}", verdict.status().ToString());
    return;
  }
  // Accepted or rejected, this ETag has been judged: a 304 from now on.
  remember_etag();
  if (verdict->accepted()) {
    const bundle::Bundle& b = *verdict->bundle;
    active_digest = b.digest;
    const uint64_t version = b.manifest.version;
    UpdateStatus([&](CloudStatus& s) {
      ++s.bundles_accepted;
      s.bundle_version = version;
    });
    spdlog::info("cloud agent: bundle version {} accepted", version);
    Emit(cloud_events::BundleAccepted(opt.node_id, b.digest, version,
                                      b.signatures.empty() ? "" : b.signatures.front().key_id));
    if (cb.on_bundle) loop.Post([f = cb.on_bundle, copy = b] { f(copy); });
  } else if (verdict->reason == bundle::Reason::kVersionNotGreater && verdict->bundle &&
             verdict->bundle->digest == active_digest) {
    // The one we run (our ETag was lost): nothing to do, nothing to report.
  } else {
    const std::string id = verdict->bundle ? verdict->bundle->digest
                                           : HexEncode(crypto::Digest(crypto::HashAlg::kSha256, AsBytes(bytes)));
    std::optional<uint64_t> version;
    if (verdict->bundle) version = verdict->version();
    rejected(id, version, std::string(bundle::ReasonName(verdict->reason)), verdict->message);
  }
}

void CloudAgent::Impl::DoSend(SteadyClock::time_point now) {
  auto sent = client->SendEvents(*spool, *verifier_info);
  if (!sent.ok()) {
    if (VerifierLostNode("send events", sent.status(), now)) return;
    NetworkFailure("send events", sent.status(), now);
    next_send = net_retry_at;
    return;
  }
  net_backoff = std::chrono::milliseconds(0);
  send_pending = spool->stats().live_records > 0;
  const uint64_t n = sent->sent;
  if (sent->rejected > 0) spdlog::warn("cloud agent: the verifier rejected {} event(s)", sent->rejected);
  UpdateStatus([&](CloudStatus& s) { s.events_sent += n; });
}

}  // namespace edgeward::daemon
