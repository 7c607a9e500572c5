// Shared by the NV modules (nv.cc, nv_counter.cc, nv_write.cc): naming an
// index in messages and taking an ESAPI reference to it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "edgeward/tpm/tpm.h"
#include "internal/context.h"
#include "internal/object.h"
#include "internal/tss_status.h"

namespace edgeward::tpm::internal {

inline std::string NvIndexHex(uint32_t index) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", index);
  return buf;
}

// An ESAPI reference to the NV index (reads its public area from the TPM).
inline StatusOr<TpmObject> OpenNvIndex(Tpm& tpm, uint32_t index) {
  ESYS_TR tr = ESYS_TR_NONE;
  Status s = EW_TSS(
      Esys_TR_FromTPMPublic(tpm.context()->get(), index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr));
  if (!s.ok()) return s.WithContext("NV index " + NvIndexHex(index));
  return TpmObject(tpm.context(), tr, TpmObject::Kind::kReference);
}

}  // namespace edgeward::tpm::internal
