// Sealing a small secret (e.g. the spool's data key) to this TPM: the secret
// is wrapped by a storage primary key that only this TPM can recreate, so a
// copy of the blob on another machine (or a disk image) is useless.
//
// The parent is a primary key created on demand in the owner (storage)
// hierarchy from the TCG SRK template (ECC NIST P-256, AES-128-CFB,
// restricted decrypt; the owner hierarchy's authValue is assumed empty) and
// flushed again: nothing persistent is defined and nothing stays loaded.
// The sealed object is a keyedhash data object (fixedTPM, fixedParent,
// userWithAuth, noDA, empty authValue) with no PCR policy, so firmware or
// kernel updates don't lock the secret away; its protection is the TPM
// binding, not the measured state. Clearing the TPM (new owner seed) makes
// every blob unsealable → the caller must start over (kFailedPrecondition
// or kInternal from the TPM, see below).
//
// Blob format (big-endian): "EWSL" | u32 version 1 | TPM2B_PUBLIC |
// TPM2B_PRIVATE, nothing after.
#pragma once

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/secure_bytes.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::tpm {

inline constexpr size_t kMaxSealedSecretBytes = 128;  // MAX_SYM_DATA

// Seals `secret` (1..kMaxSealedSecretBytes bytes) and returns the blob.
// Wrong size → kInvalidArgument; TPM errors name the ESAPI call.
StatusOr<Bytes> SealSecret(Tpm& tpm, ByteView secret);

// Unseals a blob made by SealSecret on this TPM. A malformed blob →
// kDataLoss naming the part; a blob sealed by another TPM (or before the
// TPM was cleared) fails to load → kFailedPrecondition "sealed blob does
// not belong to this TPM".
StatusOr<crypto::SecureBytes> UnsealSecret(Tpm& tpm, ByteView blob);

}  // namespace edgeward::tpm
