#include "key_windows.h"

#include <algorithm>
#include <cstring>

namespace edgeward::rules::internal {
namespace {
uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}
}  // namespace

KeyWindows::KeyWindows(uint32_t count, int64_t within_ms, uint32_t max_keys)
    : count_(std::max<uint32_t>(count, 1)),
      within_ms_(std::max<int64_t>(within_ms, 1)),
      max_keys_(std::max<uint32_t>(max_keys, 1)),
      entries_(max_keys_),
      times_(size_t{max_keys_} * count_) {
  size_t cap = 1;
  while (cap < size_t{max_keys_} * 2) cap <<= 1;
  index_.assign(cap, -1);
  free_.reserve(max_keys_);
  for (uint32_t i = max_keys_; i > 0; --i) free_.push_back(static_cast<int32_t>(i - 1));
}

void KeyWindows::Unlink(int32_t id) {
  Entry& e = entries_[id];
  if (e.prev >= 0) entries_[e.prev].next = e.next; else lru_head_ = e.next;
  if (e.next >= 0) entries_[e.next].prev = e.prev; else lru_tail_ = e.prev;
  e.prev = e.next = -1;
}

void KeyWindows::Touch(int32_t id) {
  if (lru_head_ == id) return;
  Entry& cur = entries_[id];
  if (cur.prev >= 0 || cur.next >= 0) Unlink(id);  // a new entry is not linked yet
  Entry& e = entries_[id];
  e.next = lru_head_;
  if (lru_head_ >= 0) entries_[lru_head_].prev = id;
  lru_head_ = id;
  if (lru_tail_ < 0) lru_tail_ = id;
}

void KeyWindows::EraseFromIndex(int32_t id) {
  // Linear probing with backward-shift deletion: no tombstones, so probe
  // chains stay short however many keys come and go.
  const size_t mask = index_.size() - 1;
  size_t hole = static_cast<size_t>(entries_[id].slot);
  index_[hole] = -1;
  size_t j = hole;
  while (true) {
    j = (j + 1) & mask;
    int32_t k = index_[j];
    if (k < 0) break;
    size_t home = entries_[k].hash & mask;
    // Move k into the hole if its home is not in (hole, j].
    bool between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!between) {
      index_[hole] = k;
      entries_[k].slot = static_cast<int32_t>(hole);
      index_[j] = -1;
      hole = j;
    }
  }
  entries_[id].slot = -1;
}

int32_t KeyWindows::FindOrInsert(std::string_view key, uint64_t hash) {
  const size_t mask = index_.size() - 1;
  const size_t plen = std::min<size_t>(key.size(), sizeof(Entry::prefix));
  size_t i = hash & mask;
  while (index_[i] >= 0) {
    const Entry& e = entries_[index_[i]];
    if (e.hash == hash && e.len == key.size() && (plen == 0 || std::memcmp(e.prefix, key.data(), plen) == 0)) {
      return index_[i];
    }
    i = (i + 1) & mask;
  }
  if (free_.empty()) {  // full: evict the least recently seen key
    int32_t victim = lru_tail_;
    Unlink(victim);
    EraseFromIndex(victim);
    free_.push_back(victim);
    --live_;
    ++evictions_;
    // The probe position may have moved after the backward shift.
    i = hash & mask;
    while (index_[i] >= 0) i = (i + 1) & mask;
  }
  int32_t id = free_.back();
  free_.pop_back();
  Entry& e = entries_[id];
  e.hash = hash;
  e.len = static_cast<uint32_t>(key.size());
  std::memset(e.prefix, 0, sizeof e.prefix);
  if (plen > 0) std::memcpy(e.prefix, key.data(), plen);  // an empty key may have a null data()
  e.head = 0;
  e.n = 0;
  e.slot = static_cast<int32_t>(i);
  index_[i] = id;
  ++live_;
  return id;
}

void KeyWindows::Expire(Entry& e, int64_t t) {
  while (e.n > 0 && Time(e, 0) <= t - within_ms_) {
    e.head = (e.head + 1) % count_;
    --e.n;
  }
}

bool KeyWindows::Hit(std::string_view key, int64_t t) {
  int32_t id = FindOrInsert(key, Fnv1a(key));
  Touch(id);
  Entry& e = entries_[id];
  if (e.n > 0) t = std::max(t, Time(e, e.n - 1));  // time never runs backwards per key
  Expire(e, t);
  if (e.n == count_) {  // full ring of in-window times: drop the oldest
    e.head = (e.head + 1) % count_;
    --e.n;
  }
  Time(e, e.n) = t;
  ++e.n;
  if (e.n < count_) return false;
  e.n = 0;
  e.head = 0;
  return true;
}

bool KeyWindows::Allow(std::string_view key, int64_t t) {
  int32_t id = FindOrInsert(key, Fnv1a(key));
  Touch(id);
  Entry& e = entries_[id];
  if (e.n > 0) t = std::max(t, Time(e, e.n - 1));
  Expire(e, t);
  if (e.n >= count_) return false;
  Time(e, e.n) = t;
  ++e.n;
  return true;
}

}  // namespace edgeward::rules::internal
