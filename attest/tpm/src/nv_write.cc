#include "edgeward/tpm/nv_write.h"

#include <cstdio>
#include <cstring>

#include "internal/capability.h"
#include "internal/context.h"
#include "internal/nv_index.h"
#include "internal/object.h"
#include "internal/tss_status.h"

namespace edgeward::tpm {
namespace {

using internal::NvIndexHex;

// TPM_RC_NV_LOCKED has no canonical code of its own in TssStatus; for the
// callers of this file it means "already written for good".
Status LockedAware(const internal::TssResult& r, const std::string& context) {
  if (r.status.ok()) return r.status;
  if (internal::TpmRcBase(r.rc) == TPM2_RC_NV_LOCKED) {
    return FailedPrecondition(context + ": the index is write-locked (" + r.status.message() + ")");
  }
  return r.status.WithContext(context);
}

}  // namespace

uint32_t WriteOnceAttributes() {
  return (TPM2_NT_ORDINARY << TPMA_NV_TPM2_NT_SHIFT) | TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD |
         TPMA_NV_AUTHREAD | TPMA_NV_NO_DA | TPMA_NV_WRITEDEFINE;
}

Status DefineNvIndex(Tpm& tpm, uint32_t index, uint16_t size, uint32_t attributes) {
  if ((index >> 24) != TPM2_HT_NV_INDEX) {
    return InvalidArgument("NV index " + NvIndexHex(index) + " is not an NV index handle (0x01xxxxxx)");
  }
  if (size == 0 || size > 2048) {
    return InvalidArgument("NV index " + NvIndexHex(index) + ": size " + std::to_string(size) + " not in 1..2048");
  }
  TPM2B_AUTH auth = {};
  TPM2B_NV_PUBLIC pub = {};
  pub.nvPublic.nvIndex = index;
  pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
  pub.nvPublic.attributes = attributes;
  pub.nvPublic.dataSize = size;
  ESYS_TR tr = ESYS_TR_NONE;
  Status s = EW_TSS(Esys_NV_DefineSpace(tpm.context()->get(), ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                        ESYS_TR_NONE, &auth, &pub, &tr));
  if (!s.ok()) return s.WithContext("defining NV index " + NvIndexHex(index));
  internal::TpmObject release(tpm.context(), tr, internal::TpmObject::Kind::kReference);
  return Status::Ok();
}

Status WriteNvIndex(Tpm& tpm, uint32_t index, ByteView data) {
  EW_ASSIGN_OR_RETURN(uint32_t max_chunk, internal::GetTpmProperty(*tpm.context(), TPM2_PT_NV_BUFFER_MAX));
  if (max_chunk == 0 || max_chunk > sizeof(TPM2B_MAX_NV_BUFFER::buffer)) {
    max_chunk = sizeof(TPM2B_MAX_NV_BUFFER::buffer);
  }
  if (data.empty() || data.size() > max_chunk) {
    return InvalidArgument("NV index " + NvIndexHex(index) + ": write of " + std::to_string(data.size()) +
                           " bytes (1.." + std::to_string(max_chunk) + " allowed in one write)");
  }
  EW_ASSIGN_OR_RETURN(internal::TpmObject nv, internal::OpenNvIndex(tpm, index));
  TPM2B_MAX_NV_BUFFER buffer = {};
  buffer.size = static_cast<uint16_t>(data.size());
  std::memcpy(buffer.buffer, data.data(), data.size());
  return LockedAware(EW_TSS_CALL(Esys_NV_Write(tpm.context()->get(), ESYS_TR_RH_OWNER, nv.get(), ESYS_TR_PASSWORD,
                                               ESYS_TR_NONE, ESYS_TR_NONE, &buffer, 0)),
                     "writing NV index " + NvIndexHex(index));
}

Status WriteLockNvIndex(Tpm& tpm, uint32_t index) {
  EW_ASSIGN_OR_RETURN(internal::TpmObject nv, internal::OpenNvIndex(tpm, index));
  return LockedAware(EW_TSS_CALL(Esys_NV_WriteLock(tpm.context()->get(), ESYS_TR_RH_OWNER, nv.get(),
                                                   ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE)),
                     "write-locking NV index " + NvIndexHex(index));
}

}  // namespace edgeward::tpm
