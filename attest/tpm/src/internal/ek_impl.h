// Ek's state, shared with the files that use the EK as a parent or for
// credential activation.
#pragma once

#include <tss2/tss2_esys.h>

#include <optional>
#include <string>

#include "edgeward/tpm/ek.h"
#include "internal/object.h"

namespace edgeward::tpm {

struct Ek::Impl {
  EkKind kind;
  TPMT_PUBLIC public_tpmt;
  Bytes public_area;  // TPM2B_PUBLIC
  std::string public_pem;
  Bytes name;
  std::optional<EkCertificate> certificate;
  std::optional<uint32_t> persistent_handle;
  internal::TpmObject object;  // last: released first
};

namespace internal {

// The TCG default template for `kind` (unique filled as the profile says:
// zeros of key size in the low range, empty in the high range).
TPMT_PUBLIC EkTemplate(EkKind kind);

// Whether `pub` was made from EkTemplate(kind): every field but unique equal.
StatusOr<bool> MatchesEkTemplate(const TPMT_PUBLIC& pub, EkKind kind);

// Authorization for the EK in the USER role (as parent in TPM2_Load and
// TPM2_Create, as keyHandle in TPM2_ActivateCredential). Low-range EKs have
// userWithAuth clear: a policy session satisfying PolicySecret(TPM_RH_ENDORSEMENT)
// (the endorsement hierarchy's authValue is assumed empty). High-range EKs
// have userWithAuth set and an empty authValue: a password session. The
// session is flushed when this goes out of scope.
class EkUserAuth {
 public:
  static StatusOr<EkUserAuth> Start(const Ek& ek);
  ESYS_TR session() const { return session_.valid() ? session_.get() : ESYS_TR_PASSWORD; }

 private:
  explicit EkUserAuth(TpmObject session) : session_(std::move(session)) {}
  TpmObject session_;
};

}  // namespace internal
}  // namespace edgeward::tpm
