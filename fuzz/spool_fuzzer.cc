// Fuzzes the spool's segment reader (agent/channel spool_segment.h): any
// bytes on disk must produce a clean scan result (intact prefix + damage),
// never a crash, an unbounded allocation or an out-of-bounds read. Seeds in
// fuzz/corpus/spool/ are real segments written under kKey, so mutations
// reach the record parser and the AEAD path.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "edgeward/channel/spool_segment.h"

namespace {
constexpr uint8_t kFill = 0x42;  // the seeds' data key: 32 bytes of 0x42
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeward;
  static const Bytes key(channel::kSpoolKeyBytes, kFill);
  uint64_t last_end = channel::kSegmentHeaderBytes;
  auto scan = channel::ReadSegment(ByteView(data, size), key, [&](const channel::RecordMeta& m, ByteView payload) {
    // Records are contiguous, inside the input, and their sizes add up.
    if (m.offset != last_end || m.offset + m.total_bytes > size ||
        payload.size() + channel::kRecordHeaderBytes + channel::kRecordOverheadBytes != m.total_bytes) {
      std::abort();
    }
    last_end = m.offset + m.total_bytes;
    return true;
  });
  if (!scan.ok()) std::abort();  // the key is well-formed: never an error
  if (scan->valid_bytes > size || (scan->damage.ok() && scan->valid_bytes != size)) std::abort();
  return 0;
}
