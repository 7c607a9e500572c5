// The AK blob in the state directory (a file an attacker with a backup or a
// disk image could plant): parsing never crashes, and what parses
// serializes back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "edgeward/tpm/ak.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeward;
  auto ak = tpm::Ak::Parse(ByteView(data, size), "fuzz");
  if (!ak.ok()) return 0;
  Bytes again = ak->Serialize();
  if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
  return 0;
}
