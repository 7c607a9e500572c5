#include "appraisal_key_cache.h"

#include <unordered_map>

namespace edgeward::attest::internal {
namespace {

// Enough for a verifier's working set of nodes; when full the cache is
// simply emptied (cheap, and entries in use stay alive via shared_ptr).
constexpr size_t kMaxEntries = 4096;

struct Cache {
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<const CachedAk>> entries;
};

Cache& TheCache() {
  static Cache* cache = new Cache();  // never destroyed: no exit-time order issues
  return *cache;
}

}  // namespace

std::shared_ptr<const CachedAk> LookupAk(ByteView ak_public, const TpmtPublic& ak) {
  Cache& c = TheCache();
  std::string k(AsChars(ak_public));
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.entries.find(k);
    if (it != c.entries.end()) return it->second;
  }
  // Built outside the lock: two threads may both build; either result is right.
  auto entry = std::make_shared<const CachedAk>(PublicKeyOf(ak));
  std::lock_guard<std::mutex> lock(c.mu);
  if (c.entries.size() >= kMaxEntries) c.entries.clear();
  return c.entries.emplace(std::move(k), std::move(entry)).first->second;
}

}  // namespace edgeward::attest::internal
