// Byte buffers and their text encodings (hex, base64).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/base/status.h"

namespace edgeward {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Lower-case hex.
std::string HexEncode(ByteView data);
// Accepts upper or lower case; an optional "0x" prefix. Odd length or a
// non-hex character → kInvalidArgument naming the offset.
StatusOr<Bytes> HexDecode(std::string_view hex);

// Standard alphabet with padding (RFC 4648 §4).
std::string Base64Encode(ByteView data);
// Strict: rejects bad characters, bad padding and non-canonical trailing bits.
StatusOr<Bytes> Base64Decode(std::string_view text);

}  // namespace edgeward
