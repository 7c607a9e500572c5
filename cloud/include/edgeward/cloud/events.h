// End-to-end protection of node messages (events, offline reports): signed
// by the node's Ed25519 key, then sealed to the verifier's X25519 key with
// libsodium's crypto_box_seal, so they stay confidential and authentic
// through proxies and in the node's spool (docs/api.md "Sealed messages").
//
//   sealed    = crypto_box_seal(signature || payload, verifier_x25519_public)
//   signature = Ed25519(node key, "edgeward-event-v1" 0x00 || node_id 0x00 ||
//                                 id 0x00 || seq (u64 big-endian) ||
//                                 priority (u8) || payload)
//
// The signature covers the envelope fields (id, seq, priority) so that a
// relay can't renumber, reprioritise or move a message to another node.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/cloud/api.h"
#include "edgeward/crypto/ed25519.h"
#include "edgeward/crypto/sodium.h"

namespace edgeward::cloud {

inline constexpr size_t kX25519KeySize = 32;
inline constexpr size_t kSealOverhead = 48;  // crypto_box_SEALBYTES

// The verifier's sealing key pair. The secret half lives in guarded memory.
// Move-only.
class X25519KeyPair {
 public:
  static StatusOr<X25519KeyPair> Generate();
  // From the 32-byte secret key (as stored in the verifier's key file).
  static StatusOr<X25519KeyPair> FromSecret(ByteView secret);
  const std::array<uint8_t, kX25519KeySize>& public_key() const { return public_key_; }
  ByteView secret() const { return secret_.view(); }

 private:
  X25519KeyPair(crypto::GuardedBytes secret, const std::array<uint8_t, kX25519KeySize>& pub)
      : secret_(std::move(secret)), public_key_(pub) {}
  crypto::GuardedBytes secret_;
  std::array<uint8_t, kX25519KeySize> public_key_{};
};

// The bytes the node signs for one message.
Bytes EventSignedBytes(std::string_view node_id, std::string_view id, uint64_t seq, int priority, ByteView payload);

// Node side: signs and seals `payload` into message.sealed. `message` must
// already carry id, seq and priority. A verifier key of the wrong size →
// kInvalidArgument.
Status SealEvent(const crypto::Ed25519SigningKey& node_key, ByteView verifier_public_key, std::string_view node_id,
                 EventMessage& message, ByteView payload);

// Verifier side: opens message.sealed and checks the node's signature over
// the envelope; returns the payload. Not sealed to this key or corrupted →
// kPermissionDenied "sealed box does not open"; a bad signature →
// kPermissionDenied "node signature does not verify".
StatusOr<Bytes> OpenEvent(const X25519KeyPair& verifier_key, const crypto::Ed25519PublicKey& node_key,
                          std::string_view node_id, const EventMessage& message);

}  // namespace edgeward::cloud
