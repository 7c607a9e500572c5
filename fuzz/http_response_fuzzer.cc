// The HTTPS client's response parser (agent/channel http_wire.h) on
// arbitrary server bytes, fed in the fragmentation the first byte picks,
// in both modes. Checks the parser's own promises: the body never exceeds
// the limit, a completed parse consumed no more than it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "edgeward/channel/http_wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t step = 1 + data[0] % 64;
  const auto mode = (data[1] & 1) ? edgeward::channel::HttpResponseParser::Mode::kConnect
                                  : edgeward::channel::HttpResponseParser::Mode::kNormal;
  constexpr size_t kLimit = 4096;
  edgeward::channel::HttpResponseParser p(kLimit, mode);
  std::string_view wire(reinterpret_cast<const char*>(data) + 2, size - 2);
  for (size_t off = 0; off < wire.size() && !p.done(); off += step) {
    std::string_view piece = wire.substr(off, step);
    auto used = p.Feed(piece);
    if (!used.ok()) return 0;
    if (*used > piece.size()) std::abort();
    if (*used < piece.size() && !p.done()) std::abort();
  }
  if (!p.done()) (void)p.FinishOnEof();
  if (p.body().size() > kLimit) std::abort();
  // Exercise the other pure parsers on the same bytes.
  (void)edgeward::channel::ParseHttpsUrl(wire);
  (void)edgeward::channel::ParseProxyUrl(wire);
  (void)edgeward::channel::NoProxyMatches(wire, "verifier.example.com");
  return 0;
}
