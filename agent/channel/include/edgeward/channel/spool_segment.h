// The on-disk format of one spool segment (docs/spool.md), and its reader.
// Shared by the spool and the spool_fuzzer; nothing else should need it.
//
// Segment file (all integers big-endian):
//   8 bytes   magic "EWSPOOL1"
//   24 bytes  crypto_secretstream_xchacha20poly1305 header (one stream per
//             segment, under the spool's data key)
//   records, each:
//     4 bytes  magic "EWR1"
//     4 bytes  ciphertext length L (payload + 17-byte secretstream overhead)
//     16 bytes message id (random)
//     8 bytes  sequence number
//     1 byte   priority (0 attestation, 1 event, 2 telemetry)
//     L bytes  secretstream ciphertext; the 33 header bytes are its
//              additional data, so the tag covers them too.
// The stream chains records: a record can be decrypted only after every
// record before it in the segment, and a damaged record ends the readable
// part of its segment.
#pragma once

#include <array>
#include <cstdint>
#include <functional>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"

namespace edgeward::channel {

inline constexpr size_t kSpoolKeyBytes = 32;
inline constexpr size_t kMessageIdBytes = 16;
inline constexpr size_t kSegmentHeaderBytes = 8 + 24;
inline constexpr size_t kRecordHeaderBytes = 4 + 4 + kMessageIdBytes + 8 + 1;
inline constexpr size_t kRecordOverheadBytes = 17;  // crypto_secretstream ABYTES
inline constexpr size_t kMaxRecordPayloadBytes = 1u << 20;
inline constexpr int kNumPriorities = 3;

using MessageId = std::array<uint8_t, kMessageIdBytes>;

enum class Priority : uint8_t { kAttestation = 0, kEvent = 1, kTelemetry = 2 };

struct RecordMeta {
  MessageId id{};
  uint64_t seq = 0;
  Priority priority = Priority::kEvent;
  uint64_t offset = 0;       // of the record header in the segment
  uint32_t total_bytes = 0;  // header + ciphertext
};

// What ReadSegment found. `valid_bytes` is the length of the intact prefix
// (the segment header plus every record that decrypted). `damage` is OK
// when the whole input was intact, else kDataLoss saying what was wrong
// ("bad segment magic", "torn record at offset N", "record N does not
// authenticate", ...).
struct SegmentScan {
  uint64_t valid_bytes = 0;
  size_t records = 0;
  Status damage;
};

// Reads a segment image with `key` (kSpoolKeyBytes). `on_record` (may be
// empty) is called for each intact record in order with its metadata and
// plaintext; returning false stops the scan early (damage stays OK). Never
// fails for malformed input — that is reported in SegmentScan::damage; a
// key of the wrong size → kInvalidArgument.
StatusOr<SegmentScan> ReadSegment(ByteView image, ByteView key,
                                  const std::function<bool(const RecordMeta&, ByteView payload)>& on_record);

}  // namespace edgeward::channel
