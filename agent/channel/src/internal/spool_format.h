// Byte-level helpers for the spool's segment and ack-log formats.
#pragma once

#include <cstdint>

#include "edgeward/base/status.h"
#include "edgeward/channel/spool_segment.h"

namespace edgeward::channel::internal {

inline constexpr uint8_t kSegmentMagic[8] = {'E', 'W', 'S', 'P', 'O', 'O', 'L', '1'};
inline constexpr uint8_t kRecordMagic[4] = {'E', 'W', 'R', '1'};

void PutU32(uint8_t* p, uint32_t v);
void PutU64(uint8_t* p, uint64_t v);
uint32_t GetU32(const uint8_t* p);
uint64_t GetU64(const uint8_t* p);

struct ParsedRecordHeader {
  uint32_t cipher_len = 0;
  MessageId id{};
  uint64_t seq = 0;
  Priority priority = Priority::kEvent;
};
void EncodeRecordHeader(uint8_t* out, uint32_t cipher_len, const MessageId& id, uint64_t seq, Priority priority);
// Checks magic, length bounds and priority → kDataLoss naming the offset.
StatusOr<ParsedRecordHeader> ParseRecordHeader(const uint8_t* in, uint64_t offset);

}  // namespace edgeward::channel::internal
