#include "edgeward/tpm/credential.h"

#include <openssl/crypto.h>

#include "internal/ak_impl.h"
#include "internal/ek_impl.h"
#include "internal/marshal.h"
#include "internal/tss_status.h"

namespace edgeward::tpm {
namespace {

// Wipes the TPM's plaintext output before ESAPI frees it.
struct CleansingEsysFree {
  void operator()(TPM2B_DIGEST* p) const {
    OPENSSL_cleanse(p, sizeof *p);
    Esys_Free(p);
  }
};

}  // namespace

StatusOr<crypto::SecureBytes> ActivateCredential(const Ek& ek, const LoadedAk& ak, ByteView credential_blob,
                                                 ByteView encrypted_secret) {
  EW_ASSIGN_OR_RETURN(TPM2B_ID_OBJECT blob,
                      EW_MU_UNMARSHAL(TPM2B_ID_OBJECT, credential_blob, "credential blob (TPM2B_ID_OBJECT)",
                                      StatusCode::kInvalidArgument));
  EW_ASSIGN_OR_RETURN(
      TPM2B_ENCRYPTED_SECRET secret,
      EW_MU_UNMARSHAL(TPM2B_ENCRYPTED_SECRET, encrypted_secret, "encrypted secret (TPM2B_ENCRYPTED_SECRET)",
                      StatusCode::kInvalidArgument));
  internal::Context& ctx = *ek.impl().object.context();
  if (&ctx != ak.impl().object.context().get()) {
    return InvalidArgument("ActivateCredential: the EK and AK belong to different TPM connections");
  }
  EW_ASSIGN_OR_RETURN(internal::EkUserAuth ek_auth, internal::EkUserAuth::Start(ek));
  TPM2B_DIGEST* raw = nullptr;
  // activateHandle (AK) needs the ADMIN role: its authValue (empty), since
  // adminWithPolicy is clear. keyHandle (EK) needs the USER role.
  auto r = EW_TSS_CALL(Esys_ActivateCredential(ctx.get(), ak.impl().object.get(), ek.impl().object.get(),
                                               ESYS_TR_PASSWORD, ek_auth.session(), ESYS_TR_NONE, &blob,
                                               &secret, &raw));
  std::unique_ptr<TPM2B_DIGEST, CleansingEsysFree> cert_info(raw);
  OPENSSL_cleanse(&blob, sizeof blob);
  OPENSSL_cleanse(&secret, sizeof secret);
  if (!r.status.ok()) {
    TSS2_RC base = internal::TpmRcBase(r.rc);
    if (base == TPM2_RC_INTEGRITY || base == TPM2_RC_VALUE || base == TPM2_RC_SIZE ||
        base == TPM2_RC_ECC_POINT) {
      return InvalidArgument("credential does not match this AK and EK: " + r.status.message());
    }
    return r.status;
  }
  return crypto::SecureBytes(cert_info->buffer, cert_info->buffer + cert_info->size);
}

}  // namespace edgeward::tpm
