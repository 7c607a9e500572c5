#include "edgeward/tpm/tpm.h"

#include "internal/context.h"
#include "internal/tss_status.h"

namespace edgeward::tpm {

Tpm::Tpm(std::shared_ptr<internal::Context> ctx) : ctx_(std::move(ctx)) {}
Tpm::Tpm(Tpm&&) noexcept = default;
Tpm& Tpm::operator=(Tpm&&) noexcept = default;
Tpm::~Tpm() = default;

const TctiConfig& Tpm::tcti() const { return ctx_->tcti_config; }

StatusOr<Tpm> Tpm::Open(std::string_view tcti_config) {
  EW_ASSIGN_OR_RETURN(TctiConfig cfg, ResolveTcti(tcti_config));
  auto ctx = std::make_shared<internal::Context>();
  ctx->tcti_config = cfg;
  const std::string conf = cfg.ToString();
  TSS2_TCTI_CONTEXT* tcti = nullptr;
  Status s = EW_TSS(Tss2_TctiLdr_Initialize(conf.c_str(), &tcti));
  ctx->tcti.reset(tcti);
  if (!s.ok()) {
    // tctildr reports a module it cannot load, or a device/socket it cannot
    // open, with the same few codes; either way the TPM is not reachable.
    return Status(StatusCode::kUnavailable, "TPM via TCTI '" + conf + "': " + s.message());
  }
  ESYS_CONTEXT* esys = nullptr;
  s = EW_TSS(Esys_Initialize(&esys, ctx->tcti.get(), nullptr));
  ctx->esys.reset(esys);
  if (!s.ok()) return s.WithContext("TPM via TCTI '" + conf + "'");
  return Tpm(std::move(ctx));
}

}  // namespace edgeward::tpm
