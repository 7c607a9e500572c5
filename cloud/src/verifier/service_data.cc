// Service: event ingestion (with offline reports) and bundles.
#include <spdlog/spdlog.h>

#include "edgeward/bundle/bundle.h"
#include "edgeward/bundle/verify.h"
#include "edgeward/crypto/hash.h"
#include "service_internal.h"

namespace edgeward::cloud {

HttpReply Service::IngestEvents(std::string_view body, const Caller& caller) {
  if (!caller.cert_cn) return Error(401, "a client certificate is required");
  if (caller.is_admin()) return Error(403, "events come from nodes, not admins");
  const std::string& node_id = *caller.cert_cn;
  auto node = impl_->storage->GetNode(node_id);
  if (!node.ok()) return ErrorFromStatus(node.status());
  if (auto refusal = RefuseInactiveNode(*node, node_id)) return *refusal;
  auto signing = crypto::Ed25519PublicKey::FromBytes((*node)->signing_key);
  if (!signing.ok()) return ErrorFromStatus(Internal("stored signing key: " + signing.status().message()));
  auto batch = DecodeEventBatch(body);
  if (!batch.ok()) return ErrorFromStatus(batch.status());

  EventAck ack;
  std::vector<EventRecord> records;
  // Attestation messages carry offline reports: decoded up front (one that
  // isn't a valid offline submission of this node is rejected, never
  // stored), appraised after storing so that a resend is not appraised twice.
  std::vector<std::optional<EvidenceSubmission>> reports;
  records.reserve(batch->messages.size());
  const int64_t now = NowSeconds();
  for (const auto& m : batch->messages) {
    auto payload = OpenEvent(*impl_->seal_key, *signing, node_id, m);
    if (!payload.ok()) {
      ack.rejected.push_back({m.id, payload.status().message()});
      continue;
    }
    std::optional<EvidenceSubmission> report;
    if (m.priority == 0) {
      auto sub = DecodeEvidenceSubmission(
          std::string_view(reinterpret_cast<const char*>(payload->data()), payload->size()));
      std::string why;
      if (!sub.ok()) {
        why = "not an offline report: " + sub.status().message();
      } else if (!sub->offline) {
        why = "not an offline report: evidence_submission.offline must be true (fresh evidence goes to /v1/evidence)";
      } else if (sub->evidence.node_id != node_id) {
        why = "offline report for node '" + sub->evidence.node_id + "' sent by '" + node_id + "'";
      } else if (sub->evidence.nonce.empty()) {
        why = "offline report: evidence.nonce is empty";
      }
      if (!why.empty()) {
        ack.rejected.push_back({m.id, why});
        continue;
      }
      report = std::move(sub).value();
    }
    records.push_back({node_id, m.id, m.seq, m.priority, std::move(payload).value(), now});
    reports.push_back(std::move(report));
  }
  auto fresh = impl_->storage->InsertEvents(records);
  if (!fresh.ok()) return ErrorFromStatus(fresh.status());
  for (size_t i = 0; i < records.size(); ++i) {
    ((*fresh)[i] ? ack.accepted_ids : ack.duplicate_ids).push_back(records[i].id);
    if (!(*fresh)[i] || !reports[i]) continue;
    // The verdict (offline, continuity only) lands in the node's history.
    // The report itself is stored, so a failure to appraise is logged and
    // does not make the node resend it.
    auto out = impl_->AppraiseAndRecord(**node, *reports[i], reports[i]->evidence.nonce, now);
    if (!out.ok()) {
      spdlog::error("offline report {} of node '{}': not appraised: {}", records[i].id, node_id,
                    out.status().ToString());
    }
  }
  return Json(200, EncodeEventAck(ack));
}

HttpReply Service::PublishBundle(std::string_view bytes, const Caller& caller) {
  if (!caller.cert_cn) return Error(401, "a client certificate is required");
  if (!caller.is_admin()) return Error(403, "admin certificate required");
  if (!impl_->bundle_root) return Error(409, "bundle publishing is off: no bundle_root configured");
  if (bytes.size() > bundle::kMaxBundleBytes) return Error(413, "bundle too large");
  // The same acceptance a node applies (signatures, threshold, expiry),
  // minus targeting and the node's rollback state: a bundle no node could
  // accept is refused at the door.
  bundle::VerifyOptions vo;
  vo.trusted_now = NowSeconds();
  const auto verdict = bundle::VerifyBundle(AsBytes(bytes), *impl_->bundle_root, vo);
  if (!verdict.accepted()) {
    return Error(400, "bundle refused: " + std::string(bundle::ReasonName(verdict.reason)) + ": " + verdict.message);
  }
  BundleRecord rec{verdict.version(), HexEncode(crypto::Digest(crypto::HashAlg::kSha256, AsBytes(bytes))),
                   std::string(bytes), NowSeconds()};
  if (Status s = impl_->storage->PutBundle(rec); !s.ok()) return ErrorFromStatus(s);
  return Json(201, EncodeBundleInfo({rec.version, rec.sha256, rec.bytes.size()}));
}

HttpReply Service::FetchBundle(const Caller& caller, std::string_view if_none_match) {
  if (!caller.cert_cn) return Error(401, "a client certificate is required");
  auto node = impl_->storage->GetNode(*caller.cert_cn);
  if (!node.ok()) return ErrorFromStatus(node.status());
  if (auto refusal = RefuseInactiveNode(*node, *caller.cert_cn)) return *refusal;
  auto list = impl_->storage->ListBundles(/*with_bytes=*/false);
  if (!list.ok()) return ErrorFromStatus(list.status());
  bundle::NodeIdentity who{(*node)->id, (*node)->labels};
  for (const auto& meta : *list) {
    auto full = impl_->storage->GetBundle(meta.version);
    if (!full.ok()) return ErrorFromStatus(full.status());
    if (!*full) continue;
    auto decoded = bundle::DecodeBundle(AsBytes((*full)->bytes));
    if (!decoded.ok() || !bundle::TargetsMatch(decoded->manifest.targets, who)) continue;
    const std::string etag = "\"" + meta.sha256 + "\"";
    HttpReply r;
    r.headers["ETag"] = etag;
    r.headers["X-Bundle-Version"] = std::to_string(meta.version);
    if (if_none_match == etag) {
      r.status = 304;
      r.content_type.clear();
      return r;
    }
    r.status = 200;
    r.content_type = "application/octet-stream";
    r.body = std::move((*full)->bytes);
    return r;
  }
  return Error(404, "no bundle targets node '" + *caller.cert_cn + "'");
}

}  // namespace edgeward::cloud
