// Byte buffers for secrets (seeds, derived keys, plaintext credentials):
// every block they ever own is wiped with OPENSSL_cleanse before it is
// freed, including the old block when the vector grows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgeward::crypto {

// Wipes `n` bytes at `p` in a way the compiler may not elide.
void Cleanse(void* p, size_t n);

// Out of line on purpose: the allocator's memory management stays opaque
// to the optimizer (GCC 12 otherwise misreports -Wfree-nonheap-object).
void* SecureAllocate(size_t n);
void SecureFree(void* p, size_t n) noexcept;  // Cleanse, then free

template <typename T>
struct CleansingAllocator {
  using value_type = T;
  CleansingAllocator() noexcept = default;
  template <typename U>
  CleansingAllocator(const CleansingAllocator<U>&) noexcept {}  // NOLINT
  T* allocate(size_t n) { return static_cast<T*>(SecureAllocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { SecureFree(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const CleansingAllocator<U>&) const noexcept { return true; }
};

// Converts to ByteView like Bytes does (std::span over a contiguous range).
using SecureBytes = std::vector<uint8_t, CleansingAllocator<uint8_t>>;

}  // namespace edgeward::crypto
