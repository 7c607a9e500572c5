// Private helpers shared by the event-log parsers (attest/src/eventlog_*.cc,
// cel_*.cc). Not part of the public API.
#pragma once

#include <cstdint>
#include <string>

#include "edgeward/base/bytes.h"
#include "edgeward/crypto/hash.h"
#include "edgeward/crypto/openssl_ptr.h"

namespace edgeward::attest::internal {

// A one-line, printable summary of a UEFI event's data for humans (variable
// name, action string, image device path...). Never fails: data that does
// not have the expected structure is summarised by its size.
std::string DescribeUefiEvent(uint32_t type, ByteView event);

// Replaces anything outside printable ASCII with '.', so hostile strings
// can't carry terminal escapes into human output.
std::string Printable(std::string_view s);

// A reusable hasher for hot loops (IMA logs run to 10^5..10^6 entries): the
// EVP_MD is fetched once per process and the context is reused, which
// avoids OpenSSL 3's implicit fetch on every EVP_DigestInit_ex. Not
// thread-safe; one per thread.
class FastHasher {
 public:
  explicit FastHasher(crypto::HashAlg alg);
  crypto::HashAlg alg() const { return alg_; }
  size_t size() const { return size_; }
  void Init();
  void Update(ByteView data);
  // Writes size() bytes to `out`.
  void Final(uint8_t* out);
  // PCR extend: pcr = H(pcr || digest); pcr.size() must be size().
  void Extend(Bytes& pcr, ByteView digest);

 private:
  crypto::HashAlg alg_;
  size_t size_;
  const EVP_MD* md_;
  crypto::EvpMdCtxPtr ctx_;
};

}  // namespace edgeward::attest::internal
