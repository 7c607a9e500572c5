#include "edgeward/tpm/info.h"

#include <algorithm>

#include "internal/capability.h"
#include "internal/context.h"
#include "internal/tss_status.h"

namespace edgeward::tpm {
namespace {

// TPM property words hold up to four ASCII characters, big-endian, NUL padded.
std::string PropertyChars(uint32_t v) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) {
    char c = static_cast<char>((v >> shift) & 0xFF);
    if (c != '\0') s += c;
  }
  return s;
}

TPMT_PUBLIC_PARMS EccParms(TPM2_ECC_CURVE curve) {
  TPMT_PUBLIC_PARMS p{};
  p.type = TPM2_ALG_ECC;
  p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
  p.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
  p.parameters.eccDetail.curveID = curve;
  p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  return p;
}

TPMT_PUBLIC_PARMS RsaParms(uint16_t bits) {
  TPMT_PUBLIC_PARMS p{};
  p.type = TPM2_ALG_RSA;
  p.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
  p.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
  p.parameters.rsaDetail.keyBits = bits;
  p.parameters.rsaDetail.exponent = 0;
  return p;
}

}  // namespace

StatusOr<ClockInfo> ReadClock(Tpm& tpm) {
  internal::EsysPtr<TPMS_TIME_INFO> t;
  EW_RETURN_IF_ERROR(EW_TSS(
      Esys_ReadClock(tpm.context()->get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, internal::Out(t))));
  ClockInfo c;
  c.clock_ms = t->clockInfo.clock;
  c.reset_count = t->clockInfo.resetCount;
  c.restart_count = t->clockInfo.restartCount;
  c.safe = t->clockInfo.safe == TPM2_YES;
  return c;
}

StatusOr<TpmInfo> GetTpmInfo(Tpm& tpm) {
  internal::Context& ctx = *tpm.context();
  EW_ASSIGN_OR_RETURN(auto props, internal::GetTpmProperties(ctx, TPM2_PT_FIXED, TPM2_MAX_TPM_PROPERTIES));
  auto prop = [&props](uint32_t p) -> uint32_t {
    auto it = props.find(p);
    return it == props.end() ? 0 : it->second;
  };
  TpmInfo info;
  info.manufacturer_id = prop(TPM2_PT_MANUFACTURER);
  info.manufacturer = PropertyChars(info.manufacturer_id);
  for (uint32_t p :
       {TPM2_PT_VENDOR_STRING_1, TPM2_PT_VENDOR_STRING_2, TPM2_PT_VENDOR_STRING_3, TPM2_PT_VENDOR_STRING_4}) {
    info.vendor += PropertyChars(prop(p));
  }
  info.firmware_version_1 = prop(TPM2_PT_FIRMWARE_VERSION_1);
  info.firmware_version_2 = prop(TPM2_PT_FIRMWARE_VERSION_2);
  info.firmware_version = std::to_string(info.firmware_version_1 >> 16) + "." +
                          std::to_string(info.firmware_version_1 & 0xFFFF) + "." +
                          std::to_string(info.firmware_version_2 >> 16) + "." +
                          std::to_string(info.firmware_version_2 & 0xFFFF);
  info.spec_family = PropertyChars(prop(TPM2_PT_FAMILY_INDICATOR));
  info.spec_level = prop(TPM2_PT_LEVEL);
  info.spec_revision = prop(TPM2_PT_REVISION);
  info.spec_year = prop(TPM2_PT_YEAR);
  info.spec_day_of_year = prop(TPM2_PT_DAY_OF_YEAR);

  EW_ASSIGN_OR_RETURN(info.ecc_p256, internal::TestParms(ctx, EccParms(TPM2_ECC_NIST_P256)));
  EW_ASSIGN_OR_RETURN(info.ecc_p384, internal::TestParms(ctx, EccParms(TPM2_ECC_NIST_P384)));
  EW_ASSIGN_OR_RETURN(info.rsa_2048, internal::TestParms(ctx, RsaParms(2048)));

  EW_ASSIGN_OR_RETURN(TPML_PCR_SELECTION alloc, internal::GetPcrAllocation(ctx));
  for (uint32_t i = 0; i < alloc.count; ++i) {
    const TPMS_PCR_SELECTION& s = alloc.pcrSelections[i];
    bool any = false;
    for (uint8_t b = 0; b < s.sizeofSelect; ++b) any = any || s.pcrSelect[b] != 0;
    auto alg = crypto::HashAlgFromTpmId(s.hash);
    if (any && alg) info.pcr_banks.push_back(*alg);
  }
  std::sort(info.pcr_banks.begin(), info.pcr_banks.end());
  EW_ASSIGN_OR_RETURN(info.clock, ReadClock(tpm));
  return info;
}

StatusOr<HandleCounts> CountHandles(Tpm& tpm) {
  internal::Context& ctx = *tpm.context();
  HandleCounts c;
  EW_ASSIGN_OR_RETURN(auto transient, internal::GetHandles(ctx, TPM2_TRANSIENT_FIRST, 0x01000000));
  EW_ASSIGN_OR_RETURN(auto loaded, internal::GetHandles(ctx, TPM2_LOADED_SESSION_FIRST, 0x01000000));
  EW_ASSIGN_OR_RETURN(auto saved, internal::GetHandles(ctx, TPM2_ACTIVE_SESSION_FIRST, 0x01000000));
  c.transient_objects = static_cast<uint32_t>(transient.size());
  c.loaded_sessions = static_cast<uint32_t>(loaded.size());
  c.saved_sessions = static_cast<uint32_t>(saved.size());
  return c;
}

}  // namespace edgeward::tpm
