// Helpers for code that runs in the child between clone() and execve():
// building short strings (paths, "a -> b" descriptions) in fixed stack
// buffers, without allocating, throwing or touching locks.
#pragma once

#include <cstddef>

namespace edgeward::sandbox::internal {

// A NUL-terminated string in a fixed buffer. Appends past the capacity are
// truncated and remembered (`overflowed()`), so a caller can refuse to use a
// truncated path instead of acting on the wrong one.
template <size_t N>
class FixedString {
 public:
  FixedString() { buf_[0] = '\0'; }
  explicit FixedString(const char* s) : FixedString() { Append(s); }

  FixedString& Append(const char* s) {
    if (s == nullptr) return *this;
    for (; *s != '\0'; ++s) {
      if (len_ + 1 >= N) {
        overflowed_ = true;
        break;
      }
      buf_[len_++] = *s;
    }
    buf_[len_] = '\0';
    return *this;
  }
  FixedString& AppendUnsigned(unsigned long long v) {
    char tmp[24];
    size_t n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0 && n < sizeof(tmp));
    char out[24];
    for (size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return Append(out);
  }

  const char* c_str() const { return buf_; }
  char* data() { return buf_; }
  size_t size() const { return len_; }
  bool overflowed() const { return overflowed_; }

 private:
  char buf_[N];
  size_t len_ = 0;
  bool overflowed_ = false;
};

using PathBuf = FixedString<4096>;
using WhatBuf = FixedString<192>;

}  // namespace edgeward::sandbox::internal
