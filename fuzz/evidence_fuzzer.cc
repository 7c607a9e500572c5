// Evidence decoding and appraisal on arbitrary input: never a crash, a
// leak or undefined behaviour; only a Status or a verdict.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "edgeward/attest/appraisal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeward;
  auto evidence = attest::DecodeEvidence(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!evidence.ok()) return 0;
  static const Bytes kNonce = *HexDecode("00112233445566778899aabbccddeeff");
  static const attest::ReferenceValues* kReference = [] {
    auto* r = new attest::ReferenceValues();
    r->unknown_files = attest::UnknownFilePolicy::kWarn;
    r->exclude = {"/tmp/"};
    r->pcrs[crypto::HashAlg::kSha256][0] = Bytes(32, 0);
    return r;
  }();
  attest::AppraisalOptions options;
  options.reference = kReference;
  options.previous = attest::AppraisalState{evidence->ak_name, 1000, 1, 0};
  auto verdict = attest::Appraise(*evidence, kNonce, options);
  if (verdict.ok()) {
    (void)attest::FormatVerdictText(*verdict);
    (void)attest::FormatVerdictJson(*verdict);
  }
  (void)attest::EncodeEvidence(*evidence);
  return 0;
}
