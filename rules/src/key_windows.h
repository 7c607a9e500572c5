// Per-key sliding windows for thresholds and rate limits, with a bounded key
// table. All memory is allocated up front; Hit/Allow never allocate.
//
// A key is the value of the rule's `per` field (or one shared key without
// `per`). Keys are told apart by (length, 64-bit FNV-1a hash, first 32 bytes):
// two distinct keys that agree on all three would share a window.
// When the table is full, the least recently seen key is evicted (its
// window is lost). Each key keeps the times of its last `count` events.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace edgeward::rules::internal {

inline constexpr uint32_t kDefaultMaxKeys = 1024;
inline constexpr uint32_t kMaxMaxKeys = 65536;
inline constexpr uint32_t kMaxWindowCount = 10000;

class KeyWindows {
 public:
  // count ≥ 1, within_ms ≥ 1, max_keys ≥ 1 (the loader checks the bounds).
  KeyWindows(uint32_t count, int64_t within_ms, uint32_t max_keys);

  // Threshold: records an event at `t` for `key`; true when this makes
  // `count` events whose times lie in (t - within, t]. Firing empties the
  // key's window, so the next firing needs `count` new events.
  bool Hit(std::string_view key, int64_t t);
  // Rate limit: true (and records `t`) when fewer than `count` earlier
  // allowed events of `key` lie in (t - within, t]; false otherwise.
  bool Allow(std::string_view key, int64_t t);

  size_t key_count() const { return live_; }
  uint64_t evictions() const { return evictions_; }

 private:
  struct Entry {
    uint64_t hash = 0;
    uint32_t len = 0;
    char prefix[32] = {};
    uint32_t head = 0;  // ring start in times_
    uint32_t n = 0;     // times held
    int32_t prev = -1, next = -1;  // LRU list, most recent at lru_head_
    int32_t slot = -1;  // index_ position
  };

  int32_t FindOrInsert(std::string_view key, uint64_t hash);
  void Touch(int32_t e);
  void Unlink(int32_t e);
  void EraseFromIndex(int32_t e);
  // Drops times ≤ t - within from the front of e's ring.
  void Expire(Entry& e, int64_t t);
  int64_t& Time(const Entry& e, uint32_t i) { return times_[size_t(&e - entries_.data()) * count_ + (e.head + i) % count_]; }

  uint32_t count_;
  int64_t within_ms_;
  uint32_t max_keys_;
  std::vector<Entry> entries_;
  std::vector<int64_t> times_;   // max_keys × count
  std::vector<int32_t> index_;   // open addressing, -1 empty; size pow2 ≥ 2×max_keys
  std::vector<int32_t> free_;    // unused entry ids (stack)
  int32_t lru_head_ = -1, lru_tail_ = -1;
  size_t live_ = 0;
  uint64_t evictions_ = 0;
};

}  // namespace edgeward::rules::internal
