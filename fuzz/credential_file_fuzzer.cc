// tpm2-tools credential files (what a verifier sends a node to activate):
// decoding never crashes, and whatever decodes re-encodes to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "edgeward/attest/credential.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeward;
  ByteView in(data, size);
  auto cred = attest::DecodeCredentialFile(in);
  if (!cred.ok()) return 0;
  Bytes again = attest::EncodeCredentialFile(*cred);
  if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
  return 0;
}
