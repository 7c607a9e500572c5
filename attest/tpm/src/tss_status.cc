#include "internal/tss_status.h"

#include <tss2/tss2_rc.h>
#include <tss2/tss2_tpm2_types.h>

#include <cstdio>
#include <string>

namespace edgeward::tpm::internal {
namespace {

constexpr TSS2_RC kTpmLayer = TSS2_RC_LAYER(0);

std::string_view FunctionName(std::string_view call_text) {
  size_t paren = call_text.find('(');
  std::string_view name = call_text.substr(0, paren);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\n')) name.remove_suffix(1);
  return name;
}

StatusCode CodeFor(TSS2_RC rc) {
  // All of edgeward's ESAPI calls are synchronous: ESAPI only finds itself
  // out of sequence when an earlier command died mid-way (the connection
  // dropped), and the context cannot recover from that.
  if (rc == TSS2_ESYS_RC_BAD_SEQUENCE) return StatusCode::kUnavailable;
  TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;
  if (layer == kTpmLayer || layer == TSS2_RESMGR_TPM_RC_LAYER) {
    switch (TpmRcBase(rc)) {
      case TPM2_RC_OBJECT_MEMORY:
      case TPM2_RC_SESSION_MEMORY:
      case TPM2_RC_MEMORY:
      case TPM2_RC_OBJECT_HANDLES:
      case TPM2_RC_SESSION_HANDLES:
        return StatusCode::kResourceExhausted;
      case TPM2_RC_RETRY:
      case TPM2_RC_YIELDED:
      case TPM2_RC_TESTING:
      case TPM2_RC_CANCELED:
        return StatusCode::kUnavailable;
      case TPM2_RC_HANDLE:
        return StatusCode::kNotFound;
      case TPM2_RC_NV_DEFINED:
        return StatusCode::kAlreadyExists;
      case TPM2_RC_NV_UNINITIALIZED:
        return StatusCode::kFailedPrecondition;
      case TPM2_RC_AUTH_FAIL:
      case TPM2_RC_BAD_AUTH:
      case TPM2_RC_POLICY_FAIL:
      case TPM2_RC_LOCKOUT:
        return StatusCode::kPermissionDenied;
      default:
        return StatusCode::kInternal;
    }
  }
  switch (rc & 0xFFFF) {  // the base code, below the layer byte
    case TSS2_BASE_RC_IO_ERROR:
    case TSS2_BASE_RC_NO_CONNECTION:
    case TSS2_BASE_RC_TRY_AGAIN:
    case TSS2_BASE_RC_NO_TPM:
      return StatusCode::kUnavailable;
    case TSS2_BASE_RC_MEMORY:
      return StatusCode::kResourceExhausted;
    default:
      return StatusCode::kInternal;
  }
}

}  // namespace

TSS2_RC TpmRcBase(TSS2_RC rc) {
  TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;
  if (layer != kTpmLayer && layer != TSS2_RESMGR_TPM_RC_LAYER) return 0;
  TSS2_RC code = rc & ~TSS2_RC_LAYER_MASK;
  // Format-one codes carry a handle/session/parameter number in bits 6 and
  // 8-11; format-zero codes are compared whole.
  if (code & TPM2_RC_FMT1) return code & (TPM2_RC_FMT1 | 0x3F);
  return code & 0xFFF;
}

Status TssStatus(std::string_view call_text, TSS2_RC rc) {
  if (rc == TSS2_RC_SUCCESS) return Status::Ok();
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08x", rc);
  std::string m(FunctionName(call_text));
  m += ": ";
  m += Tss2_RC_Decode(rc);
  m += " (";
  m += hex;
  m += ")";
  if (rc == TSS2_ESYS_RC_BAD_SEQUENCE) m += "; an earlier TPM command failed mid-way, reopen the TPM";
  return Status(CodeFor(rc), std::move(m));
}

TssResult TssCall(std::string_view call_text, TSS2_RC rc) { return {rc, TssStatus(call_text, rc)}; }

}  // namespace edgeward::tpm::internal
