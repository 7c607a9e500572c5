// Service: challenges, evidence appraisal and client certificates.
#include "edgeward/attest/appraisal.h"
#include "edgeward/crypto/random.h"
#include "service_internal.h"

namespace edgeward::cloud {
namespace {

// Loads the node and checks it may attest; the reply is set on refusal.
std::optional<HttpReply> CheckNodeMayAttest(const std::optional<NodeRecord>& node, const std::string& node_id) {
  if (!node || node->state == NodeState::kRevoked) return RefuseInactiveNode(node, node_id);
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
    // The path and digest prefixes, escaped and bounded (api.h).
    if (++*failures == 1) first = FindingReason(f);
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
  // Where the node's IMA log should start: the stored state's continuation
  // point. Only a hint: the evidence is judged against the state as it is
  // when it arrives (a mismatch asks for the full log).
  auto state = impl_->LoadState(req->node_id);
  if (!state.ok()) return ErrorFromStatus(state.status());
  if (Status s = impl_->storage->PutChallenge(rec); !s.ok()) return ErrorFromStatus(s);
  // Opportunistic cleanup; a failure here does not affect this challenge.
  if (now % 16 == 0) (void)impl_->storage->PruneExpired(now - 3600);
  Challenge out{rec.nonce_id, rec.nonce, rec.expires_at};
  out.ima_offset = ImaOffset(*state);
  return Json(201, EncodeChallenge(out));
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
  auto out = impl_->AppraiseAndRecord(**node, *sub, expected_nonce, now);
  if (!out.ok()) return ErrorFromStatus(out.status());
  if (out->full_log_required && !sub->offline) {
    // Nothing is recorded: the evidence was not appraised. The node asks
    // for a new challenge and sends its whole IMA log (docs/api.md).
    ErrorResponse e;
    e.error = "full IMA log required: " + out->reason;
    e.full_log_required = true;
    return Json(409, EncodeErrorResponse(e));
  }
  return Json(200, EncodeVerdictResponse(out->response));
}

uint64_t ImaOffset(const std::optional<attest::AppraisalState>& state) {
  return state && state->ima ? state->ima->entries : 0;
}

StatusOr<std::optional<attest::AppraisalState>> Service::Impl::LoadState(const std::string& node_id) {
  EW_ASSIGN_OR_RETURN(std::optional<std::string> text, storage->GetAppraisalState(node_id));
  if (!text) return std::optional<attest::AppraisalState>();
  auto state = attest::DecodeAppraisalState(*text);
  if (!state.ok()) return Internal("stored appraisal state of '" + node_id + "': " + state.status().message());
  return std::optional<attest::AppraisalState>(std::move(state).value());
}

StatusOr<AppraisalOutcome> Service::Impl::AppraiseAndRecord(const NodeRecord& node, const EvidenceSubmission& sub,
                                                            ByteView expected_nonce, int64_t now) {
  const std::string& node_id = node.id;
  EW_ASSIGN_OR_RETURN(std::shared_ptr<const attest::ReferenceValues> ref, Reference(NodeGroup(node)));
  EW_ASSIGN_OR_RETURN(std::optional<attest::AppraisalState> previous, LoadState(node_id));

  attest::AppraisalOptions opts;
  opts.reference = ref.get();
  opts.expected_ak_name = node.ak_name;
  opts.previous = previous;
  opts.offline = sub.offline;
  EW_ASSIGN_OR_RETURN(attest::Verdict verdict, attest::Appraise(sub.evidence, expected_nonce, opts));
  AppraisalOutcome out;
  if (verdict.full_log_required && !sub.offline) {
    out.full_log_required = true;
    for (const auto& f : verdict.findings) {
      if (f.check == "ima_continuity") out.reason = f.message;
    }
    return out;
  }
  if (!ref) {
    // Without reference values nothing says what software should run: the
    // quote may be authentic, but it can't pass.
    attest::Finding f;
    f.check = "reference_values";
    f.message = "no reference values for group '" + NodeGroup(node) + "'";
    verdict.findings.push_back(std::move(f));
    verdict.pass = false;
    // Appraise advanced the IMA state on its own pass; without one, the
    // entries must be appraised again.
    if (verdict.state) verdict.state->ima = previous ? previous->ima : std::nullopt;
  }

  VerdictResponse& resp = out.response;
  EW_ASSIGN_OR_RETURN(resp.verdict_id, RandomId());
  resp.pass = verdict.pass;
  resp.offline = sub.offline;
  resp.findings = verdict.findings;
  resp.ima_offset = ImaOffset(verdict.state);

  VerdictRecord rec;
  rec.id = resp.verdict_id;
  rec.node_id = node_id;
  rec.time = now;
  rec.pass = verdict.pass;
  rec.offline = sub.offline;
  rec.summary = FirstFailure(verdict, &rec.failures);
  rec.verdict_json = attest::FormatVerdictJson(verdict, -1);
  std::optional<std::string> new_state;
  if (verdict.state) new_state = attest::EncodeAppraisalState(*verdict.state);
  EW_RETURN_IF_ERROR(storage->RecordVerdict(rec, new_state));

  // An offline quote is never fresh: it earns no certificate.
  if (verdict.pass && !sub.offline && sub.csr_pem) {
    EW_ASSIGN_OR_RETURN(IssuedCert cert,
                        ca->IssueNodeCert(*sub.csr_pem, sub.tls_public_key_spki_der, node_id, config.cert_lifetime));
    EW_RETURN_IF_ERROR(storage->PutIssuedCert({cert.serial_hex, node_id, now, cert.not_after}));
    resp.client_cert_pem = cert.cert_pem;
    resp.cert_expires_at = cert.not_after;
  }
  return out;
}

}  // namespace edgeward::cloud
