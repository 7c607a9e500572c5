// Service: challenges, evidence appraisal and client certificates.
#include "edgeward/attest/appraisal.h"
#include "edgeward/crypto/random.h"
#include "service_internal.h"

namespace edgeward::cloud {
namespace {

// Loads the node and checks it may attest; the reply is set on refusal.
std::optional<HttpReply> CheckNodeMayAttest(const std::optional<NodeRecord>& node, const std::string& node_id) {
  if (!node) return Error(404, "node '" + node_id + "' is not registered");
  if (node->state == NodeState::kRevoked) return Error(403, "node '" + node_id + "' is revoked");
  if (node->state != NodeState::kActive || node->ak_name.empty()) {
    return Error(403, "node '" + node_id + "' has not activated its AK (registration incomplete): no AK is trusted");
  }
  return std::nullopt;
}

std::string FirstFailure(const attest::Verdict& v, size_t* failures) {
  std::string first;
  *failures = 0;
  for (const auto& f : v.findings) {
    if (f.severity != attest::Severity::kFail) continue;
    if (++*failures == 1) first = f.check + ": " + f.message;
  }
  return first;
}

}  // namespace

HttpReply Service::IssueChallenge(std::string_view body, const Caller& caller) {
  auto req = DecodeChallengeRequest(body);
  if (!req.ok()) return ErrorFromStatus(req.status());
  if (caller.cert_cn && !caller.is_node(req->node_id)) {
    return Error(403, "client certificate is for '" + *caller.cert_cn + "', not '" + req->node_id + "'");
  }
  auto node = impl_->storage->GetNode(req->node_id);
  if (!node.ok()) return ErrorFromStatus(node.status());
  if (auto refusal = CheckNodeMayAttest(*node, req->node_id)) return *refusal;
  auto nonce = crypto::RandomBytes(kChallengeNonceBytes);
  auto id = RandomId();
  if (!nonce.ok() || !id.ok()) return ErrorFromStatus(nonce.ok() ? id.status() : nonce.status());
  const int64_t now = NowSeconds();
  ChallengeRecord rec{*id, req->node_id, Bytes(nonce->begin(), nonce->end()), now + impl_->config.nonce_lifetime.count()};
  if (Status s = impl_->storage->PutChallenge(rec); !s.ok()) return ErrorFromStatus(s);
  // Opportunistic cleanup; a failure here does not affect this challenge.
  if (now % 16 == 0) (void)impl_->storage->PruneExpired(now - 3600);
  return Json(201, EncodeChallenge({rec.nonce_id, rec.nonce, rec.expires_at}));
}

HttpReply Service::SubmitEvidence(std::string_view body, const Caller& caller) {
  auto sub = DecodeEvidenceSubmission(body);
  if (!sub.ok()) return ErrorFromStatus(sub.status());
  const int64_t now = NowSeconds();

  std::string node_id;
  Bytes expected_nonce;
  if (sub->offline) {
    // No challenge: the node chose the nonce. Appraised for continuity
    // (counters, clock, AK) only; the caller must hold the node's
    // certificate, and no certificate is issued.
    node_id = sub->evidence.node_id;
    if (!caller.cert_cn) return Error(401, "offline evidence requires the node's client certificate");
    if (!caller.is_node(node_id)) return Error(403, "client certificate is not for node '" + node_id + "'");
    expected_nonce = sub->evidence.nonce;
    if (expected_nonce.empty()) return Error(400, "evidence_submission.evidence.nonce: empty");
  } else {
    auto challenge = impl_->storage->ConsumeChallenge(sub->nonce_id);
    if (!challenge.ok()) {
      const Status& s = challenge.status();
      if (s.code() == StatusCode::kNotFound) return Error(404, "unknown nonce: " + s.message());
      if (s.code() == StatusCode::kFailedPrecondition) return Error(409, "replayed nonce: " + s.message());
      return ErrorFromStatus(s);
    }
    if (challenge->expires_at < now) {
      return Error(410, "expired nonce: the challenge expired " + std::to_string(now - challenge->expires_at) +
                            " s ago; ask for a new one");
    }
    node_id = challenge->node_id;
    if (caller.cert_cn && !caller.is_node(node_id)) {
      return Error(403, "client certificate is for '" + *caller.cert_cn + "', not '" + node_id + "'");
    }
    expected_nonce = QuoteQualifyingData(challenge->nonce, sub->tls_public_key_spki_der);
  }
  if (sub->evidence.node_id != node_id) {
    return Error(403, "evidence.node_id '" + sub->evidence.node_id + "' is not the challenged node '" + node_id + "'");
  }
  auto node = impl_->storage->GetNode(node_id);
  if (!node.ok()) return ErrorFromStatus(node.status());
  if (auto refusal = CheckNodeMayAttest(*node, node_id)) return *refusal;

  auto ref = impl_->Reference(NodeGroup(**node));
  if (!ref.ok()) return ErrorFromStatus(ref.status());
  auto prev_text = impl_->storage->GetAppraisalState(node_id);
  if (!prev_text.ok()) return ErrorFromStatus(prev_text.status());

  attest::AppraisalOptions opts;
  opts.reference = ref->get();
  opts.expected_ak_name = (*node)->ak_name;
  if (*prev_text) {
    auto prev = attest::DecodeAppraisalState(**prev_text);
    if (!prev.ok()) return ErrorFromStatus(Internal("stored appraisal state: " + prev.status().message()));
    opts.previous = std::move(prev).value();
  }
  auto verdict = attest::Appraise(sub->evidence, expected_nonce, opts);
  if (!verdict.ok()) return ErrorFromStatus(verdict.status());
  if (!*ref) {
    // Without reference values nothing says what software should run: the
    // quote may be authentic, but it can't pass.
    attest::Finding f;
    f.check = "reference_values";
    f.message = "no reference values for group '" + NodeGroup(**node) + "'";
    verdict->findings.push_back(std::move(f));
    verdict->pass = false;
  }

  VerdictResponse out;
  auto vid = RandomId();
  if (!vid.ok()) return ErrorFromStatus(vid.status());
  out.verdict_id = *vid;
  out.pass = verdict->pass;
  out.offline = sub->offline;
  out.findings = verdict->findings;

  VerdictRecord rec;
  rec.id = out.verdict_id;
  rec.node_id = node_id;
  rec.time = now;
  rec.pass = verdict->pass;
  rec.offline = sub->offline;
  rec.summary = FirstFailure(*verdict, &rec.failures);
  rec.verdict_json = attest::FormatVerdictJson(*verdict, -1);
  std::optional<std::string> new_state;
  if (verdict->state) new_state = attest::EncodeAppraisalState(*verdict->state);
  if (Status s = impl_->storage->RecordVerdict(rec, new_state); !s.ok()) return ErrorFromStatus(s);

  if (verdict->pass && !sub->offline && sub->csr_pem) {
    auto cert = impl_->ca->IssueNodeCert(*sub->csr_pem, sub->tls_public_key_spki_der, node_id,
                                         impl_->config.cert_lifetime);
    if (!cert.ok()) return ErrorFromStatus(cert.status());
    if (Status s = impl_->storage->PutIssuedCert({cert->serial_hex, node_id, now, cert->not_after}); !s.ok()) {
      return ErrorFromStatus(s);
    }
    out.client_cert_pem = cert->cert_pem;
    out.cert_expires_at = cert->not_after;
  }
  return Json(200, EncodeVerdictResponse(out));
}

}  // namespace edgeward::cloud
