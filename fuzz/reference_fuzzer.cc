// Reference-values YAML on arbitrary input: an error with a position or a
// value that formats and parses back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "edgeward/attest/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeward;
  auto ref = attest::ParseReferenceValues(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  if (!ref.ok()) return 0;
  std::string text = attest::FormatReferenceValues(*ref);
  auto back = attest::ParseReferenceValues(text, "formatted");
  // What we write we must read back, to the same values.
  if (!back.ok() || back->pcrs != ref->pcrs || back->files != ref->files || back->exclude != ref->exclude ||
      back->node_id != ref->node_id || back->unknown_files != ref->unknown_files) {
    abort();
  }
  return 0;
}
