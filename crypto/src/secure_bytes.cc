#include "edgeward/crypto/secure_bytes.h"

#include <openssl/crypto.h>

namespace edgeward::crypto {

void Cleanse(void* p, size_t n) {
  if (p != nullptr && n != 0) OPENSSL_cleanse(p, n);
}

}  // namespace edgeward::crypto
