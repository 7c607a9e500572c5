// Key files for Ed25519 signing keys (docs/keys.md).
//
// A public key file is four "name: value" lines and may be shared freely.
// A secret key file (mode 0600) holds the 32-byte seed, either in the clear
// or encrypted under a passphrase: Argon2id (libsodium crypto_pwhash) derives
// a 32-byte key that seals the seed with XChaCha20-Poly1305; every header
// line (algorithm, key id, public key, KDF parameters, nonce) is bound to the
// ciphertext as associated data, so none can be altered unnoticed.
//
// Parsers take outside input: exact line names in a fixed order, bounded
// sizes, and errors of the form "FILE:LINE: field 'kdf-memlimit': ..."
// (kInvalidArgument; a wrong passphrase or tampered file → kPermissionDenied).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/ed25519.h"

namespace edgeward::crypto {

// Argon2id cost. Defaults are libsodium's MODERATE (3 passes, 256 MiB,
// about a second): key files are opened when signing, not on the hot path.
struct PassphraseCost {
  uint64_t opslimit = 3;
  uint64_t memlimit = 256ull << 20;
};
// libsodium's INTERACTIVE cost (2 passes, 64 MiB): the weakest a key file
// may declare; parsers reject anything lower, and anything above 16 passes
// or 4 GiB (a hostile file must not exhaust the signer).
PassphraseCost InteractivePassphraseCost();

std::string FormatPublicKeyFile(const Ed25519PublicKey& key);
StatusOr<Ed25519PublicKey> ParsePublicKeyFile(std::string_view text, const std::string& file_name);
StatusOr<Ed25519PublicKey> ReadPublicKeyFile(const std::string& path);

// `passphrase` empty (nullopt): the seed is stored in the clear.
StatusOr<std::string> FormatSecretKeyFile(const Ed25519SigningKey& key, std::optional<ByteView> passphrase,
                                          const PassphraseCost& cost = {});
// Whether a secret key file is passphrase-protected (header only).
StatusOr<bool> SecretKeyFileIsEncrypted(std::string_view text, const std::string& file_name);
// An encrypted file without a passphrase → kFailedPrecondition.
StatusOr<Ed25519SigningKey> ParseSecretKeyFile(std::string_view text, const std::string& file_name,
                                               std::optional<ByteView> passphrase);
StatusOr<Ed25519SigningKey> ReadSecretKeyFile(const std::string& path, std::optional<ByteView> passphrase);

// Writes <dir>/<key id>.pub (0644) and <dir>/<key id>.key (0600) atomically;
// creates `dir` as 0700 when missing. Existing files → kAlreadyExists.
struct KeyPairPaths {
  std::string public_path;
  std::string secret_path;
};
StatusOr<KeyPairPaths> WriteKeyPair(const std::string& dir, const Ed25519SigningKey& key,
                                    std::optional<ByteView> passphrase, const PassphraseCost& cost = {});

}  // namespace edgeward::crypto
