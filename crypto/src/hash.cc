#include "edgeward/crypto/hash.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <initializer_list>

#include "edgeward/crypto/openssl_ptr.h"

namespace edgeward::crypto {
namespace {

// OpenSSL 3 resolves EVP_sha256() & co. through a provider lookup on every
// init ("implicit fetch"), which dominates the cost of hashing the short
// inputs of event-log replay. Fetch each algorithm once, explicitly; the
// fetched EVP_MDs live for the whole process.
const EVP_MD* FetchMd(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  return md;  // null only if the default provider lacks it; checked at use
}

const EVP_MD* Md(HashAlg alg) {
  static const EVP_MD* const kSha1 = FetchMd("SHA1");
  static const EVP_MD* const kSha256 = FetchMd("SHA256");
  static const EVP_MD* const kSha384 = FetchMd("SHA384");
  static const EVP_MD* const kSha512 = FetchMd("SHA512");
  static const EVP_MD* const kSm3 = FetchMd("SM3");
  const EVP_MD* md = nullptr;
  switch (alg) {
    case HashAlg::kSha1: md = kSha1; break;
    case HashAlg::kSha256: md = kSha256; break;
    case HashAlg::kSha384: md = kSha384; break;
    case HashAlg::kSha512: md = kSha512; break;
    case HashAlg::kSm3_256: md = kSm3; break;
  }
  return md;
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
  const EVP_MD* md = nullptr;  // fetched once (see Md)
};

Hasher::Hasher(HashAlg alg) : alg_(alg), impl_(std::make_unique<Impl>()) {
  impl_->ctx.reset(EVP_MD_CTX_new());
  if (!impl_->ctx) HashFatal("EVP_MD_CTX_new");
  impl_->md = Md(alg);
  if (impl_->md == nullptr) HashFatal("EVP_MD_fetch");
  if (EVP_DigestInit_ex2(impl_->ctx.get(), impl_->md, nullptr) != 1) HashFatal("EVP_DigestInit_ex2");
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
  FinishInto(out.data());
  return out;
}

void Hasher::FinishInto(uint8_t* out) {
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx.get(), out, &len) != 1 || len != DigestSize(alg_)) {
    HashFatal("EVP_DigestFinal_ex");
  }
  if (EVP_DigestInit_ex2(impl_->ctx.get(), impl_->md, nullptr) != 1) HashFatal("EVP_DigestInit_ex2");
}

void Hasher::Extend(Bytes& pcr, ByteView digest) {
  if (pcr.size() != DigestSize(alg_)) HashFatal("Hasher::Extend (PCR of the wrong size)");
  Update(pcr);
  Update(digest);
  FinishInto(pcr.data());
}

namespace {

// Digest of the concatenation of `parts`, with one reusable context per
// thread (saves an allocation per digest on the replay hot path).
Bytes DigestParts(HashAlg alg, std::initializer_list<ByteView> parts) {
  static thread_local EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) HashFatal("EVP_MD_CTX_new");
  const EVP_MD* md = Md(alg);
  if (md == nullptr) HashFatal("EVP_MD_fetch");
  if (EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1) HashFatal("EVP_DigestInit_ex2");
  for (ByteView p : parts) {
    if (!p.empty() && EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) HashFatal("EVP_DigestUpdate");
  }
  Bytes out(DigestSize(alg));
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1) HashFatal("EVP_DigestFinal_ex");
  out.resize(len);
  return out;
}

}  // namespace

Bytes Digest(HashAlg alg, ByteView data) { return DigestParts(alg, {data}); }

void ExtendInPlace(HashAlg alg, Bytes& pcr, ByteView digest) { pcr = DigestParts(alg, {pcr, digest}); }

}  // namespace edgeward::crypto
