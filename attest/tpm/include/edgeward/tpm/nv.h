// NV index read (TPM2_NV_ReadPublic, TPM2_NV_Read). Errors as in tpm.h; an
// index that is not defined → kNotFound.
#pragma once

#include <cstdint>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::tpm {

struct NvPublic {
  uint32_t index = 0;
  uint16_t name_alg = 0;    // TPM_ALG_ID
  uint32_t attributes = 0;  // TPMA_NV
  uint16_t data_size = 0;
  Bytes name;        // nameAlg || H(TPMS_NV_PUBLIC)
  Bytes marshalled;  // TPM2B_NV_PUBLIC as the TPM returned it
};

StatusOr<NvPublic> ReadNvPublic(Tpm& tpm, uint32_t index);

// Reads the whole index, in chunks of TPM_PT_NV_BUFFER_MAX, authorizing with
// the index's own (empty) authValue — the AUTHREAD way EK certificate indices
// are read. An index that was never written → kFailedPrecondition.
StatusOr<Bytes> ReadNv(Tpm& tpm, uint32_t index);

}  // namespace edgeward::tpm
