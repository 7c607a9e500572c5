// CloudAgent, the TPM side: opening the TPM and everything keyed by it
// (spool data key, TLS identity, event key, rollback guard), fault
// detection and recovery, the bundle store, measurements and the spool.
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>

#include "cloud_agent_internal.h"
#include "edgeward/attest_node/measure.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/file.h"
#include "edgeward/channel/spool_key.h"
#include "edgeward/crypto/key_file.h"
#include "edgeward/crypto/secure_bytes.h"
#include "edgeward/tpm/pcr.h"
#include "edgeward/tpm/seal.h"

namespace edgeward::daemon {
namespace {

int64_t WallNow() { return static_cast<int64_t>(::time(nullptr)); }

}  // namespace

void CloudAgent::Impl::TryOpenTpm(SteadyClock::time_point now) {
  auto opened = tpm::Tpm::Open(opt.tcti);
  if (!opened.ok()) {
    EnterTpmFault("open", opened.status(), now);
    return;
  }
  // Opening a TCTI need not talk to the TPM; one cheap command proves it
  // answers. Until then the old connection (and the client borrowing it,
  // which still sends events and fetches bundles) stays as it is.
  if (auto banks = tpm::ActivePcrBanks(*opened); !banks.ok()) {
    EnterTpmFault("get_capability", banks.status(), now);
    return;
  }
  // Everything that borrows the old connection goes first.
  client.reset();
  guard.reset();
  tpm.emplace(std::move(opened).value());
  if (Status s = OpenTpmDependents(); !s.ok()) {
    if (!tpm::ActivePcrBanks(*tpm).ok()) {
      EnterTpmFault("open", s, now);
      return;
    }
    // Not the TPM's fault (a locked spool, a key file with the wrong mode,
    // a full disk): no tpm.fault event, but nothing that needs these can
    // run, so retry on the same backoff schedule.
    tpm_ok = false;
    tpm_backoff = tpm_backoff.count() == 0 ? opt.retry_initial : std::min(tpm_backoff * 2, opt.retry_max);
    tpm_retry_at = now + tpm_backoff;
    spdlog::error("cloud agent: opening the node's keys and spool: {}; retrying in {} ms", s.ToString(),
                  tpm_backoff.count());
    UpdateStatus([&](CloudStatus& st) {
      st.tpm_ok = false;
      st.tpm_error = "start-up: " + s.ToString();
    });
    return;
  }
  tpm_ok = true;
  tpm_backoff = std::chrono::milliseconds(0);
  const bool recovered = tpm_fault_reported && tpm_ever_opened;
  tpm_ever_opened = true;
  tpm_fault_reported = false;
  if (recovered) {
    spdlog::info("cloud agent: TPM {} is back", tpm->tcti().ToString());
    // After a TPM reset the measurement log starts over (measure.h): the
    // latest files of every workload are measured again so the new log
    // describes what runs. Unchanged files in the same boot cost nothing.
    // (No structured binding: clang 14 can't capture one in the lambda.)
    for (const auto& entry : last_files) {
      const std::string& name = entry.first;
      bool queued = std::any_of(measures.begin(), measures.end(), [&](const MeasureRequest& m) { return m.name == name; });
      if (!queued) measures.push_back({name, entry.second, nullptr});
    }
  } else {
    spdlog::info("cloud agent: TPM {} open", tpm->tcti().ToString());
  }
  UpdateStatus([&](CloudStatus& st) {
    st.tpm_ok = true;
    if (recovered) ++st.tpm_recoveries;
  });
}

bool CloudAgent::Impl::CheckTpmFault(const std::string& operation, const Status& s, SteadyClock::time_point now) {
  if (!tpm || !tpm_ok) return true;
  if (tpm::ActivePcrBanks(*tpm).ok()) return false;
  EnterTpmFault(operation, s, now);
  return true;
}

void CloudAgent::Impl::EnterTpmFault(const std::string& operation, const Status& s, SteadyClock::time_point now) {
  tpm_ok = false;
  tpm_backoff = tpm_backoff.count() == 0 ? opt.retry_initial : std::min(tpm_backoff * 2, opt.retry_max);
  tpm_retry_at = now + tpm_backoff;
  UpdateStatus([&](CloudStatus& st) {
    st.tpm_ok = false;
    st.tpm_error = operation + ": " + s.ToString();
    ++st.tpm_errors;
  });
  if (!tpm_fault_reported) {
    tpm_fault_reported = true;
    spdlog::warn("cloud agent: TPM fault in {}: {}; retrying in {} ms", operation, s.ToString(), tpm_backoff.count());
    Emit(cloud_events::TpmFault(opt.node_id, operation, s));
  } else {
    spdlog::debug("cloud agent: TPM still down ({}); retrying in {} ms", s.ToString(), tpm_backoff.count());
  }
}

Status CloudAgent::Impl::OpenTpmDependents() {
  if (!opt.verifier_url.empty()) {
    if (!spool || !identity) {
      EW_ASSIGN_OR_RETURN(channel::SpoolKey key, channel::LoadOrCreateSpoolKey(opt.state_dir + "/spool", &*tpm));
      if (!identity) {
        EW_ASSIGN_OR_RETURN(channel::NodeIdentity id,
                            channel::NodeIdentity::LoadOrCreate(opt.state_dir + "/tls", key.key.view()));
        identity.emplace(std::move(id));
      }
      if (!spool) {
        channel::SpoolOptions so;
        so.dir = opt.state_dir + "/spool";
        so.max_bytes = opt.spool_max_bytes;
        EW_ASSIGN_OR_RETURN(spool, channel::Spool::Open(so, std::move(key.key)));
        for (const Status& q : spool->quarantine_reports()) spdlog::warn("cloud agent: spool: {}", q.ToString());
        send_pending = spool->stats().live_records > 0;
      }
    }
    if (!event_key) {
      EW_ASSIGN_OR_RETURN(crypto::Ed25519SigningKey key, LoadOrCreateEventKey());
      event_key.emplace(std::move(key));
    }
  }
  if (store) EW_RETURN_IF_ERROR(ReopenGuard());
  if (!opt.verifier_url.empty()) EW_RETURN_IF_ERROR(BuildClient());
  return Status::Ok();
}

// The event key's seed is sealed by the TPM (tpm/seal.h), like the spool
// data key: a copy of the state directory is useless without this TPM, and
// no passphrase has to live anywhere. The public half is written beside it
// in the key-file format (key_file.h) for operators.
StatusOr<crypto::Ed25519SigningKey> CloudAgent::Impl::LoadOrCreateEventKey() {
  const std::string path = opt.state_dir + "/cloud/event-key.sealed";
  auto blob = ReadFileToString(path, 4096);
  if (blob.ok()) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return EW_ERRNO("stat", path);
    if ((st.st_mode & 077) != 0) return PermissionDenied(path + ": mode must be 0600 (group/other bits set)");
    auto seed = tpm::UnsealSecret(*tpm, AsBytes(*blob));
    if (!seed.ok()) return seed.status().WithContext(path);
    if (seed->size() != crypto::kEd25519SeedSize) return DataLoss(path + ": sealed seed is not 32 bytes");
    return crypto::Ed25519SigningKey::FromSeed(ByteView(seed->data(), seed->size()));
  }
  if (blob.status().code() != StatusCode::kNotFound) return blob.status();
  EW_ASSIGN_OR_RETURN(crypto::Ed25519SigningKey key, crypto::Ed25519SigningKey::Generate());
  EW_ASSIGN_OR_RETURN(Bytes sealed, tpm::SealSecret(*tpm, key.seed()));
  EW_RETURN_IF_ERROR(WriteFileAtomic(path, sealed, 0600));
  EW_RETURN_IF_ERROR(
      WriteFileAtomic(opt.state_dir + "/cloud/event-key.pub", AsBytes(crypto::FormatPublicKeyFile(key.public_key())), 0644));
  spdlog::info("cloud agent: created the node's event key {}", key.KeyId());
  return key;
}

Status CloudAgent::Impl::ReopenGuard() {
  guard.reset();
  tpm::Tpm* t = tpm ? &*tpm : nullptr;
  EW_ASSIGN_OR_RETURN(bundle::RollbackGuard g, bundle::RollbackGuard::Open(opt.state_dir, t));
  guard.emplace(std::move(g));
  guard_has_tpm = t != nullptr;
  return Status::Ok();
}

void CloudAgent::Impl::OpenBundleStore() {
  auto fail = [&](const Status& s) {
    spdlog::error("cloud agent: bundle store in {}: {}; bundles are not applied this run", opt.state_dir, s.ToString());
    store.reset();
    guard.reset();
  };
  auto st = bundle::BundleStore::Open(opt.state_dir);
  if (!st.ok()) return fail(st.status());
  store.emplace(std::move(st).value());
  if (Status s = ReopenGuard(); !s.ok()) return fail(s);
  auto now = guard->TrustedNow(WallNow());
  if (!now.ok()) return fail(now.status());
  if (!opt.bundle_root_file.empty()) {
    auto text = ReadFileToString(opt.bundle_root_file, 1 << 20);
    if (!text.ok()) return fail(text.status());
    auto r = bundle::InstallRoot(opt.state_dir, *text, opt.bundle_root_file, *now);
    if (!r.ok()) return fail(r.status());
    root.emplace(std::move(r).value());
  } else if (auto r = bundle::LoadInstalledRoot(opt.state_dir); r.ok()) {
    root.emplace(std::move(r).value());
  } else if (r.status().code() != StatusCode::kNotFound) {
    return fail(r.status());
  }
  auto rec = store->Recover(*guard, *now);
  if (!rec.ok()) {
    // A rolled-back active bundle is refused (never run); a newer one may
    // still be installed over it.
    if (rec.status().code() != StatusCode::kFailedPrecondition) return fail(rec.status());
    spdlog::error("cloud agent: {}", rec.status().ToString());
  } else {
    auto active = store->Active();
    if (!active.ok()) return fail(active.status());
    if (*active) {
      active_digest = (*active)->digest;
      const uint64_t version = (*active)->manifest.version;
      UpdateStatus([&](CloudStatus& s) { s.bundle_version = version; });
      spdlog::info("cloud agent: active bundle version {}", version);
      if (cb.on_bundle) loop.Post([f = cb.on_bundle, b = std::move(**active)] { f(b); });
    }
  }
  if (auto e = ReadFileToString(opt.state_dir + "/cloud/bundle.etag", 256); e.ok()) etag = *e;
  UpdateStatus([&](CloudStatus& s) { s.bundle_etag = etag; });
}

void CloudAgent::Impl::RunMeasurements(SteadyClock::time_point now) {
  if (measures.empty()) return;
  if (!tpm_ok) {
    // The answer now, the measurement later: the caller goes on enforcing.
    std::string why;
    {
      std::lock_guard<std::mutex> lock(mu);
      why = status.tpm_error;
      status.measurements_queued = measures.size();
    }
    for (auto& m : measures) {
      if (!m.done) continue;
      loop.Post([done = std::move(m.done), n = m.files.size(), why] {
        done(Unavailable("TPM unavailable (" + why + "): measurement of " + std::to_string(n) +
                         " file(s) queued until it is back"));
      });
      m.done = nullptr;
    }
    return;
  }
  attest_node::MeasureOptions mo;
  mo.state_dir = opt.state_dir;
  mo.pcr = opt.measurement_pcr;
  while (!measures.empty() && tpm_ok) {
    MeasureRequest& m = measures.front();
    auto report = attest_node::Measure(*tpm, m.files, mo);
    if (!report.ok()) {
      if (CheckTpmFault("pcr_extend", report.status(), now)) {
        RunMeasurements(now);  // answers the waiting ones with the fault
        return;
      }
      // The request itself is bad (a missing file, a log that no longer
      // replays): it fails alone.
      spdlog::warn("cloud agent: measuring '{}': {}", m.name, report.status().ToString());
      if (m.done) loop.Post([done = std::move(m.done), s = report.status()] { done(s); });
      measures.pop_front();
      continue;
    }
    for (const auto& n : report->notes) spdlog::info("cloud agent: measurement log: {}", n);
    uint64_t extended = 0;
    for (const auto& f : report->extended) {
      const std::string hex = HexEncode(f.sha256);
      auto it = last_digest.find(f.path);
      if (it != last_digest.end() && it->second != hex) {
        Emit(cloud_events::MeasurementChanged(opt.node_id, f.path, opt.measurement_pcr, it->second, hex));
      }
      last_digest[f.path] = hex;
      ++extended;
    }
    for (const auto& f : report->unchanged) last_digest[f.path] = HexEncode(f.sha256);
    last_files[m.name] = m.files;
    // Status first: whoever `done` wakes sees the count already.
    UpdateStatus([&](CloudStatus& st) { st.measurements += extended; });
    if (m.done) loop.Post([done = std::move(m.done)] { done(Status::Ok()); });
    measures.pop_front();
  }
  UpdateStatus([&](CloudStatus& st) { st.measurements_queued = measures.size(); });
}

void CloudAgent::Impl::AppendReports() {
  uint64_t overflowed = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    std::swap(overflowed, incoming_dropped);
  }
  if (overflowed > 0) {
    pending_dropped += overflowed;
    Emit(cloud_events::SpoolOverflow(opt.node_id, "pending", overflowed, 0));
  }
  if (!spool) {
    uint64_t dropped = 0;
    while (pending_reports.size() > opt.max_pending_reports) {
      pending_reports.pop_front();
      ++dropped;
    }
    if (dropped > 0) {
      pending_dropped += dropped;
      Emit(cloud_events::SpoolOverflow(opt.node_id, "pending", dropped, 0));
    }
    UpdateStatus([&](CloudStatus& st) {
      st.pending_reports = pending_reports.size();
      st.spool_dropped = pending_dropped;
    });
    return;
  }
  bool appended = false;
  while (!pending_reports.empty()) {
    auto r = spool->Append(channel::Priority::kEvent, AsBytes(pending_reports.front()));
    if (!r.ok() && r.status().code() != StatusCode::kResourceExhausted &&
        r.status().code() != StatusCode::kInvalidArgument) {
      // I/O (disk full): keep the line and try again later.
      spdlog::error("cloud agent: spool append: {}", r.status().ToString());
      break;
    }
    if (!r.ok() && r.status().code() == StatusCode::kInvalidArgument) {
      spdlog::warn("cloud agent: event not spooled: {}", r.status().ToString());
    }
    appended = appended || r.ok();
    pending_reports.pop_front();
  }
  if (appended && !send_pending) {
    send_pending = true;
    // A short delay gathers a burst of events into one batch.
    next_send = std::max(next_send, SteadyClock::now() + std::chrono::milliseconds(50));
  }
  NoteSpoolDrops();
}

void CloudAgent::Impl::NoteSpoolDrops() {
  if (!spool) return;
  const auto& s = spool->stats();
  uint64_t total = 0;
  for (int p = 0; p < channel::kNumPriorities; ++p) total += s.dropped[p] + s.refused[p];
  if (total > spool_drops_reported) {
    Emit(cloud_events::SpoolOverflow(opt.node_id, "cloud", total - spool_drops_reported, s.live_bytes));
    spool_drops_reported = total;
  }
}

void CloudAgent::Impl::PublishSpoolStats() {
  UpdateStatus([&](CloudStatus& st) {
    st.pending_reports = pending_reports.size();
    if (!spool) return;
    st.spool_messages = spool->stats().live_records;
    st.spool_bytes = spool->stats().live_bytes;
    st.spool_dropped = pending_dropped + spool_drops_reported;
  });
}

}  // namespace edgeward::daemon
