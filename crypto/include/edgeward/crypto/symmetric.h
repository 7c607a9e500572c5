// HMAC, constant-time comparison and AES-CFB: the symmetric primitives of
// TPM credential protection (TPM 2.0 Part 1 §24).
#pragma once

#include <initializer_list>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/hash.h"
#include "edgeward/crypto/secure_bytes.h"

namespace edgeward::crypto {

// HMAC-`alg` over the concatenation of `parts`.
StatusOr<Bytes> Hmac(HashAlg alg, ByteView key, std::initializer_list<ByteView> parts);

// Constant-time (CRYPTO_memcmp) equality; false when the sizes differ (the
// size itself is not secret).
bool ConstantTimeEquals(ByteView a, ByteView b);

// AES in full-block CFB mode (CFB128), as the TPM uses for parameter and
// credential encryption. key is 16, 24 or 32 bytes; iv is 16 bytes; any
// other size → kInvalidArgument. The output has the input's length.
StatusOr<Bytes> AesCfbEncrypt(ByteView key, ByteView iv, ByteView plaintext);
StatusOr<SecureBytes> AesCfbDecrypt(ByteView key, ByteView iv, ByteView ciphertext);

}  // namespace edgeward::crypto
