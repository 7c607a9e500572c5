// Private: the OpenSSL key for a TPMT_PUBLIC. Used by PublicKeyPem and by
// appraisal (signature verification).
#pragma once

#include "edgeward/attest/tpm_wire.h"
#include "edgeward/crypto/openssl_ptr.h"

namespace edgeward::attest::wire {

// The EC group name for a TPM curve ("P-256"...), or nullptr.
const char* OsslCurveName(uint16_t tpm_curve);

// Builds the public key of an RSA or ECC TPMT_PUBLIC (point checked on curve).
StatusOr<crypto::EvpPkeyPtr> TpmPublicToPkey(const TpmtPublic& pub);

}  // namespace edgeward::attest::wire
