// Key files (a public key file arrives from whoever hands a node its root
// keys; a secret key file from disk): parsing never crashes, and a public key
// file that parses re-formats to the same bytes (one canonical encoding).
// Secret files are parsed without a passphrase: with one, a file may
// legitimately ask Argon2id for up to 4 GiB, which is not a parser bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "edgeward/crypto/key_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeward;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto pub = crypto::ParsePublicKeyFile(text, "fuzz");
  if (pub.ok() && crypto::FormatPublicKeyFile(*pub) != text) std::abort();
  (void)crypto::SecretKeyFileIsEncrypted(text, "fuzz");
  auto sec = crypto::ParseSecretKeyFile(text, "fuzz", std::nullopt);
  if (sec.ok() && crypto::FormatPublicKeyFile(sec->public_key()).find(sec->KeyId()) == std::string::npos) std::abort();
  return 0;
}
