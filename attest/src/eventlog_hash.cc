#include <cstdlib>

#include "eventlog_internal.h"

namespace edgeward::attest::internal {
namespace {

// Hashing only fails when OpenSSL can't allocate; a wrong digest would be a
// silent security bug, so there is no way on.
[[noreturn]] void Fatal(const char* call) {
  (void)crypto::OpensslError(call);
  std::abort();
}

// Fetched once; the fetched EVP_MD objects live for the whole process.
const EVP_MD* FetchedMd(crypto::HashAlg alg) {
  static const EVP_MD* const kMds[] = {
      EVP_MD_fetch(nullptr, "SHA1", nullptr),   EVP_MD_fetch(nullptr, "SHA256", nullptr),
      EVP_MD_fetch(nullptr, "SHA384", nullptr), EVP_MD_fetch(nullptr, "SHA512", nullptr),
      EVP_MD_fetch(nullptr, "SM3", nullptr),
  };
  const EVP_MD* md = nullptr;
  switch (alg) {
    case crypto::HashAlg::kSha1:
      md = kMds[0];
      break;
    case crypto::HashAlg::kSha256:
      md = kMds[1];
      break;
    case crypto::HashAlg::kSha384:
      md = kMds[2];
      break;
    case crypto::HashAlg::kSha512:
      md = kMds[3];
      break;
    case crypto::HashAlg::kSm3_256:
      md = kMds[4];
      break;
  }
  if (md == nullptr) Fatal("EVP_MD_fetch");
  return md;
}

}  // namespace

FastHasher::FastHasher(crypto::HashAlg alg)
    : alg_(alg), size_(crypto::DigestSize(alg)), md_(FetchedMd(alg)), ctx_(EVP_MD_CTX_new()) {
  if (!ctx_) Fatal("EVP_MD_CTX_new");
}

void FastHasher::Init() {
  if (EVP_DigestInit_ex2(ctx_.get(), md_, nullptr) != 1) Fatal("EVP_DigestInit_ex2");
}

void FastHasher::Update(ByteView data) {
  if (!data.empty() && EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1) Fatal("EVP_DigestUpdate");
}

void FastHasher::Final(uint8_t* out) {
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), out, &len) != 1 || len != size_) Fatal("EVP_DigestFinal_ex");
}

void FastHasher::Extend(Bytes& pcr, ByteView digest) {
  Init();
  Update(pcr);
  Update(digest);
  Final(pcr.data());
}

}  // namespace edgeward::attest::internal
