// Ed25519 signing keys (libsodium): what signs policy bundles and root
// documents. The secret half lives only in GuardedBytes.
//
// Key id: the first 8 bytes of SHA-256 over the 32-byte public key, as 16
// lowercase hex digits — short enough to read aloud, long enough that two
// keys of one deployment never collide by accident. It names a key; it is
// never trusted in place of comparing the key itself.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/sodium.h"

namespace edgeward::crypto {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SeedSize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

struct Ed25519PublicKey {
  std::array<uint8_t, kEd25519PublicKeySize> bytes{};
  bool operator==(const Ed25519PublicKey&) const = default;
  // Not a point on the curve, or a small-order point → kInvalidArgument.
  static StatusOr<Ed25519PublicKey> FromBytes(ByteView raw);
  std::string KeyId() const;
};

using Ed25519Signature = std::array<uint8_t, kEd25519SignatureSize>;

// Move-only. The 64-byte libsodium secret key (seed || public key) is kept
// in guarded memory.
class Ed25519SigningKey {
 public:
  // A fresh key from libsodium's CSPRNG.
  static StatusOr<Ed25519SigningKey> Generate();
  // The key for a 32-byte seed (as stored in a key file).
  static StatusOr<Ed25519SigningKey> FromSeed(ByteView seed);

  const Ed25519PublicKey& public_key() const { return public_key_; }
  std::string KeyId() const { return public_key_.KeyId(); }
  Ed25519Signature Sign(ByteView message) const;
  // The seed, for writing the key file only; don't copy it elsewhere.
  ByteView seed() const { return ByteView(secret_.data(), kEd25519SeedSize); }

 private:
  Ed25519SigningKey(GuardedBytes secret, const Ed25519PublicKey& pub)
      : secret_(std::move(secret)), public_key_(pub) {}
  GuardedBytes secret_;  // crypto_sign_SECRETKEYBYTES
  Ed25519PublicKey public_key_;
};

// True when `signature` is a valid Ed25519 signature by `key` over `message`
// (libsodium's strict verification: non-canonical encodings rejected).
bool Ed25519Verify(const Ed25519PublicKey& key, ByteView message, ByteView signature);

}  // namespace edgeward::crypto
