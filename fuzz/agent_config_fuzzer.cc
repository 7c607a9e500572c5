// Fuzzes the agent config parser (outside input: /etc/edgeward/agent.yaml).
// Any input must give a config or a located error, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "edgeward/daemon/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = edgeward::daemon::ParseAgentConfig(text, "fuzz.yaml");
  if (!c.ok() && c.status().message().empty()) __builtin_trap();
  return 0;
}
