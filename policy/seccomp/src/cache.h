// The BPF cache: compiled programs stored by the hash of what they were
// compiled from, integrity-checked on load.
#pragma once

#include <optional>
#include <string>

#include "build.h"
#include "edgeward/base/status.h"

namespace edgeward::seccomp::internal {

// The cache key (hex SHA-256) for a table compiled with `supervise`, bound to
// the libseccomp version and this cache format.
std::string CacheKey(const DecisionTable& table, bool supervise);

// The programs stored under `key`, or nullopt when there is no entry or it
// fails the checks (bad trailer hash, wrong key/format, not ours, group- or
// world-writable); a bad entry is logged and treated as a miss.
std::optional<Programs> CacheLoad(const std::string& dir, const std::string& key);

// Stores (0600, atomically) under `key`, creating `dir` 0700.
Status CacheStore(const std::string& dir, const std::string& key, const Programs& programs);

}  // namespace edgeward::seccomp::internal
