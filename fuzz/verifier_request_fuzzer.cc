// Every decoder of the verifier's REST API (cloud/api.h) on arbitrary
// input: never a crash, a hang, a leak or undefined behaviour — only a
// Status or a message; and whatever decodes re-encodes to something that
// decodes again (the encoders and decoders agree).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "edgeward/cloud/api.h"

namespace {

template <typename Decode, typename Encode>
void RoundTrip(std::string_view text, Decode decode, Encode encode) {
  auto m = decode(text);
  if (!m.ok()) return;
  auto again = decode(encode(*m));
  if (!again.ok()) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeward::cloud;
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 14) {
    case 0: RoundTrip(text, DecodeRegisterRequest, EncodeRegisterRequest); break;
    case 1: RoundTrip(text, DecodeRegisterChallenge, EncodeRegisterChallenge); break;
    case 2: RoundTrip(text, DecodeActivateRequest, EncodeActivateRequest); break;
    case 3: RoundTrip(text, DecodeChallengeRequest, EncodeChallengeRequest); break;
    case 4: RoundTrip(text, DecodeChallenge, EncodeChallenge); break;
    case 5: {
      auto m = DecodeEvidenceSubmission(text);
      if (m.ok()) {
        auto enc = EncodeEvidenceSubmission(*m);
        if (enc.ok() && !DecodeEvidenceSubmission(*enc).ok()) abort();
      }
      break;
    }
    case 6: {
      RoundTrip(text, DecodeVerdictResponse, EncodeVerdictResponse);
      // The one-line reasons the agent logs and emits (FindingReason): only
      // printable ASCII, bounded, whatever a finding holds.
      auto m = DecodeVerdictResponse(text);
      if (m.ok()) {
        for (const auto& f : m->findings) {
          const std::string r = FindingReason(f);
          if (r.size() > kMaxReasonBytes) abort();
          for (char c : r) {
            if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) abort();
          }
        }
      }
      break;
    }
    case 7: RoundTrip(text, DecodeNodeStatus, EncodeNodeStatus); break;
    case 8: RoundTrip(text, DecodeNodeList, EncodeNodeList); break;
    case 9: RoundTrip(text, DecodeVerdictHistory, EncodeVerdictHistory); break;
    case 10: RoundTrip(text, DecodeEventBatch, EncodeEventBatch); break;
    case 11: RoundTrip(text, DecodeEventAck, EncodeEventAck); break;
    case 12: RoundTrip(text, DecodeBundleInfo, EncodeBundleInfo); break;
    default:
      RoundTrip(text, DecodeVerifierInfo, EncodeVerifierInfo);
      RoundTrip(text, DecodeErrorResponse, EncodeErrorResponse);
      break;
  }
  return 0;
}
