// Byte buffers for secrets (seeds, derived keys, plaintext credentials):
// every block they ever own is wiped with OPENSSL_cleanse before it is
// freed, including the old block when the vector grows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

namespace edgeward::crypto {

// Wipes `n` bytes at `p` in a way the compiler may not elide.
void Cleanse(void* p, size_t n);

template <typename T>
struct CleansingAllocator {
  using value_type = T;
  CleansingAllocator() noexcept = default;
  template <typename U>
  CleansingAllocator(const CleansingAllocator<U>&) noexcept {}  // NOLINT
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept {
    Cleanse(p, n * sizeof(T));
    ::operator delete(p);
  }
  template <typename U>
  bool operator==(const CleansingAllocator<U>&) const noexcept { return true; }
};

// Converts to ByteView like Bytes does (std::span over a contiguous range).
using SecureBytes = std::vector<uint8_t, CleansingAllocator<uint8_t>>;

}  // namespace edgeward::crypto
