#include "edgeward/crypto/symmetric.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <climits>
#include <string>

#include "edgeward/crypto/openssl_ptr.h"

namespace edgeward::crypto {
namespace {

using EvpMacPtr = std::unique_ptr<EVP_MAC, OsslDeleter<EVP_MAC, EVP_MAC_free>>;
using EvpMacCtxPtr = std::unique_ptr<EVP_MAC_CTX, OsslDeleter<EVP_MAC_CTX, EVP_MAC_CTX_free>>;

const EVP_CIPHER* AesCfb(size_t key_bytes) {
  switch (key_bytes) {
    case 16: return EVP_aes_128_cfb128();
    case 24: return EVP_aes_192_cfb128();
    case 32: return EVP_aes_256_cfb128();
    default: return nullptr;
  }
}

// One pass of AES-CFB in the given direction; `out` must be input-sized.
Status AesCfb(ByteView key, ByteView iv, ByteView in, uint8_t* out, bool encrypt) {
  const EVP_CIPHER* cipher = AesCfb(key.size());
  if (cipher == nullptr) return InvalidArgument("AES-CFB: key of " + std::to_string(key.size()) + " bytes");
  if (iv.size() != 16) return InvalidArgument("AES-CFB: IV of " + std::to_string(iv.size()) + " bytes, need 16");
  if (in.size() > INT_MAX) return InvalidArgument("AES-CFB: input too large");
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());  // EVP_CIPHER_CTX_free wipes the key schedule
  if (!ctx) return OpensslError("EVP_CIPHER_CTX_new");
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key.data(), iv.data(), encrypt ? 1 : 0) != 1) {
    return OpensslError("EVP_CipherInit_ex");
  }
  int len = 0;
  if (!in.empty() && EVP_CipherUpdate(ctx.get(), out, &len, in.data(), static_cast<int>(in.size())) != 1) {
    return OpensslError("EVP_CipherUpdate");
  }
  int tail = 0;
  if (EVP_CipherFinal_ex(ctx.get(), out + len, &tail) != 1) return OpensslError("EVP_CipherFinal_ex");
  if (static_cast<size_t>(len + tail) != in.size()) return Internal("AES-CFB: output length differs from input");
  return Status::Ok();
}

}  // namespace

StatusOr<Bytes> Hmac(HashAlg alg, ByteView key, std::initializer_list<ByteView> parts) {
  const char* name = nullptr;
  switch (alg) {
    case HashAlg::kSha1: name = "SHA1"; break;
    case HashAlg::kSha256: name = "SHA256"; break;
    case HashAlg::kSha384: name = "SHA384"; break;
    case HashAlg::kSha512: name = "SHA512"; break;
    case HashAlg::kSm3_256: name = "SM3"; break;
  }
  if (name == nullptr) return InvalidArgument("HMAC: unknown hash");
  EvpMacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) return OpensslError("EVP_MAC_fetch");
  EvpMacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));  // freeing wipes the key
  if (!ctx) return OpensslError("EVP_MAC_CTX_new");
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(name), 0),
      OSSL_PARAM_construct_end(),
  };
  // An empty HMAC key is legal (TPM KDFa with an empty seed); OpenSSL
  // wants a non-null pointer for it.
  static const uint8_t kEmpty = 0;
  if (EVP_MAC_init(ctx.get(), key.empty() ? &kEmpty : key.data(), key.size(), params) != 1) {
    return OpensslError("EVP_MAC_init");
  }
  for (ByteView part : parts) {
    if (!part.empty() && EVP_MAC_update(ctx.get(), part.data(), part.size()) != 1) {
      return OpensslError("EVP_MAC_update");
    }
  }
  Bytes out(DigestSize(alg));
  size_t len = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1) return OpensslError("EVP_MAC_final");
  out.resize(len);
  return out;
}

bool ConstantTimeEquals(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

StatusOr<Bytes> AesCfbEncrypt(ByteView key, ByteView iv, ByteView plaintext) {
  Bytes out(plaintext.size());
  EW_RETURN_IF_ERROR(AesCfb(key, iv, plaintext, out.data(), /*encrypt=*/true));
  return out;
}

StatusOr<SecureBytes> AesCfbDecrypt(ByteView key, ByteView iv, ByteView ciphertext) {
  SecureBytes out(ciphertext.size());
  EW_RETURN_IF_ERROR(AesCfb(key, iv, ciphertext, out.data(), /*encrypt=*/false));
  return out;
}

}  // namespace edgeward::crypto
