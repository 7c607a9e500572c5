// Fuzzes the control socket's request parser (bytes from any local peer
// allowed on the socket). Any input must give a request or an error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "edgeward/daemon/control.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto r = edgeward::daemon::ParseControlRequest(line);
  if (r.ok()) {
    // A parsed request names a known kind.
    if (edgeward::daemon::ControlRequestName(r->kind) == "unknown") __builtin_trap();
  } else if (r.status().message().empty()) {
    __builtin_trap();
  }
  auto d = edgeward::daemon::DecodeControlResponse(line);
  if (!d.ok() && d.status().message().empty()) __builtin_trap();
  return 0;
}
