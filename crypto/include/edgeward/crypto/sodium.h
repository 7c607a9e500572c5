// libsodium plumbing: one-time initialisation, and GuardedBytes — secret
// material in libsodium's guarded memory (guard pages around it, locked out
// of swap, wiped by sodium_free when the owner goes away).
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"

namespace edgeward::crypto {

// sodium_init() once per process (thread-safe). Failure → kInternal.
Status EnsureSodium();

// A move-only, fixed-size buffer from sodium_malloc. Zero-filled on
// allocation; wiped and unmapped on destruction.
class GuardedBytes {
 public:
  GuardedBytes() = default;
  // n == 0 or n > 1 MiB → kInvalidArgument; sodium_malloc failure →
  // kResourceExhausted (e.g. RLIMIT_MEMLOCK reached).
  static StatusOr<GuardedBytes> Allocate(size_t n);
  // A guarded copy of `data`.
  static StatusOr<GuardedBytes> CopyOf(ByteView data);
  ~GuardedBytes();
  GuardedBytes(GuardedBytes&& o) noexcept;
  GuardedBytes& operator=(GuardedBytes&& o) noexcept;
  GuardedBytes(const GuardedBytes&) = delete;
  GuardedBytes& operator=(const GuardedBytes&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  ByteView view() const { return ByteView(data_, size_); }
  bool empty() const { return size_ == 0; }

 private:
  GuardedBytes(uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace edgeward::crypto
