// TPM2_Quote over a PCR selection with a verifier's nonce.
#pragma once

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/tpm/ak.h"
#include "edgeward/tpm/ek.h"
#include "edgeward/tpm/pcr_types.h"

namespace edgeward::tpm {

inline constexpr size_t kMaxQuoteNonceBytes = 64;

struct Quote {
  Bytes attest;     // marshalled TPMS_ATTEST (the contents of TPM2B_ATTEST)
  Bytes signature;  // marshalled TPMT_SIGNATURE
  // The PCR values the quote covers, read right after it: their digest (with
  // the AK's signing hash, in the quote's selection order) equals the
  // pcrDigest inside `attest`.
  PcrValues pcrs;
};

// Quotes `selection` with a loaded AK; `nonce` becomes qualifyingData.
// If a PCR changes between the quote and the read (another process
// extended it), quotes again, up to 3 attempts, then kUnavailable.
// Nonce longer than kMaxQuoteNonceBytes, or an empty selection →
// kInvalidArgument; a bank the TPM does not have → kInvalidArgument.
StatusOr<Quote> CreateQuote(const LoadedAk& ak, ByteView nonce, const PcrSelection& selection);

// Loads `ak` under `ek`, quotes, and flushes the AK again.
StatusOr<Quote> CreateQuote(const Ek& ek, const Ak& ak, ByteView nonce, const PcrSelection& selection);

}  // namespace edgeward::tpm
