// Tpm: one open connection to a TPM 2.0 (TCTI + ESAPI context).
//
// Ownership: a Tpm owns the TCTI and ESAPI context. Objects created through
// it (Ek, LoadedAk, sessions) share that context and flush their TPM handles
// in their destructors, before the context is finalized — they may outlive
// the Tpm object safely, and keep the connection open until the last of them
// is gone.
//
// Thread safety: none. A Tpm and everything created through it must be used
// from one thread at a time (ESAPI contexts are not thread-safe).
//
// Errors from every TPM call name the ESAPI function and carry the decoded
// TSS2 response code. A TPM that cannot be reached (connection refused or
// lost, device missing) → kUnavailable; out of TPM object/session memory →
// kResourceExhausted.
#pragma once

#include <memory>
#include <string_view>

#include "edgeward/base/status.h"
#include "edgeward/tpm/tcti.h"

namespace edgeward::tpm {

namespace internal {
struct Context;
}  // namespace internal

class Tpm {
 public:
  // Resolves `tcti_config` (see ResolveTcti), loads the TCTI and initializes
  // ESAPI. Does not send TPM2_Startup (the kernel or simulator has done it).
  static StatusOr<Tpm> Open(std::string_view tcti_config);

  Tpm(Tpm&&) noexcept;
  Tpm& operator=(Tpm&&) noexcept;
  Tpm(const Tpm&) = delete;
  Tpm& operator=(const Tpm&) = delete;
  ~Tpm();

  const TctiConfig& tcti() const;

  // For edgeward::tpm's own implementation files.
  const std::shared_ptr<internal::Context>& context() const { return ctx_; }

 private:
  explicit Tpm(std::shared_ptr<internal::Context> ctx);
  std::shared_ptr<internal::Context> ctx_;
};

}  // namespace edgeward::tpm
