// Conversions between PcrSelection and TPML_PCR_SELECTION.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include "edgeward/base/status.h"
#include "edgeward/tpm/pcr_types.h"
#include "internal/context.h"

namespace edgeward::tpm::internal {

// Banks in ascending algorithm order (std::map order), 3-byte bitmaps.
// More than TPM2_NUM_PCR_BANKS banks or an index ≥ 24 → kInvalidArgument.
StatusOr<TPML_PCR_SELECTION> ToTpml(const PcrSelection& sel);

// Unknown hash algorithms → kInvalidArgument (the selection came from a TPM
// structure that edgeward cannot interpret). Banks with no PCR selected are
// left out.
StatusOr<PcrSelection> FromTpml(const TPML_PCR_SELECTION& tpml);

// ReadPcrs (pcr.h) on a context.
StatusOr<PcrValues> ReadPcrs(Context& ctx, const PcrSelection& selection);

}  // namespace edgeward::tpm::internal
