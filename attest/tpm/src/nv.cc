#include "edgeward/tpm/nv.h"

#include <cstdio>

#include "internal/capability.h"
#include "internal/context.h"
#include "internal/marshal.h"
#include "internal/nv_index.h"
#include "internal/object.h"
#include "internal/tss_status.h"

namespace edgeward::tpm {
namespace {

using internal::NvIndexHex;

}  // namespace

StatusOr<NvPublic> ReadNvPublic(Tpm& tpm, uint32_t index) {
  EW_ASSIGN_OR_RETURN(internal::TpmObject nv, internal::OpenNvIndex(tpm, index));
  internal::EsysPtr<TPM2B_NV_PUBLIC> pub;
  internal::EsysPtr<TPM2B_NAME> name;
  Status s = EW_TSS(Esys_NV_ReadPublic(tpm.context()->get(), nv.get(), ESYS_TR_NONE, ESYS_TR_NONE,
                                       ESYS_TR_NONE, internal::Out(pub), internal::Out(name)));
  if (!s.ok()) return s.WithContext("NV index " + NvIndexHex(index));
  NvPublic out;
  out.index = pub->nvPublic.nvIndex;
  out.name_alg = pub->nvPublic.nameAlg;
  out.attributes = pub->nvPublic.attributes;
  out.data_size = pub->nvPublic.dataSize;
  out.name = Bytes(name->name, name->name + name->size);
  EW_ASSIGN_OR_RETURN(out.marshalled, EW_MU_MARSHAL(TPM2B_NV_PUBLIC, *pub));
  return out;
}

StatusOr<Bytes> ReadNv(Tpm& tpm, uint32_t index) {
  EW_ASSIGN_OR_RETURN(NvPublic pub, ReadNvPublic(tpm, index));
  if ((pub.attributes & TPMA_NV_WRITTEN) == 0) {
    return FailedPrecondition("NV index " + NvIndexHex(index) + " has never been written");
  }
  EW_ASSIGN_OR_RETURN(uint32_t max_chunk, internal::GetTpmProperty(*tpm.context(), TPM2_PT_NV_BUFFER_MAX));
  if (max_chunk == 0 || max_chunk > sizeof(TPM2B_MAX_NV_BUFFER::buffer)) {
    max_chunk = sizeof(TPM2B_MAX_NV_BUFFER::buffer);
  }
  EW_ASSIGN_OR_RETURN(internal::TpmObject nv, internal::OpenNvIndex(tpm, index));
  Bytes out;
  out.reserve(pub.data_size);
  while (out.size() < pub.data_size) {
    uint16_t chunk = static_cast<uint16_t>(std::min<size_t>(max_chunk, pub.data_size - out.size()));
    internal::EsysPtr<TPM2B_MAX_NV_BUFFER> data;
    Status s =
        EW_TSS(Esys_NV_Read(tpm.context()->get(), nv.get(), nv.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                            ESYS_TR_NONE, chunk, static_cast<uint16_t>(out.size()), internal::Out(data)));
    if (!s.ok())
      return s.WithContext("NV index " + NvIndexHex(index) + " at offset " + std::to_string(out.size()));
    if (data->size == 0 || data->size > chunk)
      return Internal("Esys_NV_Read: returned a chunk of the wrong size");
    out.insert(out.end(), data->buffer, data->buffer + data->size);
  }
  return out;
}

}  // namespace edgeward::tpm
