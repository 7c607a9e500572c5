// TPM public areas as crypto::PublicKey, and TPM names.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/public_key.h"

namespace edgeward::tpm::internal {

// RSA (exponent 0 means 65537) or ECC on NIST P-256/P-384/P-521.
// Other types/curves → kUnimplemented.
StatusOr<crypto::PublicKey> PublicKeyFromTpmt(const TPMT_PUBLIC& pub);

// The TPM name of an object: nameAlg (2 bytes, big-endian) || H(TPMT_PUBLIC).
StatusOr<Bytes> ObjectName(const TPMT_PUBLIC& pub);

inline Bytes NameBytes(const TPM2B_NAME& name) { return Bytes(name.name, name.name + name.size); }

}  // namespace edgeward::tpm::internal
