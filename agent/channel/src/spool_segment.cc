#include "edgeward/channel/spool_segment.h"

#include <sodium.h>

#include <cstring>
#include <string>

#include "edgeward/crypto/secure_bytes.h"
#include "edgeward/crypto/sodium.h"
#include "internal/spool_format.h"

namespace edgeward::channel {

static_assert(crypto_secretstream_xchacha20poly1305_HEADERBYTES == 24);
static_assert(crypto_secretstream_xchacha20poly1305_ABYTES == kRecordOverheadBytes);
static_assert(crypto_secretstream_xchacha20poly1305_KEYBYTES == kSpoolKeyBytes);

namespace internal {

void PutU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
void PutU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}
uint32_t GetU32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | p[i];
  return v;
}
uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

void EncodeRecordHeader(uint8_t* out, uint32_t cipher_len, const MessageId& id, uint64_t seq, Priority priority) {
  std::memcpy(out, kRecordMagic, 4);
  PutU32(out + 4, cipher_len);
  std::memcpy(out + 8, id.data(), kMessageIdBytes);
  PutU64(out + 8 + kMessageIdBytes, seq);
  out[8 + kMessageIdBytes + 8] = static_cast<uint8_t>(priority);
}

StatusOr<ParsedRecordHeader> ParseRecordHeader(const uint8_t* in, uint64_t offset) {
  if (std::memcmp(in, kRecordMagic, 4) != 0) {
    return DataLoss("bad record magic at offset " + std::to_string(offset));
  }
  ParsedRecordHeader h;
  h.cipher_len = GetU32(in + 4);
  std::memcpy(h.id.data(), in + 8, kMessageIdBytes);
  h.seq = GetU64(in + 8 + kMessageIdBytes);
  uint8_t p = in[8 + kMessageIdBytes + 8];
  if (h.cipher_len < kRecordOverheadBytes || h.cipher_len > kMaxRecordPayloadBytes + kRecordOverheadBytes) {
    return DataLoss("record length " + std::to_string(h.cipher_len) + " out of range at offset " +
                    std::to_string(offset));
  }
  if (p >= kNumPriorities) {
    return DataLoss("record priority " + std::to_string(p) + " unknown at offset " + std::to_string(offset));
  }
  h.priority = static_cast<Priority>(p);
  return h;
}

}  // namespace internal

StatusOr<SegmentScan> ReadSegment(ByteView image, ByteView key,
                                  const std::function<bool(const RecordMeta&, ByteView payload)>& on_record) {
  if (key.size() != kSpoolKeyBytes) return InvalidArgument("spool key must be 32 bytes");
  EW_RETURN_IF_ERROR(crypto::EnsureSodium());
  SegmentScan scan;
  if (image.size() < kSegmentHeaderBytes) {
    scan.damage = DataLoss("torn segment header (" + std::to_string(image.size()) + " bytes)");
    return scan;
  }
  if (std::memcmp(image.data(), internal::kSegmentMagic, 8) != 0) {
    scan.damage = DataLoss("bad segment magic");
    return scan;
  }
  crypto_secretstream_xchacha20poly1305_state state;
  if (crypto_secretstream_xchacha20poly1305_init_pull(&state, image.data() + 8, key.data()) != 0) {
    scan.damage = DataLoss("bad secretstream header");
    return scan;
  }
  uint64_t off = kSegmentHeaderBytes;
  scan.valid_bytes = off;
  crypto::SecureBytes plain;
  while (off < image.size()) {
    if (image.size() - off < kRecordHeaderBytes) {
      scan.damage = DataLoss("torn record header at offset " + std::to_string(off));
      break;
    }
    auto header = internal::ParseRecordHeader(image.data() + off, off);
    if (!header.ok()) {
      scan.damage = header.status();
      break;
    }
    if (image.size() - off - kRecordHeaderBytes < header->cipher_len) {
      scan.damage = DataLoss("torn record at offset " + std::to_string(off));
      break;
    }
    plain.resize(header->cipher_len - kRecordOverheadBytes);
    unsigned char tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(&state, plain.data(), nullptr, &tag,
                                                   image.data() + off + kRecordHeaderBytes, header->cipher_len,
                                                   image.data() + off, kRecordHeaderBytes) != 0 ||
        tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
      scan.damage = DataLoss("record " + std::to_string(scan.records) + " at offset " + std::to_string(off) +
                             " does not authenticate");
      break;
    }
    RecordMeta meta;
    meta.id = header->id;
    meta.seq = header->seq;
    meta.priority = header->priority;
    meta.offset = off;
    meta.total_bytes = static_cast<uint32_t>(kRecordHeaderBytes + header->cipher_len);
    off += meta.total_bytes;
    scan.valid_bytes = off;
    ++scan.records;
    if (on_record && !on_record(meta, plain)) break;
  }
  sodium_memzero(&state, sizeof state);
  return scan;
}

}  // namespace edgeward::channel
