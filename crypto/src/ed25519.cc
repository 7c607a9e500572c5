#include "edgeward/crypto/ed25519.h"

#include <sodium.h>

#include <cstring>

#include "edgeward/crypto/hash.h"

namespace edgeward::crypto {

StatusOr<Ed25519PublicKey> Ed25519PublicKey::FromBytes(ByteView raw) {
  if (raw.size() != kEd25519PublicKeySize) {
    return InvalidArgument("Ed25519 public key: " + std::to_string(raw.size()) + " bytes, want 32");
  }
  EW_RETURN_IF_ERROR(EnsureSodium());
  // Rejects encodings that aren't on the main subgroup or are of small
  // order: such a "key" verifies signatures it never made.
  if (crypto_core_ed25519_is_valid_point(raw.data()) != 1) {
    return InvalidArgument("Ed25519 public key: not a valid curve point");
  }
  Ed25519PublicKey k;
  std::memcpy(k.bytes.data(), raw.data(), k.bytes.size());
  return k;
}

std::string Ed25519PublicKey::KeyId() const {
  Bytes d = Digest(HashAlg::kSha256, ByteView(bytes.data(), bytes.size()));
  return HexEncode(ByteView(d.data(), 8));
}

StatusOr<Ed25519SigningKey> Ed25519SigningKey::Generate() {
  EW_RETURN_IF_ERROR(EnsureSodium());
  EW_ASSIGN_OR_RETURN(GuardedBytes seed, GuardedBytes::Allocate(kEd25519SeedSize));
  randombytes_buf(seed.data(), seed.size());
  return FromSeed(seed.view());
}

StatusOr<Ed25519SigningKey> Ed25519SigningKey::FromSeed(ByteView seed) {
  if (seed.size() != kEd25519SeedSize) {
    return InvalidArgument("Ed25519 seed: " + std::to_string(seed.size()) + " bytes, want 32");
  }
  EW_RETURN_IF_ERROR(EnsureSodium());
  EW_ASSIGN_OR_RETURN(GuardedBytes secret, GuardedBytes::Allocate(crypto_sign_SECRETKEYBYTES));
  Ed25519PublicKey pub;
  if (crypto_sign_seed_keypair(pub.bytes.data(), secret.data(), seed.data()) != 0) {
    return Internal("crypto_sign_seed_keypair failed");
  }
  return Ed25519SigningKey(std::move(secret), pub);
}

Ed25519Signature Ed25519SigningKey::Sign(ByteView message) const {
  Ed25519Signature sig{};
  // Cannot fail for a well-formed secret key, which the constructor ensures.
  (void)crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.data());
  return sig;
}

bool Ed25519Verify(const Ed25519PublicKey& key, ByteView message, ByteView signature) {
  if (signature.size() != kEd25519SignatureSize) return false;
  if (!EnsureSodium().ok()) return false;
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(), key.bytes.data()) == 0;
}

}  // namespace edgeward::crypto
