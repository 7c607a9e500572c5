#include "edgeward/bundle/verify.h"

#include <set>

#include "edgeward/bundle/time.h"
#include "edgeward/crypto/hash.h"
#include "internal/canonical.h"
#include "internal/sig_input.h"

namespace edgeward::bundle {
namespace {

Verdict Reject(Verdict v, Reason reason, std::string message) {
  v.reason = reason;
  v.message = std::move(message);
  return v;
}

}  // namespace

std::string_view ReasonName(Reason reason) {
  switch (reason) {
    case Reason::kAccepted: return "accepted";
    case Reason::kMalformed: return "malformed";
    case Reason::kRootExpired: return "root_expired";
    case Reason::kUnknownKey: return "unknown_key";
    case Reason::kExpiredKey: return "expired_key";
    case Reason::kBadSignature: return "bad_signature";
    case Reason::kBelowThreshold: return "below_threshold";
    case Reason::kVersionNotGreater: return "version_not_greater";
    case Reason::kVersionJumpTooLarge: return "version_jump_too_large";
    case Reason::kExpired: return "expired";
    case Reason::kNotTargeted: return "not_targeted";
    case Reason::kInvalidContent: return "invalid_content";
  }
  return "unknown";
}

Verdict VerifyBundle(ByteView file, const RootDocument& root, const VerifyOptions& options) {
  Verdict v;
  auto decoded = DecodeBundle(file);
  if (!decoded.ok()) return Reject(std::move(v), Reason::kMalformed, decoded.status().message());
  v.bundle = std::move(*decoded);
  const Bundle& b = *v.bundle;
  const BundleManifest& m = b.manifest;
  const int64_t now = options.trusted_now;

  if (root.content.expires <= now) {
    return Reject(std::move(v), Reason::kRootExpired,
                  "the trusted root (version " + std::to_string(root.content.version) + ") expired at " +
                      FormatRfc3339(root.content.expires) + " (trusted time " + FormatRfc3339(now) + ")");
  }

  // Every signature is classified; a key counts once however often it signed.
  std::set<std::string> valid;
  std::string unknown, expired, bad;
  for (const Signature& s : b.signatures) {
    if (valid.contains(s.key_id)) continue;
    const PolicyKey* pk = root.FindPolicyKey(s.key_id);
    auto key = root.content.keys.find(s.key_id);
    if (pk == nullptr || key == root.content.keys.end()) {
      unknown += (unknown.empty() ? "" : ", ") + s.key_id;
      continue;
    }
    std::string input = internal::SignatureInput(internal::kBundleDomain, s.key_id, b.signed_bytes);
    if (!crypto::Ed25519Verify(key->second, AsBytes(input), s.sig)) {
      bad += (bad.empty() ? "" : ", ") + s.key_id;
      continue;
    }
    if (pk->expires <= now) {
      expired += (expired.empty() ? "" : ", ") + s.key_id + " (expired " + FormatRfc3339(pk->expires) + ")";
      continue;
    }
    valid.insert(s.key_id);
  }
  const uint32_t need = root.content.policy_threshold;
  if (valid.size() < need) {
    std::string count = std::to_string(valid.size()) + " of " + std::to_string(need) + " required signatures";
    if (!bad.empty()) return Reject(std::move(v), Reason::kBadSignature, count + "; signature does not verify: key " + bad);
    if (!expired.empty()) return Reject(std::move(v), Reason::kExpiredKey, count + "; policy key expired by trusted time " + FormatRfc3339(now) + ": " + expired);
    if (!unknown.empty()) return Reject(std::move(v), Reason::kUnknownKey, count + "; key not a policy key of root version " + std::to_string(root.content.version) + ": " + unknown);
    return Reject(std::move(v), Reason::kBelowThreshold, count);
  }

  if (m.version <= options.highest_accepted) {
    return Reject(std::move(v), Reason::kVersionNotGreater,
                  "version " + std::to_string(m.version) + " is not greater than the highest accepted version " +
                      std::to_string(options.highest_accepted));
  }
  if (options.highest_accepted > 0 && m.version - options.highest_accepted > kMaxVersionJump) {
    return Reject(std::move(v), Reason::kVersionJumpTooLarge,
                  "version " + std::to_string(m.version) + " skips more than " + std::to_string(kMaxVersionJump) +
                      " versions past the highest accepted version " + std::to_string(options.highest_accepted));
  }
  if (m.expires_at <= now) {
    return Reject(std::move(v), Reason::kExpired,
                  "bundle version " + std::to_string(m.version) + " expired at " + FormatRfc3339(m.expires_at) +
                      " (trusted time " + FormatRfc3339(now) + ")");
  }
  if (options.node && !TargetsMatch(m.targets, *options.node)) {
    return Reject(std::move(v), Reason::kNotTargeted,
                  "bundle targets '" + FormatTargets(m.targets) + "', not node " + options.node->id);
  }
  if (options.validate) {
    for (const BundleFile& f : m.files) {
      Status s = options.validate(f.kind, f.path, b.Content(f));
      if (!s.ok()) return Reject(std::move(v), Reason::kInvalidContent, f.path + ": " + s.message());
    }
  }
  v.reason = Reason::kAccepted;
  v.message = "version " + std::to_string(m.version) + " accepted (" + std::to_string(valid.size()) + " of " +
              std::to_string(need) + " required signatures)";
  return v;
}

std::string VerdictEvent(const Verdict& verdict, ByteView file, int64_t time) {
  std::string digest =
      verdict.bundle ? verdict.bundle->digest : HexEncode(crypto::Digest(crypto::HashAlg::kSha256, file));
  internal::Json e{{"type", verdict.accepted() ? "bundle.accepted" : "bundle.rejected"},
                   {"time", FormatRfc3339(time)},
                   {"bundle", internal::Json{{"version", verdict.version()}, {"sha256", digest}}},
                   {"reason", std::string(ReasonName(verdict.reason))},
                   {"message", verdict.message}};
  // Messages may quote hostile bytes; replace invalid UTF-8 instead of throwing.
  return e.dump(-1, ' ', false, internal::Json::error_handler_t::replace);
}

}  // namespace edgeward::bundle
