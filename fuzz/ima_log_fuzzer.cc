// Feeds arbitrary text to the IMA log parser (both template-hash column
// banks) and replays what it accepts.
#include <cstddef>
#include <cstdint>

#include "edgeward/attest/eventlog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeward::attest;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (HashAlg column : {HashAlg::kSha1, HashAlg::kSha256}) {
    auto log = ParseImaLog(text, column);
    if (log.ok()) {
      auto pcrs = Replay(*log);
      (void)FormatLogJson(*log, pcrs);
    }
  }
  return 0;
}
