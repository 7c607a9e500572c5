#include "edgeward/crypto/secure_bytes.h"

#include <openssl/crypto.h>

#include <new>

namespace edgeward::crypto {

void Cleanse(void* p, size_t n) {
  if (p != nullptr && n != 0) OPENSSL_cleanse(p, n);
}

void* SecureAllocate(size_t n) { return ::operator new(n); }

void SecureFree(void* p, size_t n) noexcept {
  Cleanse(p, n);
  ::operator delete(p);
}

}  // namespace edgeward::crypto
