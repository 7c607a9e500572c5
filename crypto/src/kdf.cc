#include "edgeward/crypto/kdf.h"

#include <string>

#include "edgeward/crypto/symmetric.h"

namespace edgeward::crypto {
namespace {

constexpr size_t kMaxKdfBits = 65536;

void PutU32(uint8_t out[4], uint32_t v) {
  out[0] = static_cast<uint8_t>(v >> 24);
  out[1] = static_cast<uint8_t>(v >> 16);
  out[2] = static_cast<uint8_t>(v >> 8);
  out[3] = static_cast<uint8_t>(v);
}

Status CheckArgs(const char* kdf, HashAlg alg, size_t bits) {
  if (bits == 0 || bits > kMaxKdfBits) {
    return InvalidArgument(std::string(kdf) + ": " + std::to_string(bits) + " bits requested (1.." +
                           std::to_string(kMaxKdfBits) + ")");
  }
  if (alg == HashAlg::kSm3_256) return InvalidArgument(std::string(kdf) + ": sm3_256 is not supported");
  return Status::Ok();
}

// The TPM keeps the low-order `bits` of the output: clear the rest of the
// first byte (Part 1 §11.4.10.2, "the most significant bits are masked").
void TrimToBits(SecureBytes& out, size_t bits) {
  out.resize((bits + 7) / 8);
  if (bits % 8 != 0) out[0] &= static_cast<uint8_t>((1u << (bits % 8)) - 1);
}

}  // namespace

StatusOr<SecureBytes> KdfA(HashAlg alg, ByteView key, std::string_view label, ByteView context_u,
                           ByteView context_v, size_t bits) {
  EW_RETURN_IF_ERROR(CheckArgs("KDFa", alg, bits));
  const uint8_t kZero = 0;
  uint8_t bits_be[4];
  PutU32(bits_be, static_cast<uint32_t>(bits));
  SecureBytes out;
  out.reserve((bits + 7) / 8 + DigestSize(alg));
  for (uint32_t i = 1; out.size() * 8 < bits; ++i) {
    uint8_t counter[4];
    PutU32(counter, i);
    EW_ASSIGN_OR_RETURN(Bytes k, Hmac(alg, key,
                                      {ByteView(counter, 4), AsBytes(label), ByteView(&kZero, 1), context_u,
                                       context_v, ByteView(bits_be, 4)}));
    out.insert(out.end(), k.begin(), k.end());
    Cleanse(k.data(), k.size());
  }
  TrimToBits(out, bits);
  return out;
}

StatusOr<SecureBytes> KdfE(HashAlg alg, ByteView z, std::string_view label, ByteView party_u, ByteView party_v,
                           size_t bits) {
  EW_RETURN_IF_ERROR(CheckArgs("KDFe", alg, bits));
  const uint8_t kZero = 0;
  SecureBytes out;
  out.reserve((bits + 7) / 8 + DigestSize(alg));
  for (uint32_t i = 1; out.size() * 8 < bits; ++i) {
    uint8_t counter[4];
    PutU32(counter, i);
    Hasher h(alg);
    h.Update(ByteView(counter, 4));
    h.Update(z);
    h.Update(AsBytes(label));
    h.Update(ByteView(&kZero, 1));
    h.Update(party_u);
    h.Update(party_v);
    Bytes k = h.Finish();
    out.insert(out.end(), k.begin(), k.end());
    Cleanse(k.data(), k.size());
  }
  TrimToBits(out, bits);
  return out;
}

}  // namespace edgeward::crypto
