#include "edgeward/tpm/nv_counter.h"

#include <cstdio>

#include "edgeward/tpm/nv.h"
#include "internal/context.h"
#include "internal/nv_index.h"
#include "internal/object.h"
#include "internal/tss_status.h"

namespace edgeward::tpm {
namespace {

using internal::NvIndexHex;

bool IsCounter(uint32_t attributes) {
  return ((attributes & TPMA_NV_TPM2_NT_MASK) >> TPMA_NV_TPM2_NT_SHIFT) == TPM2_NT_COUNTER;
}

}  // namespace

uint32_t CounterAttributes() {
  return (TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT) | TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD |
         TPMA_NV_AUTHREAD | TPMA_NV_NO_DA;
}

Status DefineNvCounter(Tpm& tpm, uint32_t index) {
  if ((index >> 24) != TPM2_HT_NV_INDEX) {
    return InvalidArgument("NV counter index " + NvIndexHex(index) + " is not an NV index handle (0x01xxxxxx)");
  }
  TPM2B_AUTH auth = {};
  TPM2B_NV_PUBLIC pub = {};
  pub.nvPublic.nvIndex = index;
  pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
  pub.nvPublic.attributes = CounterAttributes();
  pub.nvPublic.dataSize = 8;
  ESYS_TR tr = ESYS_TR_NONE;
  Status s = EW_TSS(Esys_NV_DefineSpace(tpm.context()->get(), ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                        ESYS_TR_NONE, &auth, &pub, &tr));
  if (!s.ok()) return s.WithContext("defining NV counter " + NvIndexHex(index));
  internal::TpmObject release(tpm.context(), tr, internal::TpmObject::Kind::kReference);
  return Status::Ok();
}

StatusOr<uint64_t> IncrementNvCounter(Tpm& tpm, uint32_t index) {
  EW_ASSIGN_OR_RETURN(internal::TpmObject nv, internal::OpenNvIndex(tpm, index));
  Status s = EW_TSS(Esys_NV_Increment(tpm.context()->get(), ESYS_TR_RH_OWNER, nv.get(), ESYS_TR_PASSWORD,
                                      ESYS_TR_NONE, ESYS_TR_NONE));
  if (!s.ok()) return s.WithContext("incrementing NV counter " + NvIndexHex(index));
  // ESAPI hands out one ESYS_TR per NV index: the read below opens and
  // closes the same reference, so ours must be released first.
  nv.Reset();
  return ReadNvCounter(tpm, index);
}

StatusOr<uint64_t> ReadNvCounter(Tpm& tpm, uint32_t index) {
  EW_ASSIGN_OR_RETURN(NvPublic pub, ReadNvPublic(tpm, index));
  if (!IsCounter(pub.attributes) || pub.data_size != 8) {
    return InvalidArgument("NV index " + NvIndexHex(index) + " is not a counter");
  }
  EW_ASSIGN_OR_RETURN(Bytes data, ReadNv(tpm, index));
  if (data.size() != 8) return Internal("NV counter " + NvIndexHex(index) + " read returned " +
                                        std::to_string(data.size()) + " bytes");
  uint64_t value = 0;
  for (uint8_t b : data) value = (value << 8) | b;  // TPM counters are big-endian
  return value;
}

Status UndefineNvIndex(Tpm& tpm, uint32_t index) {
  EW_ASSIGN_OR_RETURN(internal::TpmObject nv, internal::OpenNvIndex(tpm, index));
  Status s = EW_TSS(Esys_NV_UndefineSpace(tpm.context()->get(), ESYS_TR_RH_OWNER, nv.get(), ESYS_TR_PASSWORD,
                                          ESYS_TR_NONE, ESYS_TR_NONE));
  if (!s.ok()) return s.WithContext("undefining NV index " + NvIndexHex(index));
  // The TPM no longer has the index; ESAPI's reference is now stale and
  // Esys_NV_UndefineSpace has already released it.
  (void)nv.Release();
  return Status::Ok();
}

}  // namespace edgeward::tpm
