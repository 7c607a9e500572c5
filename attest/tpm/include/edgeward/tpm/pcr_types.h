// PCR selections and PCR values: plain data shared by the TPM layer (which
// reads and quotes PCRs) and appraisal (which must not link TSS).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/hash.h"

namespace edgeward::tpm {

using crypto::HashAlg;

inline constexpr uint32_t kNumPcrs = 24;

// bank → set of PCR indices (each < kNumPcrs).
using PcrSelection = std::map<HashAlg, std::set<uint32_t>>;
// bank → index → value (DigestSize(bank) bytes).
using PcrValues = std::map<HashAlg, std::map<uint32_t, Bytes>>;

// Parses "sha256:0-9,14" or "sha1:0,1+sha256:0-7" or "sha256:0-9,sha1:0-7":
// a bank name starts a new bank; indices are comma separated; "a-b" is an
// inclusive range; '+' may also separate banks. Errors name the offending
// token. An empty string → kInvalidArgument.
StatusOr<PcrSelection> ParsePcrSelection(std::string_view text);

// Canonical text form: "sha1:0,1,2+sha256:0-9".
std::string FormatPcrSelection(const PcrSelection& sel);

// The selection that `values` covers.
PcrSelection SelectionOf(const PcrValues& values);

}  // namespace edgeward::tpm
