// PCR read and extend (TPM2_PCR_Read, TPM2_PCR_Extend). Errors as in tpm.h.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/tpm/pcr_types.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::tpm {

// Banks with at least one PCR allocated, ascending by algorithm id.
StatusOr<std::vector<HashAlg>> ActivePcrBanks(Tpm& tpm);

// Reads every PCR in `selection` (TPM2_PCR_Read returns at most 8 per call;
// this loops). Reads of different calls are not atomic with respect to each
// other. A bank that is not active, or an index ≥ 24 → kInvalidArgument.
StatusOr<PcrValues> ReadPcrs(Tpm& tpm, const PcrSelection& selection);

// Extends PCR `index` in each bank of `digests` (bank → digest of that
// bank's size) with one TPM2_PCR_Extend. Empty map, wrong digest size or
// index ≥ 24 → kInvalidArgument. Locality/PCR policy refusals come back as
// the TPM's error.
Status ExtendPcr(Tpm& tpm, uint32_t index, const std::map<HashAlg, Bytes>& digests);

}  // namespace edgeward::tpm
