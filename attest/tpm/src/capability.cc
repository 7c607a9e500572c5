#include "internal/capability.h"

#include "internal/tss_status.h"

namespace edgeward::tpm::internal {

StatusOr<std::map<uint32_t, uint32_t>> GetTpmProperties(Context& ctx, uint32_t first, uint32_t count) {
  std::map<uint32_t, uint32_t> out;
  uint32_t next = first;
  const uint32_t end = first + count;
  while (next < end) {
    TPMI_YES_NO more = TPM2_NO;
    EsysPtr<TPMS_CAPABILITY_DATA> data;
    EW_RETURN_IF_ERROR(
        EW_TSS(Esys_GetCapability(ctx.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  TPM2_CAP_TPM_PROPERTIES, next, end - next, &more, Out(data))));
    const TPML_TAGGED_TPM_PROPERTY& props = data->data.tpmProperties;
    if (props.count == 0) break;
    for (uint32_t i = 0; i < props.count; ++i) {
      if (props.tpmProperty[i].property >= end) return out;
      out[props.tpmProperty[i].property] = props.tpmProperty[i].value;
    }
    next = props.tpmProperty[props.count - 1].property + 1;
    if (!more) break;
  }
  return out;
}

StatusOr<uint32_t> GetTpmProperty(Context& ctx, uint32_t property) {
  EW_ASSIGN_OR_RETURN(auto props, GetTpmProperties(ctx, property, 1));
  auto it = props.find(property);
  if (it == props.end()) return NotFound("TPM does not report property 0x" + std::to_string(property));
  return it->second;
}

StatusOr<std::vector<uint32_t>> GetHandles(Context& ctx, uint32_t first, uint32_t range) {
  std::vector<uint32_t> out;
  uint32_t next = first;
  const uint64_t end = static_cast<uint64_t>(first) + range;
  while (next < end) {
    TPMI_YES_NO more = TPM2_NO;
    EsysPtr<TPMS_CAPABILITY_DATA> data;
    EW_RETURN_IF_ERROR(
        EW_TSS(Esys_GetCapability(ctx.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES, next,
                                  TPM2_MAX_CAP_HANDLES, &more, Out(data))));
    const TPML_HANDLE& h = data->data.handles;
    if (h.count == 0) break;
    for (uint32_t i = 0; i < h.count; ++i) {
      if (h.handle[i] >= end) return out;
      out.push_back(h.handle[i]);
    }
    next = h.handle[h.count - 1] + 1;
    if (!more) break;
  }
  return out;
}

StatusOr<TPML_PCR_SELECTION> GetPcrAllocation(Context& ctx) {
  TPMI_YES_NO more = TPM2_NO;
  EsysPtr<TPMS_CAPABILITY_DATA> data;
  EW_RETURN_IF_ERROR(EW_TSS(Esys_GetCapability(ctx.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                               TPM2_CAP_PCRS, 0, 1, &more, Out(data))));
  return data->data.assignedPCR;
}

StatusOr<bool> TestParms(Context& ctx, const TPMT_PUBLIC_PARMS& parms) {
  auto r = EW_TSS_CALL(Esys_TestParms(ctx.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &parms));
  if (r.status.ok()) return true;
  if (TpmRcBase(r.rc) != 0 && r.status.code() == StatusCode::kInternal) return false;
  return r.status;
}

}  // namespace edgeward::tpm::internal
