#include "edgeward/crypto/random.h"

#include <openssl/rand.h>

#include <climits>

#include "edgeward/crypto/openssl_ptr.h"

namespace edgeward::crypto {

Status RandomFill(std::span<uint8_t> out) {
  if (out.empty()) return Status::Ok();
  if (out.size() > INT_MAX) return InvalidArgument("RandomFill: request too large");
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) return OpensslError("RAND_bytes");
  return Status::Ok();
}

StatusOr<SecureBytes> RandomBytes(size_t n) {
  if (n > (1u << 20)) return InvalidArgument("RandomBytes: " + std::to_string(n) + " bytes is more than 1 MiB");
  SecureBytes out(n);
  EW_RETURN_IF_ERROR(RandomFill(out));
  return out;
}

}  // namespace edgeward::crypto
