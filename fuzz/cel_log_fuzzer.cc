// Feeds arbitrary text to the CEL-JSON log parser and replays what it
// accepts; format detection runs on the same bytes.
#include <cstddef>
#include <cstdint>

#include "edgeward/attest/eventlog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeward::attest;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)DetectEventLogFormat(edgeward::ByteView(data, size));
  auto log = ParseCelLog(text);
  if (log.ok()) {
    auto pcrs = Replay(*log);
    (void)FormatLogText(*log, pcrs);
    (void)FormatLogJson(*log, pcrs);
  }
  return 0;
}
