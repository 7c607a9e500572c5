// Hash algorithms as the TPM names them, and hashing with OpenSSL.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"

namespace edgeward::crypto {

// Values are the TCG TPM_ALG_ID of each algorithm.
enum class HashAlg : uint16_t {
  kSha1 = 0x0004,
  kSha256 = 0x000B,
  kSha384 = 0x000C,
  kSha512 = 0x000D,
  kSm3_256 = 0x0012,
};

// Digest size in bytes (20, 32, 48, 64, 32).
size_t DigestSize(HashAlg alg);
// "sha1", "sha256", "sha384", "sha512", "sm3_256".
std::string_view HashAlgName(HashAlg alg);
// Inverse of HashAlgName; nullopt for anything else.
std::optional<HashAlg> HashAlgFromName(std::string_view name);
// From a TPM_ALG_ID; nullopt when it is not a hash we know.
std::optional<HashAlg> HashAlgFromTpmId(uint16_t id);

// One-shot digest.
Bytes Digest(HashAlg alg, ByteView data);

// Incremental digest. Not thread-safe; move-only.
class Hasher {
 public:
  explicit Hasher(HashAlg alg);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void Update(ByteView data);
  // Returns the digest and resets the hasher for reuse with the same alg.
  Bytes Finish();
  // Writes size() bytes to `out` and resets, without allocating.
  void FinishInto(uint8_t* out);
  // PCR extend with this hasher: pcr = H(pcr || digest), in place. `pcr`
  // must be size() bytes. Reusing one Hasher across a long log avoids an
  // allocation per extend.
  void Extend(Bytes& pcr, ByteView digest);
  HashAlg alg() const { return alg_; }
  size_t size() const { return DigestSize(alg_); }

 private:
  struct Impl;
  HashAlg alg_;
  std::unique_ptr<Impl> impl_;
};

// PCR extend: new = H(old || digest). `pcr` must be DigestSize(alg) bytes.
void ExtendInPlace(HashAlg alg, Bytes& pcr, ByteView digest);

}  // namespace edgeward::crypto
