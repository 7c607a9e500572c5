// Ordinary NV indices that are written once and then locked: the anchor
// record of edgeward's anti-rollback counter (docs/bundles.md) sits in one.
//
// With TPMA_NV_WRITEDEFINE set, TPM2_NV_WriteLock locks the index for good
// (until it is undefined): not even the owner can rewrite it afterwards.
//
// Errors as in tpm.h: an index that is not defined → kNotFound; defining an
// index that exists → kAlreadyExists; writing a locked index →
// kFailedPrecondition; a wrong owner authorization → kPermissionDenied.
#pragma once

#include <cstdint>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::tpm {

// TPM_NT_ORDINARY, written only with owner authorization, readable with the
// owner's or the index's own empty authorization, exempt from
// dictionary-attack lockout, and TPMA_NV_WRITEDEFINE (a write lock is
// permanent). Not orderly.
uint32_t WriteOnceAttributes();

// Defines an ordinary index of `size` bytes (1..2048) with `attributes` in
// the owner hierarchy (empty owner authorization, as TPMs ship).
Status DefineNvIndex(Tpm& tpm, uint32_t index, uint16_t size, uint32_t attributes);

// Writes `data` at offset 0 with owner authorization. `data` must fit the
// index and TPM_PT_NV_BUFFER_MAX (kInvalidArgument otherwise).
Status WriteNvIndex(Tpm& tpm, uint32_t index, ByteView data);

// TPM2_NV_WriteLock with owner authorization.
Status WriteLockNvIndex(Tpm& tpm, uint32_t index);

}  // namespace edgeward::tpm
