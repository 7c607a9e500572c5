#include "edgeward/crypto/hash.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "edgeward/crypto/openssl_ptr.h"

namespace edgeward::crypto {
namespace {

const EVP_MD* Md(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1: return EVP_sha1();
    case HashAlg::kSha256: return EVP_sha256();
    case HashAlg::kSha384: return EVP_sha384();
    case HashAlg::kSha512: return EVP_sha512();
    case HashAlg::kSm3_256: return EVP_sm3();
  }
  return nullptr;
}

// Hashing can only fail on allocation failure inside OpenSSL; there is no
// meaningful recovery, and a wrong digest would be a silent security bug.
[[noreturn]] void HashFatal(const char* call) {
  (void)OpensslError(call);
  std::abort();
}

}  // namespace

size_t DigestSize(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1: return 20;
    case HashAlg::kSha256: return 32;
    case HashAlg::kSha384: return 48;
    case HashAlg::kSha512: return 64;
    case HashAlg::kSm3_256: return 32;
  }
  return 0;
}

std::string_view HashAlgName(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1: return "sha1";
    case HashAlg::kSha256: return "sha256";
    case HashAlg::kSha384: return "sha384";
    case HashAlg::kSha512: return "sha512";
    case HashAlg::kSm3_256: return "sm3_256";
  }
  return "unknown";
}

std::optional<HashAlg> HashAlgFromName(std::string_view name) {
  for (HashAlg a : {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512, HashAlg::kSm3_256}) {
    if (HashAlgName(a) == name) return a;
  }
  return std::nullopt;
}

std::optional<HashAlg> HashAlgFromTpmId(uint16_t id) {
  switch (id) {
    case 0x0004: return HashAlg::kSha1;
    case 0x000B: return HashAlg::kSha256;
    case 0x000C: return HashAlg::kSha384;
    case 0x000D: return HashAlg::kSha512;
    case 0x0012: return HashAlg::kSm3_256;
    default: return std::nullopt;
  }
}

struct Hasher::Impl {
  EvpMdCtxPtr ctx;
};

Hasher::Hasher(HashAlg alg) : alg_(alg), impl_(std::make_unique<Impl>()) {
  impl_->ctx.reset(EVP_MD_CTX_new());
  if (!impl_->ctx) HashFatal("EVP_MD_CTX_new");
  if (EVP_DigestInit_ex(impl_->ctx.get(), Md(alg), nullptr) != 1) HashFatal("EVP_DigestInit_ex");
}
Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::Update(ByteView data) {
  if (data.empty()) return;
  if (EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) != 1) HashFatal("EVP_DigestUpdate");
}

Bytes Hasher::Finish() {
  Bytes out(DigestSize(alg_));
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx.get(), out.data(), &len) != 1) HashFatal("EVP_DigestFinal_ex");
  if (EVP_DigestInit_ex(impl_->ctx.get(), Md(alg_), nullptr) != 1) HashFatal("EVP_DigestInit_ex");
  out.resize(len);
  return out;
}

Bytes Digest(HashAlg alg, ByteView data) {
  Bytes out(DigestSize(alg));
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, Md(alg), nullptr) != 1) HashFatal("EVP_Digest");
  out.resize(len);
  return out;
}

void ExtendInPlace(HashAlg alg, Bytes& pcr, ByteView digest) {
  Hasher h(alg);
  h.Update(pcr);
  h.Update(digest);
  pcr = h.Finish();
}

}  // namespace edgeward::crypto
