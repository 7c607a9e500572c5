#include "internal/object.h"

#include <spdlog/spdlog.h>

#include "internal/tss_status.h"

namespace edgeward::tpm::internal {

void TpmObject::Reset() {
  if (handle_ == ESYS_TR_NONE || !ctx_) return;
  ESYS_TR h = std::exchange(handle_, ESYS_TR_NONE);
  Status s = kind_ == Kind::kTransient ? EW_TSS(Esys_FlushContext(ctx_->get(), h))
                                       : EW_TSS(Esys_TR_Close(ctx_->get(), &h));
  // A TPM that went away has forgotten its transient objects anyway.
  if (!s.ok()) spdlog::debug("tpm: releasing handle: {}", s.ToString());
  if (!s.ok() && kind_ == Kind::kTransient) {
    // ESAPI keeps its record of the object when the flush fails; drop it so
    // the context's bookkeeping does not grow.
    (void)Esys_TR_Close(ctx_->get(), &h);
  }
  ctx_.reset();
}

}  // namespace edgeward::tpm::internal
