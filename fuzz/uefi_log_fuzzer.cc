// Feeds arbitrary bytes to the UEFI event-log parser and replays what it
// accepts; output formatting runs too, as the CLI would.
#include <cstddef>
#include <cstdint>

#include "edgeward/attest/eventlog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeward::attest;
  auto log = ParseUefiLog(edgeward::ByteView(data, size));
  if (log.ok()) {
    auto pcrs = Replay(*log);
    (void)FormatLogText(*log, pcrs);
    (void)FormatLogJson(*log, pcrs);
  }
  return 0;
}
