// PCR selections from the command line and configuration: parsing never
// crashes, and a parsed selection formats to text that parses back equal.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "edgeward/tpm/pcr_types.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeward;
  auto sel = tpm::ParsePcrSelection(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!sel.ok()) return 0;
  std::string text = tpm::FormatPcrSelection(*sel);
  auto again = tpm::ParsePcrSelection(text);
  if (!again.ok() || *again != *sel) std::abort();
  return 0;
}
