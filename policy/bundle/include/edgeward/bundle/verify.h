// Accepting a bundle on a node (docs/bundles.md "Acceptance").
//
// VerifyBundle decides, with no side effects, whether a node may accept a
// bundle file; the checks run in a fixed order and the first failure is the
// verdict: malformed → root expired → signatures (unknown key, expired
// policy key, bad signature, below threshold) → version not greater than the
// highest accepted (or a jump beyond kMaxVersionJump) → bundle expired → not
// targeted at this node → content invalid. Content is only looked at after
// the signatures have been checked.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/bundle/bundle.h"
#include "edgeward/bundle/root.h"

namespace edgeward::bundle {

// Versions are sequence numbers: a bundle may skip at most this many
// versions past the highest accepted (the TPM counter is advanced one
// increment per version; docs/bundles.md "Anti-rollback").
inline constexpr uint64_t kMaxVersionJump = 4096;

enum class Reason {
  kAccepted,
  kMalformed,
  kRootExpired,
  kUnknownKey,
  kExpiredKey,
  kBadSignature,
  kBelowThreshold,
  kVersionNotGreater,
  kVersionJumpTooLarge,
  kExpired,
  kNotTargeted,
  kInvalidContent,
};
// "accepted", "malformed", "root_expired", "unknown_key", ...
std::string_view ReasonName(Reason reason);

// Validates one file of a bundle (kind from its top directory). A non-OK
// status rejects the whole bundle with kInvalidContent.
using ContentValidator = std::function<Status(FileKind kind, std::string_view path, std::string_view bytes)>;

struct VerifyOptions {
  // Targeting is checked only when set.
  std::optional<NodeIdentity> node;
  int64_t trusted_now = 0;          // seconds since the epoch (RollbackGuard::TrustedNow)
  uint64_t highest_accepted = 0;    // RollbackGuard::EffectiveHighest
  ContentValidator validate;        // may be empty: no content checks
};

struct Verdict {
  Reason reason = Reason::kMalformed;
  std::string message;            // specific: "1 of 2 required signatures (...)"
  std::optional<Bundle> bundle;   // set whenever the file decoded
  bool accepted() const { return reason == Reason::kAccepted; }
  uint64_t version() const { return bundle ? bundle->manifest.version : 0; }
};

Verdict VerifyBundle(ByteView file, const RootDocument& root, const VerifyOptions& options);

// The event for a verdict, one JSON object:
// {"type":"bundle.accepted"|"bundle.rejected","time":T,"bundle":{"version":N,"sha256":hex},
//  "reason":"below_threshold","message":"..."}. sha256 is the bundle digest
// (of the signed manifest), or of the raw file when it did not decode.
std::string VerdictEvent(const Verdict& verdict, ByteView file, int64_t time);

}  // namespace edgeward::bundle
