// The one conversion from TSS2_RC to Status, used at every ESAPI, MU and
// tctildr call in edgeward::tpm.
#pragma once

#include <tss2/tss2_common.h>

#include <string_view>

#include "edgeward/base/status.h"

namespace edgeward::tpm::internal {

// "Esys_Quote: tpm:error(2.0): ... (0x00000902)". `call_text` may be the
// whole call as written ("Esys_Quote(ctx, ...)"); only the function name is
// kept. Codes: TPM object/session memory and handle exhaustion →
// kResourceExhausted; TCTI I/O, no connection, TPM retry/yielded/testing →
// kUnavailable; TPM_RC_HANDLE (no such object/index) → kNotFound;
// authorization failures → kPermissionDenied; anything else → kInternal.
Status TssStatus(std::string_view call_text, TSS2_RC rc);

// The rc as well, for the few callers that give a specific TPM error its own
// meaning (e.g. TPM_RC_INTEGRITY in ActivateCredential).
struct TssResult {
  TSS2_RC rc;
  Status status;
};
TssResult TssCall(std::string_view call_text, TSS2_RC rc);

// For TPM-layer codes: the response code without the handle/session/parameter
// number, comparable with TPM2_RC_* constants. 0 for codes from other layers.
TSS2_RC TpmRcBase(TSS2_RC rc);

}  // namespace edgeward::tpm::internal

// Evaluates the ESAPI/MU/tctildr call and converts its rc; the Status names
// the function exactly as written at the call site.
#define EW_TSS(call) ::edgeward::tpm::internal::TssStatus(#call, (call))
#define EW_TSS_CALL(call) ::edgeward::tpm::internal::TssCall(#call, (call))
