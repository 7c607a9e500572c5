// TpmObject: a move-only owner of one ESYS_TR — a transient object or
// session (flushed from the TPM on destruction) or an ESAPI reference to a
// persistent object or NV index (only ESAPI's bookkeeping is released).
#pragma once

#include <tss2/tss2_esys.h>

#include <memory>
#include <utility>

#include "internal/context.h"

namespace edgeward::tpm::internal {

class TpmObject {
 public:
  enum class Kind {
    kTransient,  // object or session in TPM memory: Esys_FlushContext
    kReference,  // persistent object / NV index: Esys_TR_Close
  };

  TpmObject() = default;
  TpmObject(std::shared_ptr<Context> ctx, ESYS_TR handle, Kind kind)
      : ctx_(std::move(ctx)), handle_(handle), kind_(kind) {}
  ~TpmObject() { Reset(); }
  TpmObject(TpmObject&& o) noexcept
      : ctx_(std::move(o.ctx_)), handle_(std::exchange(o.handle_, ESYS_TR_NONE)), kind_(o.kind_) {}
  TpmObject& operator=(TpmObject&& o) noexcept {
    if (this != &o) {
      Reset();
      ctx_ = std::move(o.ctx_);
      handle_ = std::exchange(o.handle_, ESYS_TR_NONE);
      kind_ = o.kind_;
    }
    return *this;
  }
  TpmObject(const TpmObject&) = delete;
  TpmObject& operator=(const TpmObject&) = delete;

  ESYS_TR get() const { return handle_; }
  bool valid() const { return handle_ != ESYS_TR_NONE; }
  Kind kind() const { return kind_; }
  const std::shared_ptr<Context>& context() const { return ctx_; }

  // Flushes/closes now. A failure (e.g. the TPM went away) is logged; the
  // handle is forgotten either way.
  void Reset();
  // Forgets the handle without touching the TPM or ESAPI — for commands
  // after which ESAPI has already dropped the object (NV_UndefineSpace).
  ESYS_TR Release() { return std::exchange(handle_, ESYS_TR_NONE); }

 private:
  std::shared_ptr<Context> ctx_;  // outlives handle_: declared first
  ESYS_TR handle_ = ESYS_TR_NONE;
  Kind kind_ = Kind::kTransient;
};

}  // namespace edgeward::tpm::internal
