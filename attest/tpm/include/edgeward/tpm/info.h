// What a TPM says about itself: TPM2_GetCapability, TPM2_TestParms,
// TPM2_ReadClock. Errors as described in tpm.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgeward/base/status.h"
#include "edgeward/crypto/hash.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::tpm {

// TPMS_CLOCK_INFO.
struct ClockInfo {
  uint64_t clock_ms = 0;       // time the TPM has been powered, in ms
  uint32_t reset_count = 0;    // TPM2_Startup(CLEAR) count
  uint32_t restart_count = 0;  // resumes since the last reset
  bool safe = false;           // clock has not gone backwards since last report
};

struct TpmInfo {
  uint32_t manufacturer_id = 0;  // TPM_PT_MANUFACTURER, e.g. 0x49424D00
  std::string manufacturer;      // its ASCII form, e.g. "IBM"
  std::string vendor;            // TPM_PT_VENDOR_STRING_1..4 concatenated, e.g. "SW   TPM"
  uint32_t firmware_version_1 = 0;
  uint32_t firmware_version_2 = 0;
  std::string firmware_version;  // "a.b.c.d" from the 16-bit halves of the two above
  std::string spec_family;       // TPM_PT_FAMILY_INDICATOR, "2.0"
  uint32_t spec_level = 0;       // TPM_PT_LEVEL
  uint32_t spec_revision = 0;    // TPM_PT_REVISION, e.g. 164 for 1.64
  uint32_t spec_year = 0;
  uint32_t spec_day_of_year = 0;
  bool ecc_p256 = false;  // an ECC NIST P-256 key is accepted (TPM2_TestParms)
  bool ecc_p384 = false;
  bool rsa_2048 = false;
  std::vector<crypto::HashAlg> pcr_banks;  // active banks, ascending alg id
  ClockInfo clock;
};

StatusOr<TpmInfo> GetTpmInfo(Tpm& tpm);
StatusOr<ClockInfo> ReadClock(Tpm& tpm);

// Loaded transient objects and sessions (TPM2_GetCapability(TPM_CAP_HANDLES)
// from TRANSIENT_FIRST, LOADED_SESSION_FIRST and ACTIVE_SESSION_FIRST). On a
// TPM without a resource manager these are the TPM's own counts; through
// /dev/tpmrm0 or tabrmd they are this connection's.
struct HandleCounts {
  uint32_t transient_objects = 0;
  uint32_t loaded_sessions = 0;
  uint32_t saved_sessions = 0;
};
StatusOr<HandleCounts> CountHandles(Tpm& tpm);

}  // namespace edgeward::tpm
