// Owners for the ESAPI and TCTI handles, and the shared context that every
// TPM object of one Tpm refers to.
#pragma once

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include <memory>

#include "edgeward/tpm/tcti.h"

namespace edgeward::tpm::internal {

struct TctiDeleter {
  void operator()(TSS2_TCTI_CONTEXT* t) const { Tss2_TctiLdr_Finalize(&t); }
};
using TctiPtr = std::unique_ptr<TSS2_TCTI_CONTEXT, TctiDeleter>;

struct EsysContextDeleter {
  void operator()(ESYS_CONTEXT* c) const { Esys_Finalize(&c); }
};
using EsysContextPtr = std::unique_ptr<ESYS_CONTEXT, EsysContextDeleter>;

// Buffers that ESAPI allocates for output parameters.
struct EsysFreeDeleter {
  void operator()(void* p) const { Esys_Free(p); }
};
template <typename T>
using EsysPtr = std::unique_ptr<T, EsysFreeDeleter>;

// Adapts an EsysPtr to an ESAPI out-parameter (T**): the pointer is adopted
// when the full expression ends, also when the call failed.
template <typename T>
class EsysOut {
 public:
  explicit EsysOut(EsysPtr<T>& owner) : owner_(owner) {}
  ~EsysOut() { owner_.reset(raw_); }
  EsysOut(const EsysOut&) = delete;
  EsysOut& operator=(const EsysOut&) = delete;
  operator T**() { return &raw_; }  // NOLINT: implicit by design

 private:
  EsysPtr<T>& owner_;
  T* raw_ = nullptr;
};
template <typename T>
EsysOut<T> Out(EsysPtr<T>& owner) {
  return EsysOut<T>(owner);
}

// One open TPM. Shared (via shared_ptr) by the Tpm and every object loaded
// through it, so objects are flushed before the ESAPI context goes away.
// Member order is teardown order: ESAPI is finalized before its TCTI.
struct Context {
  TctiConfig tcti_config;
  TctiPtr tcti;
  EsysContextPtr esys;

  ESYS_CONTEXT* get() const { return esys.get(); }
};

}  // namespace edgeward::tpm::internal
