#include "edgeward/cloud/events.h"

#include <sodium.h>

#include <cstring>

#include "edgeward/crypto/secure_bytes.h"

namespace edgeward::cloud {

StatusOr<X25519KeyPair> X25519KeyPair::Generate() {
  EW_RETURN_IF_ERROR(crypto::EnsureSodium());
  EW_ASSIGN_OR_RETURN(crypto::GuardedBytes secret, crypto::GuardedBytes::Allocate(crypto_box_SECRETKEYBYTES));
  std::array<uint8_t, kX25519KeySize> pub{};
  if (crypto_box_keypair(pub.data(), secret.data()) != 0) return Internal("crypto_box_keypair failed");
  return X25519KeyPair(std::move(secret), pub);
}

StatusOr<X25519KeyPair> X25519KeyPair::FromSecret(ByteView secret) {
  EW_RETURN_IF_ERROR(crypto::EnsureSodium());
  if (secret.size() != crypto_box_SECRETKEYBYTES) {
    return InvalidArgument("X25519 secret key: " + std::to_string(secret.size()) + " bytes, expected 32");
  }
  EW_ASSIGN_OR_RETURN(crypto::GuardedBytes copy, crypto::GuardedBytes::CopyOf(secret));
  std::array<uint8_t, kX25519KeySize> pub{};
  if (crypto_scalarmult_base(pub.data(), copy.data()) != 0) return Internal("crypto_scalarmult_base failed");
  return X25519KeyPair(std::move(copy), pub);
}

Bytes EventSignedBytes(std::string_view node_id, std::string_view id, uint64_t seq, int priority, ByteView payload) {
  static constexpr std::string_view kContext = "edgeward-event-v1";
  // Sized once and filled with memcpy: GCC 12 misreports insert() chains
  // here as overflowing (-Wstringop-overflow).
  Bytes out(kContext.size() + 1 + node_id.size() + 1 + id.size() + 1 + 8 + 1 + payload.size());
  size_t at = 0;
  auto put = [&](const void* p, size_t n) {
    if (n != 0) std::memcpy(out.data() + at, p, n);
    at += n;
  };
  const uint8_t zero = 0;
  put(kContext.data(), kContext.size());
  put(&zero, 1);
  put(node_id.data(), node_id.size());
  put(&zero, 1);
  put(id.data(), id.size());
  put(&zero, 1);
  uint8_t be[8];
  for (int i = 0; i < 8; ++i) be[i] = static_cast<uint8_t>(seq >> (56 - 8 * i));
  put(be, 8);
  const uint8_t prio = static_cast<uint8_t>(priority);
  put(&prio, 1);
  put(payload.data(), payload.size());
  return out;
}

Status SealEvent(const crypto::Ed25519SigningKey& node_key, ByteView verifier_public_key, std::string_view node_id,
                 EventMessage& message, ByteView payload) {
  EW_RETURN_IF_ERROR(crypto::EnsureSodium());
  if (verifier_public_key.size() != crypto_box_PUBLICKEYBYTES) {
    return InvalidArgument("verifier X25519 public key: " + std::to_string(verifier_public_key.size()) +
                           " bytes, expected 32");
  }
  if (payload.size() + crypto_sign_BYTES + crypto_box_SEALBYTES > kMaxSealedEventBytes) {
    return InvalidArgument("event payload of " + std::to_string(payload.size()) + " bytes exceeds the maximum " +
                           std::to_string(kMaxSealedEventBytes - crypto_sign_BYTES - crypto_box_SEALBYTES));
  }
  const auto sig = node_key.Sign(EventSignedBytes(node_id, message.id, message.seq, message.priority, payload));
  crypto::SecureBytes plain(sig.size() + payload.size());
  std::memcpy(plain.data(), sig.data(), sig.size());
  if (!payload.empty()) std::memcpy(plain.data() + sig.size(), payload.data(), payload.size());
  message.sealed.assign(plain.size() + crypto_box_SEALBYTES, 0);
  if (crypto_box_seal(message.sealed.data(), plain.data(), plain.size(), verifier_public_key.data()) != 0) {
    return Internal("crypto_box_seal failed");
  }
  return Status::Ok();
}

StatusOr<Bytes> OpenEvent(const X25519KeyPair& verifier_key, const crypto::Ed25519PublicKey& node_key,
                          std::string_view node_id, const EventMessage& message) {
  EW_RETURN_IF_ERROR(crypto::EnsureSodium());
  if (message.sealed.size() < crypto_box_SEALBYTES + crypto_sign_BYTES) {
    return PermissionDenied("sealed box does not open: " + std::to_string(message.sealed.size()) +
                            " bytes is shorter than a sealed signature");
  }
  Bytes plain(message.sealed.size() - crypto_box_SEALBYTES);
  if (crypto_box_seal_open(plain.data(), message.sealed.data(), message.sealed.size(),
                           verifier_key.public_key().data(), verifier_key.secret().data()) != 0) {
    return PermissionDenied("sealed box does not open (not sealed to this verifier's key, or corrupted)");
  }
  ByteView sig(plain.data(), crypto_sign_BYTES);
  Bytes payload(plain.begin() + crypto_sign_BYTES, plain.end());
  if (!crypto::Ed25519Verify(node_key, EventSignedBytes(node_id, message.id, message.seq, message.priority, payload),
                             sig)) {
    return PermissionDenied("node signature does not verify");
  }
  return payload;
}

}  // namespace edgeward::cloud
