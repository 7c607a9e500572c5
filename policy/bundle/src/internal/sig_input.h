// Domain-separated signature inputs (docs/bundles.md "Signatures"):
// "<domain>\0" || key id || "\0" || signed bytes. The domain keeps a root
// signature from ever verifying as a bundle signature and vice versa; the
// key id binds the signer's identity into what it signed.
#pragma once

#include <string>
#include <string_view>

namespace edgeward::bundle::internal {

inline constexpr std::string_view kRootDomain{"edgeward-root-v1\0", 17};
inline constexpr std::string_view kBundleDomain{"edgeward-bundle-v1\0", 19};

inline std::string SignatureInput(std::string_view domain, std::string_view key_id, std::string_view signed_bytes) {
  std::string out;
  out.reserve(domain.size() + key_id.size() + 1 + signed_bytes.size());
  out.append(domain);
  out.append(key_id);
  out.push_back('\0');
  out.append(signed_bytes);
  return out;
}

// Key ids as crypto::Ed25519PublicKey::KeyId() spells them.
inline bool IsKeyIdSyntax(std::string_view id) {
  if (id.size() != 16) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace edgeward::bundle::internal
