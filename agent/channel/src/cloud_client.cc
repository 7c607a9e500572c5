#include "edgeward/channel/cloud_client.h"

#include <algorithm>
#include <thread>

#include "edgeward/attest_node/collect.h"
#include "edgeward/cloud/events.h"
#include "edgeward/crypto/random.h"
#include "edgeward/crypto/x509.h"
#include "edgeward/tpm/ak.h"
#include "edgeward/tpm/credential.h"
#include "edgeward/tpm/ek.h"

namespace edgeward::channel {
Status CloudClient::HttpError(const std::string& endpoint, const HttpResponse& r) {
  std::string reason = r.body.substr(0, 512);
  if (auto e = cloud::DecodeErrorResponse(r.body); e.ok()) {
    reason = e->error;
    last_error_code_ = e->code;
  }
  std::string msg = endpoint + ": HTTP " + std::to_string(r.status) + ": " + reason;
  if (r.status == 401 || r.status == 403) return PermissionDenied(msg);
  if (r.status == 409) return FailedPrecondition(msg);
  if (r.status == 404 && last_error_code_ == cloud::kErrorUnknownNode) return NotFound(msg);
  if (r.status >= 500) return Unavailable(msg);
  return InvalidArgument(msg);
}

std::string MessageIdHex(const MessageId& id) { return HexEncode(id); }

CloudClient::CloudClient(CloudClientOptions options, HttpsClient https, tpm::Tpm& tpm, NodeIdentity& identity,
                         const crypto::Ed25519SigningKey& signing_key)
    : options_(std::move(options)), https_(std::move(https)), tpm_(tpm), identity_(identity),
      signing_key_(signing_key) {
  if (identity_.certificate_pem()) {
    auto key = identity_.PrivateKeyPem();
    if (key.ok()) https_.SetClientCertificate(*identity_.certificate_pem(), std::move(*key));
  }
}

StatusOr<HttpResponse> CloudClient::Call(const std::string& endpoint, const std::string* body, int want_status,
                                         const std::vector<std::string>& headers) {
  last_error_code_.clear();
  const std::string url = options_.base_url + std::string(cloud::kApiPrefix) + endpoint;
  EW_ASSIGN_OR_RETURN(HttpResponse r, body ? https_.Post(url, *body, "application/json", headers)
                                           : https_.Get(url, headers));
  if (r.status != want_status && !(want_status == 200 && r.status == 304)) return HttpError(endpoint, r);
  return r;
}

StatusOr<cloud::VerifierInfo> CloudClient::FetchVerifierInfo() {
  EW_ASSIGN_OR_RETURN(HttpResponse r, Call("/verifier-info", nullptr, 200));
  return cloud::DecodeVerifierInfo(r.body);
}

Status CloudClient::Register() {
  last_error_code_.clear();
  EW_ASSIGN_OR_RETURN(tpm::Ek ek, tpm::Ek::Open(tpm_));
  EW_ASSIGN_OR_RETURN(tpm::Ak ak, tpm::LoadOrCreateAk(ek, options_.state_dir));
  if (!ek.certificate()) return FailedPrecondition("register: the TPM has no EK certificate for its EK");
  EW_ASSIGN_OR_RETURN(crypto::Certificate cert, crypto::Certificate::FromDer(ek.certificate()->der));
  cloud::RegisterRequest req;
  req.node_id = options_.node_id;
  EW_ASSIGN_OR_RETURN(req.ek_cert_pem, cert.ToPem());
  req.ek_public = ek.public_area();
  req.ak_public = ak.public_area();
  req.ak_name = ak.name();
  const auto& pk = signing_key_.public_key().bytes;
  req.node_signing_key.assign(pk.begin(), pk.end());
  req.labels = options_.labels;
  std::string body = cloud::EncodeRegisterRequest(req);
  EW_ASSIGN_OR_RETURN(HttpResponse r, Call("/register", &body, 201));
  EW_ASSIGN_OR_RETURN(cloud::RegisterChallenge challenge, cloud::DecodeRegisterChallenge(r.body));
  EW_ASSIGN_OR_RETURN(tpm::LoadedAk loaded, tpm::LoadedAk::Load(ek, ak));
  EW_ASSIGN_OR_RETURN(crypto::SecureBytes secret, tpm::ActivateCredential(ek, loaded, challenge.credential_blob,
                                                                          challenge.encrypted_secret));
  cloud::ActivateRequest act{challenge.registration_id, Bytes(secret.begin(), secret.end())};
  std::string act_body = cloud::EncodeActivateRequest(act);
  crypto::Cleanse(act.secret.data(), act.secret.size());
  auto done = Call("/activate", &act_body, 200);
  crypto::Cleanse(act_body.data(), act_body.size());
  return done.status();
}

attest_node::CollectOptions CloudClient::CollectOptionsFor(Bytes nonce, uint64_t ima_start) const {
  attest_node::CollectOptions co;
  co.state_dir = options_.state_dir;
  co.nonce = std::move(nonce);
  co.node_id = options_.node_id;
  co.ima_start_entry = ima_start;
  if (!options_.uefi_log_path.empty()) co.uefi_log_path = options_.uefi_log_path;
  if (!options_.ima_log_path.empty()) co.ima_log_path = options_.ima_log_path;
  return co;
}

StatusOr<cloud::VerdictResponse> CloudClient::Attest() {
  // At most two rounds: the second, with the whole IMA log, only when the
  // verifier can't continue the incremental one (the node rebooted, or the
  // verifier's state moved on).
  for (int round = 0;; ++round) {
    std::string creq = cloud::EncodeChallengeRequest({options_.node_id});
    EW_ASSIGN_OR_RETURN(HttpResponse cr, Call("/challenge", &creq, 201));
    EW_ASSIGN_OR_RETURN(cloud::Challenge challenge, cloud::DecodeChallenge(cr.body));
    const uint64_t ima_start = round == 0 ? challenge.ima_offset : 0;
    cloud::EvidenceSubmission sub;
    EW_ASSIGN_OR_RETURN(sub.evidence,
                        attest_node::CollectEvidence(
                            tpm_, CollectOptionsFor(cloud::QuoteQualifyingData(challenge.nonce, identity_.spki_der()),
                                                    ima_start)));
    sub.nonce_id = challenge.nonce_id;
    sub.tls_public_key_spki_der = identity_.spki_der();
    EW_ASSIGN_OR_RETURN(sub.csr_pem, identity_.CreateCsr(options_.node_id));
    EW_ASSIGN_OR_RETURN(std::string body, cloud::EncodeEvidenceSubmission(sub));
    last_evidence_bytes_ = body.size();
    const std::string url = options_.base_url + std::string(cloud::kApiPrefix) + "/evidence";
    last_error_code_.clear();
    EW_ASSIGN_OR_RETURN(HttpResponse r, https_.Post(url, body, "application/json"));
    if (r.status == 409 && ima_start > 0) {
      auto e = cloud::DecodeErrorResponse(r.body);
      if (e.ok() && e->full_log_required) {
        ++full_log_retries_;
        continue;
      }
    }
    if (r.status != 200) return HttpError("/evidence", r);
    EW_ASSIGN_OR_RETURN(cloud::VerdictResponse verdict, cloud::DecodeVerdictResponse(r.body));
    ima_offset_ = verdict.ima_offset;
    if (verdict.pass && verdict.client_cert_pem) {
      EW_RETURN_IF_ERROR(identity_.StoreCertificate(*verdict.client_cert_pem));
      EW_ASSIGN_OR_RETURN(crypto::SecureBytes key, identity_.PrivateKeyPem());
      https_.SetClientCertificate(*verdict.client_cert_pem, std::move(key));
    }
    return verdict;
  }
}

StatusOr<SpoolMessage> CloudClient::AttestOffline(Spool& spool) {
  // The node's own nonce: it proves nothing about freshness (the verifier
  // knows), but makes each offline quote distinct.
  EW_ASSIGN_OR_RETURN(crypto::SecureBytes nonce, crypto::RandomBytes(cloud::kChallengeNonceBytes));
  cloud::EvidenceSubmission sub;
  sub.offline = true;
  EW_ASSIGN_OR_RETURN(sub.evidence,
                      attest_node::CollectEvidence(tpm_, CollectOptionsFor(Bytes(nonce.begin(), nonce.end()),
                                                                           ima_offset_)));
  sub.tls_public_key_spki_der = identity_.spki_der();
  EW_ASSIGN_OR_RETURN(std::string body, cloud::EncodeEvidenceSubmission(sub));
  last_evidence_bytes_ = body.size();
  return spool.Append(Priority::kAttestation, AsBytes(body));
}

StatusOr<cloud::EventBatch> CloudClient::SealBatch(const std::vector<SpoolMessage>& msgs,
                                                   const cloud::VerifierInfo& verifier) {
  cloud::EventBatch batch;
  batch.messages.reserve(msgs.size());
  for (const auto& m : msgs) {
    cloud::EventMessage em;
    em.id = MessageIdHex(m.id);
    em.seq = m.seq;
    em.priority = static_cast<int>(m.priority);
    EW_RETURN_IF_ERROR(
        cloud::SealEvent(signing_key_, verifier.x25519_public_key, options_.node_id, em, m.payload));
    batch.messages.push_back(std::move(em));
  }
  return batch;
}

StatusOr<SendResult> CloudClient::SendEvents(Spool& spool, const cloud::VerifierInfo& verifier) {
  last_error_code_.clear();
  SendResult result;
  const size_t per_batch = std::clamp<size_t>(options_.events_per_batch, 1, cloud::kMaxEventsPerBatch);
  for (;;) {
    EW_ASSIGN_OR_RETURN(std::vector<SpoolMessage> msgs, spool.Peek(per_batch));
    if (msgs.empty()) return result;
    // Sealed once per batch: a retry sends the same ids (the verifier's
    // dedupe key), so a lost answer never duplicates a message.
    EW_ASSIGN_OR_RETURN(cloud::EventBatch batch, SealBatch(msgs, verifier));
    std::string body = cloud::EncodeEventBatch(batch);
    auto backoff = options_.initial_backoff;
    StatusOr<HttpResponse> r = Unavailable("not sent");
    for (int attempt = 1;; ++attempt) {
      result.wire_bytes += body.size();
      r = Call("/events", &body, 200);
      if (r.ok() || r.status().code() != StatusCode::kUnavailable || attempt >= options_.max_attempts) break;
      ++result.retries;
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
    if (!r.ok()) return r.status();
    ++result.batches;
    EW_ASSIGN_OR_RETURN(cloud::EventAck ack, cloud::DecodeEventAck(r->body));
    std::map<std::string, MessageId> by_hex;
    for (const auto& m : msgs) by_hex[MessageIdHex(m.id)] = m.id;
    std::vector<MessageId> done;
    auto take = [&](const std::string& id) {
      auto it = by_hex.find(id);
      if (it != by_hex.end()) done.push_back(it->second);
    };
    for (const auto& id : ack.accepted_ids) take(id);
    for (const auto& id : ack.duplicate_ids) take(id);
    // A message the verifier can't open will never open: resending it
    // forever would block the queue. It is counted and dropped.
    for (const auto& rej : ack.rejected) take(rej.id);
    result.sent += ack.accepted_ids.size();
    result.duplicates += ack.duplicate_ids.size();
    result.rejected += ack.rejected.size();
    if (done.empty()) return Internal("/events: the verifier acknowledged none of " + std::to_string(msgs.size()) +
                                      " messages");
    EW_RETURN_IF_ERROR(spool.Ack(done));
  }
}

StatusOr<BundleFetch> CloudClient::FetchBundle(const std::string& etag) {
  std::vector<std::string> headers;
  if (!etag.empty()) headers.push_back("If-None-Match: " + etag);
  EW_ASSIGN_OR_RETURN(HttpResponse r, Call("/bundle", nullptr, 200, headers));
  BundleFetch f;
  f.not_modified = r.status == 304;
  f.etag = r.etag.empty() ? etag : r.etag;
  if (!f.not_modified) f.bundle = std::move(r.body);
  return f;
}

}  // namespace edgeward::channel
