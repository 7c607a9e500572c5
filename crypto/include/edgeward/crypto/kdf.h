// The key derivation functions of TPM 2.0 Part 1 §11.4.10.
#pragma once

#include <cstddef>
#include <string_view>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/hash.h"
#include "edgeward/crypto/secure_bytes.h"

namespace edgeward::crypto {

// KDFa (§11.4.10.2): SP 800-108 counter mode with HMAC-`alg`.
//   K(i) = HMAC(key, [i]32 || label || 0x00 || context_u || context_v || [bits]32)
// The label is given without its terminating NUL (one is always appended,
// as the TPM does for labels like "STORAGE"). Returns ceil(bits/8) bytes; if
// bits is not a multiple of 8, the unused high-order bits of the first byte
// are cleared. bits == 0 or > 65536, or an unsupported alg →
// kInvalidArgument.
StatusOr<SecureBytes> KdfA(HashAlg alg, ByteView key, std::string_view label, ByteView context_u,
                           ByteView context_v, size_t bits);

// KDFe (§11.4.10.3): SP 800-56A concatenation KDF with `alg`.
//   K(i) = H([i]32 || z || label || 0x00 || party_u || party_v)
// Same label, length and error rules as KdfA.
StatusOr<SecureBytes> KdfE(HashAlg alg, ByteView z, std::string_view label, ByteView party_u,
                           ByteView party_v, size_t bits);

}  // namespace edgeward::crypto
