// TPM wire decoders on arbitrary bytes. The first byte picks the structure.
// A structure that decodes must re-marshal to the same bytes where we have
// a marshaller (TPML_PCR_SELECTION), and its name must compute.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "edgeward/attest/tpm_wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeward;
  if (size < 1) return 0;
  const ByteView in(data + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {
      auto p = attest::DecodeTpm2bPublic(in);
      if (p.ok()) {
        (void)attest::ComputeName(*p);
        if (p->type == attest::tpm_alg::kEcc || p->type == attest::tpm_alg::kRsa) (void)attest::PublicKeyPem(*p);
      }
      break;
    }
    case 1:
      (void)attest::DecodeTpmtPublic(in);
      break;
    case 2: {
      auto a = attest::DecodeTpmsAttest(in);
      if (a.ok() && a->has_quote) {
        for (const auto& b : a->quote.pcr_select.banks) (void)b.Pcrs();
      }
      break;
    }
    case 3:
      (void)attest::DecodeTpmtSignature(in);
      break;
    case 4: {
      auto s = attest::DecodePcrSelection(in);
      if (s.ok() && attest::MarshalPcrSelection(*s) != Bytes(in.begin(), in.end())) abort();
      break;
    }
  }
  return 0;
}
