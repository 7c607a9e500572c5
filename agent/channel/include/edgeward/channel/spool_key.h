// The spool's 32-byte data key: generated once per node, kept at rest
// either sealed by the TPM (tpm/seal.h) in <dir>/key.sealed, or — on a node
// without a TPM, the documented degraded mode — in the clear in a 0600 file
// <dir>/key, where it protects the spool only against other users and
// against copying the spool without the key file (docs/spool.md).
#pragma once

#include <string>

#include "edgeward/base/status.h"
#include "edgeward/crypto/sodium.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::channel {

struct SpoolKey {
  crypto::GuardedBytes key;
  bool tpm_sealed = false;  // false: degraded mode (key file in the clear)
};

// Loads the key from `dir` (created 0700), or creates one. With a TPM
// (`tpm` non-null): key.sealed is unsealed, or a new key is sealed and
// written. Without one: the key file is read or created. A sealed key but
// no TPM, or a clear key file while a TPM is present, → kFailedPrecondition
// (a node never silently changes mode; remove the spool to reset). A key
// file that is not 32 bytes or not 0600 → kDataLoss / kPermissionDenied
// naming the file.
StatusOr<SpoolKey> LoadOrCreateSpoolKey(const std::string& dir, tpm::Tpm* tpm);

}  // namespace edgeward::channel
