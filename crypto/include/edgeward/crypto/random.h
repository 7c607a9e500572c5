// Cryptographically secure random bytes from OpenSSL's DRBG.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "edgeward/base/status.h"
#include "edgeward/crypto/secure_bytes.h"

namespace edgeward::crypto {

// Fills `out`; RAND_bytes failure → kInternal (the DRBG could not seed).
Status RandomFill(std::span<uint8_t> out);
// `n` random bytes, in a buffer that is wiped when freed (fit for seeds and
// keys as well as nonces). n > 1 MiB → kInvalidArgument.
StatusOr<SecureBytes> RandomBytes(size_t n);

}  // namespace edgeward::crypto
