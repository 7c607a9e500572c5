// TPM2_ActivateCredential: proves to a verifier that the AK lives in the
// same TPM as the EK, by recovering the secret it sealed to both.
#pragma once

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/secure_bytes.h"
#include "edgeward/tpm/ak.h"
#include "edgeward/tpm/ek.h"

namespace edgeward::tpm {

// `credential_blob` is a marshalled TPM2B_ID_OBJECT and `encrypted_secret` a
// marshalled TPM2B_ENCRYPTED_SECRET, as made by MakeCredential for the EK's
// public key and the AK's name. Returns the secret (wiped when freed; the
// TPM's output buffer is wiped before it is released).
// Malformed inputs → kInvalidArgument; a credential not made for this
// AK name and EK (TPM_RC_INTEGRITY, or a seed the EK cannot decrypt) →
// kInvalidArgument "credential does not match this AK and EK".
StatusOr<crypto::SecureBytes> ActivateCredential(const Ek& ek, const LoadedAk& ak, ByteView credential_blob,
                                                 ByteView encrypted_secret);

}  // namespace edgeward::tpm
