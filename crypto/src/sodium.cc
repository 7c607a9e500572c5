#include "edgeward/crypto/sodium.h"

#include <sodium.h>

#include <cstring>
#include <mutex>
#include <utility>

namespace edgeward::crypto {

Status EnsureSodium() {
  static std::once_flag once;
  static int result = -1;
  std::call_once(once, [] { result = sodium_init(); });
  // 0: initialised now, 1: already initialised (by another library).
  if (result < 0) return Internal("sodium_init: libsodium could not initialise");
  return Status::Ok();
}

StatusOr<GuardedBytes> GuardedBytes::Allocate(size_t n) {
  if (n == 0 || n > (1u << 20)) return InvalidArgument("GuardedBytes: size " + std::to_string(n) + " out of range");
  EW_RETURN_IF_ERROR(EnsureSodium());
  void* p = sodium_malloc(n);
  if (p == nullptr) return ResourceExhausted("sodium_malloc(" + std::to_string(n) + "): out of locked memory");
  std::memset(p, 0, n);  // sodium_malloc fills with 0xdb
  return GuardedBytes(static_cast<uint8_t*>(p), n);
}

StatusOr<GuardedBytes> GuardedBytes::CopyOf(ByteView data) {
  EW_ASSIGN_OR_RETURN(GuardedBytes g, Allocate(data.size()));
  std::memcpy(g.data(), data.data(), data.size());
  return g;
}

GuardedBytes::~GuardedBytes() {
  if (data_ != nullptr) sodium_free(data_);  // wipes before unmapping
}

GuardedBytes::GuardedBytes(GuardedBytes&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

GuardedBytes& GuardedBytes::operator=(GuardedBytes&& o) noexcept {
  if (this != &o) {
    if (data_ != nullptr) sodium_free(data_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

}  // namespace edgeward::crypto
