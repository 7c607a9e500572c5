// How a sandbox setup step running in the child (between clone() and
// execve()) reports failure. The child must not allocate or throw, so it
// can't build a Status: a step fills this fixed-size record and returns
// false; the launcher sends it to the parent over a pipe, where it becomes
// "sandbox step 'landlock': landlock_add_rule(/var/lib/sensor): Permission denied".
#pragma once

#include <cstddef>

namespace edgeward::sandbox {

struct ChildFailure {
  char step[24] = {};   // "cgroup", "mounts", "landlock", "seccomp", ...
  char call[40] = {};   // the failing syscall, as written: "pivot_root"
  char what[192] = {};  // its object: a path, a value
  int err = 0;          // errno
};

// Copies the strings with truncation (no allocation; async-signal-safe).
// `what` may be nullptr. Always returns false, so a step can
// `return SetChildFailure(f, "mounts", "mount", path, errno);`.
inline bool SetChildFailure(ChildFailure* f, const char* step, const char* call, const char* what,
                            int err) {
  auto copy = [](char* dst, size_t cap, const char* src) {
    size_t i = 0;
    if (src != nullptr) {
      for (; i + 1 < cap && src[i] != '\0'; ++i) dst[i] = src[i];
    }
    dst[i] = '\0';
  };
  copy(f->step, sizeof(f->step), step);
  copy(f->call, sizeof(f->call), call);
  copy(f->what, sizeof(f->what), what);
  f->err = err;
  return false;
}

}  // namespace edgeward::sandbox
