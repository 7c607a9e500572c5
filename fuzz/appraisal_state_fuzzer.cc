// The verifier's stored appraisal state (attest::DecodeAppraisalState): read
// back from the database on every challenge and evidence, so a corrupted or
// tampered row must give an error, never a crash; whatever decodes
// re-encodes to the same state.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "edgeward/attest/appraisal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto state = edgeward::attest::DecodeAppraisalState(text);
  if (!state.ok()) return 0;
  auto again = edgeward::attest::DecodeAppraisalState(edgeward::attest::EncodeAppraisalState(*state));
  if (!again.ok() || !(*again == *state)) abort();
  return 0;
}
