// TPM2_GetCapability helpers shared by the command families.
#pragma once

#include <tss2/tss2_esys.h>

#include <cstdint>
#include <map>
#include <vector>

#include "edgeward/base/status.h"
#include "internal/context.h"

namespace edgeward::tpm::internal {

// TPM properties (TPM_PT_*) from `first` on, following moreData.
StatusOr<std::map<uint32_t, uint32_t>> GetTpmProperties(Context& ctx, uint32_t first, uint32_t count);
StatusOr<uint32_t> GetTpmProperty(Context& ctx, uint32_t property);

// Handles in [first, first + range) (e.g. persistent objects, NV indices).
StatusOr<std::vector<uint32_t>> GetHandles(Context& ctx, uint32_t first, uint32_t range);

// The PCR allocation (TPM_CAP_PCRS).
StatusOr<TPML_PCR_SELECTION> GetPcrAllocation(Context& ctx);

// Whether the TPM accepts these public parameters (TPM2_TestParms). A
// TPM-layer refusal → false; a transport error → the error.
StatusOr<bool> TestParms(Context& ctx, const TPMT_PUBLIC_PARMS& parms);

}  // namespace edgeward::tpm::internal
