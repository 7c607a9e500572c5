#include "edgeward/crypto/key_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "edgeward/base/errno_status.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/file.h"
#include "edgeward/crypto/secure_bytes.h"

namespace edgeward::crypto {
namespace {

constexpr size_t kMaxKeyFileBytes = 4096;
constexpr std::string_view kPublicMagic = "edgeward-public-key";
constexpr std::string_view kSecretMagic = "edgeward-secret-key";
constexpr std::string_view kEncryptionNone = "none";
constexpr std::string_view kEncryptionArgon = "argon2id-xchacha20poly1305";
constexpr uint64_t kMaxOpslimit = 16;
constexpr uint64_t kMaxMemlimit = 4ull << 30;

struct Line {
  int number = 0;
  std::string_view name;
  std::string_view value;
  size_t end = 0;  // offset just past this line's '\n' in the text
};

std::string At(const std::string& file, int line) { return file + ":" + std::to_string(line) + ": "; }

// Splits "name: value\n" lines; every line must end in '\n' and have the
// form exactly (no blank lines, no trailing spaces): one canonical encoding.
StatusOr<std::vector<Line>> SplitLines(std::string_view text, const std::string& file) {
  if (text.size() > kMaxKeyFileBytes) {
    return InvalidArgument(file + ": " + std::to_string(text.size()) + " bytes; a key file is at most 4096");
  }
  std::vector<Line> lines;
  size_t pos = 0;
  int number = 0;
  while (pos < text.size()) {
    ++number;
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) return InvalidArgument(At(file, number) + "line does not end in a newline");
    std::string_view line = text.substr(pos, nl - pos);
    size_t colon = line.find(": ");
    if (colon == std::string_view::npos || colon == 0) {
      return InvalidArgument(At(file, number) + "expected 'name: value'");
    }
    Line l{number, line.substr(0, colon), line.substr(colon + 2), nl + 1};
    if (l.value.empty() || l.value.find_first_of(" \t\r") != std::string_view::npos) {
      return InvalidArgument(At(file, number) + "field '" + std::string(l.name) + "': empty or has whitespace");
    }
    lines.push_back(l);
    pos = nl + 1;
  }
  return lines;
}

// The lines must carry exactly `names`, in order.
Status ExpectNames(const std::vector<Line>& lines, std::initializer_list<std::string_view> names,
                   const std::string& file) {
  size_t i = 0;
  for (std::string_view want : names) {
    if (i >= lines.size()) return InvalidArgument(file + ": missing field '" + std::string(want) + "'");
    if (lines[i].name != want) {
      return InvalidArgument(At(file, lines[i].number) + "field '" + std::string(lines[i].name) + "': expected '" +
                             std::string(want) + "'");
    }
    ++i;
  }
  if (i != lines.size()) {
    return InvalidArgument(At(file, lines[i].number) + "unexpected field '" + std::string(lines[i].name) + "'");
  }
  return Status::Ok();
}

StatusOr<Bytes> DecodeField(const Line& l, size_t want_size, const std::string& file) {
  auto raw = Base64Decode(l.value);
  if (!raw.ok()) return InvalidArgument(At(file, l.number) + "field '" + std::string(l.name) + "': not base64");
  if (want_size != 0 && raw->size() != want_size) {
    return InvalidArgument(At(file, l.number) + "field '" + std::string(l.name) + "': " +
                           std::to_string(raw->size()) + " bytes, want " + std::to_string(want_size));
  }
  return raw;
}

StatusOr<uint64_t> DecodeNumber(const Line& l, uint64_t min, uint64_t max, const std::string& file) {
  uint64_t v = 0;
  if (l.value.size() > 12) return InvalidArgument(At(file, l.number) + "field '" + std::string(l.name) + "': too large");
  for (char c : l.value) {
    if (c < '0' || c > '9') {
      return InvalidArgument(At(file, l.number) + "field '" + std::string(l.name) + "': not a decimal number");
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v < min || v > max) {
    return InvalidArgument(At(file, l.number) + "field '" + std::string(l.name) + "': " + std::to_string(v) +
                           " outside [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return v;
}

StatusOr<Ed25519PublicKey> DecodePublicKey(const Line& key_line, const Line& id_line, const std::string& file) {
  EW_ASSIGN_OR_RETURN(Bytes raw, DecodeField(key_line, kEd25519PublicKeySize, file));
  auto pub = Ed25519PublicKey::FromBytes(raw);
  if (!pub.ok()) return InvalidArgument(At(file, key_line.number) + "field 'public-key': " + pub.status().message());
  if (pub->KeyId() != id_line.value) {
    return InvalidArgument(At(file, id_line.number) + "field 'key-id': " + std::string(id_line.value) +
                           " does not match the public key (" + pub->KeyId() + ")");
  }
  return pub;
}

// Argon2id(passphrase, salt) → 32-byte key in guarded memory.
StatusOr<GuardedBytes> DeriveKey(ByteView passphrase, ByteView salt, const PassphraseCost& cost) {
  EW_ASSIGN_OR_RETURN(GuardedBytes key, GuardedBytes::Allocate(crypto_aead_xchacha20poly1305_ietf_KEYBYTES));
  if (crypto_pwhash(key.data(), key.size(), reinterpret_cast<const char*>(passphrase.data()), passphrase.size(),
                    salt.data(), cost.opslimit, static_cast<size_t>(cost.memlimit),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return ResourceExhausted("crypto_pwhash: out of memory deriving the key-file key (memlimit " +
                             std::to_string(cost.memlimit) + ")");
  }
  return key;
}

Status CreateExclusive(const std::string& path, ByteView data, mode_t mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd.valid()) {
    if (errno == EEXIST) return AlreadyExists(path + ": already exists; not overwriting a key");
    return EW_ERRNO("open", path);
  }
  size_t done = 0;
  Status st;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      st = EW_ERRNO("write", path);
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (st.ok() && ::fchmod(fd.get(), mode) != 0) st = EW_ERRNO("fchmod", path);  // umask-proof
  if (st.ok() && ::fsync(fd.get()) != 0) st = EW_ERRNO("fsync", path);
  if (!st.ok()) {
    (void)::unlink(path.c_str());
    return st;
  }
  return Status::Ok();
}

void CleanseString(std::string& s) {
  Cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace

PassphraseCost InteractivePassphraseCost() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

std::string FormatPublicKeyFile(const Ed25519PublicKey& key) {
  std::string out;
  out += std::string(kPublicMagic) + ": v1\n";
  out += "algorithm: ed25519\n";
  out += "key-id: " + key.KeyId() + "\n";
  out += "public-key: " + Base64Encode(ByteView(key.bytes.data(), key.bytes.size())) + "\n";
  return out;
}

StatusOr<Ed25519PublicKey> ParsePublicKeyFile(std::string_view text, const std::string& file) {
  EW_ASSIGN_OR_RETURN(std::vector<Line> lines, SplitLines(text, file));
  if (!lines.empty() && lines[0].name == kSecretMagic) {
    return InvalidArgument(At(file, 1) + "this is a secret key file; give the .pub file");
  }
  EW_RETURN_IF_ERROR(ExpectNames(lines, {kPublicMagic, "algorithm", "key-id", "public-key"}, file));
  if (lines[0].value != "v1") return InvalidArgument(At(file, 1) + "unsupported version '" + std::string(lines[0].value) + "'");
  if (lines[1].value != "ed25519") {
    return InvalidArgument(At(file, 2) + "field 'algorithm': unsupported '" + std::string(lines[1].value) + "'");
  }
  return DecodePublicKey(lines[3], lines[2], file);
}

StatusOr<Ed25519PublicKey> ReadPublicKeyFile(const std::string& path) {
  EW_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, kMaxKeyFileBytes + 1));
  return ParsePublicKeyFile(text, path);
}

StatusOr<std::string> FormatSecretKeyFile(const Ed25519SigningKey& key, std::optional<ByteView> passphrase,
                                          const PassphraseCost& cost) {
  EW_RETURN_IF_ERROR(EnsureSodium());
  std::string head;
  head += std::string(kSecretMagic) + ": v1\n";
  head += "algorithm: ed25519\n";
  head += "key-id: " + key.KeyId() + "\n";
  head += "public-key: " + Base64Encode(ByteView(key.public_key().bytes.data(), kEd25519PublicKeySize)) + "\n";
  if (!passphrase.has_value()) {
    head += "encryption: " + std::string(kEncryptionNone) + "\n";
    // Built in place with room reserved, so no reallocation leaves a freed,
    // unwiped copy of the encoded seed behind.
    std::string encoded = Base64Encode(key.seed());
    std::string out;
    out.reserve(head.size() + encoded.size() + 16);
    out += head;
    out += "secret: ";
    out += encoded;
    out += "\n";
    CleanseString(encoded);
    return out;
  }
  PassphraseCost floor = InteractivePassphraseCost();
  if (cost.opslimit < floor.opslimit || cost.memlimit < floor.memlimit || cost.opslimit > kMaxOpslimit ||
      cost.memlimit > kMaxMemlimit) {
    return InvalidArgument("passphrase cost outside [interactive, 16 passes / 4 GiB]");
  }
  if (passphrase->empty()) return InvalidArgument("empty passphrase; omit it to store the key unencrypted");
  uint8_t salt[crypto_pwhash_SALTBYTES];
  uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
  randombytes_buf(salt, sizeof salt);
  randombytes_buf(nonce, sizeof nonce);
  head += "encryption: " + std::string(kEncryptionArgon) + "\n";
  head += "kdf-opslimit: " + std::to_string(cost.opslimit) + "\n";
  head += "kdf-memlimit: " + std::to_string(cost.memlimit) + "\n";
  head += "kdf-salt: " + Base64Encode(ByteView(salt, sizeof salt)) + "\n";
  head += "nonce: " + Base64Encode(ByteView(nonce, sizeof nonce)) + "\n";
  EW_ASSIGN_OR_RETURN(GuardedBytes k, DeriveKey(*passphrase, ByteView(salt, sizeof salt), cost));
  Bytes sealed(kEd25519SeedSize + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long sealed_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.data(), &sealed_len, key.seed().data(), key.seed().size(),
                                                 reinterpret_cast<const uint8_t*>(head.data()), head.size(),
                                                 nullptr, nonce, k.data()) != 0 ||
      sealed_len != sealed.size()) {
    return Internal("crypto_aead_xchacha20poly1305_ietf_encrypt failed");
  }
  return head + "secret: " + Base64Encode(sealed) + "\n";
}

StatusOr<bool> SecretKeyFileIsEncrypted(std::string_view text, const std::string& file) {
  EW_ASSIGN_OR_RETURN(std::vector<Line> lines, SplitLines(text, file));
  for (const Line& l : lines) {
    if (l.name == "encryption") return l.value != kEncryptionNone;
  }
  return InvalidArgument(file + ": missing field 'encryption'");
}

StatusOr<Ed25519SigningKey> ParseSecretKeyFile(std::string_view text, const std::string& file,
                                               std::optional<ByteView> passphrase) {
  EW_RETURN_IF_ERROR(EnsureSodium());
  EW_ASSIGN_OR_RETURN(std::vector<Line> lines, SplitLines(text, file));
  if (!lines.empty() && lines[0].name == kPublicMagic) {
    return InvalidArgument(At(file, 1) + "this is a public key file; give the .key file");
  }
  if (lines.size() < 5) return InvalidArgument(file + ": truncated secret key file");
  bool encrypted = lines[4].name == "encryption" && lines[4].value == kEncryptionArgon;
  if (encrypted) {
    EW_RETURN_IF_ERROR(ExpectNames(lines,
                                   {kSecretMagic, "algorithm", "key-id", "public-key", "encryption", "kdf-opslimit",
                                    "kdf-memlimit", "kdf-salt", "nonce", "secret"},
                                   file));
  } else {
    EW_RETURN_IF_ERROR(
        ExpectNames(lines, {kSecretMagic, "algorithm", "key-id", "public-key", "encryption", "secret"}, file));
    if (lines[4].value != kEncryptionNone) {
      return InvalidArgument(At(file, lines[4].number) + "field 'encryption': unsupported '" +
                             std::string(lines[4].value) + "'");
    }
  }
  if (lines[0].value != "v1") return InvalidArgument(At(file, 1) + "unsupported version '" + std::string(lines[0].value) + "'");
  if (lines[1].value != "ed25519") {
    return InvalidArgument(At(file, 2) + "field 'algorithm': unsupported '" + std::string(lines[1].value) + "'");
  }
  EW_ASSIGN_OR_RETURN(Ed25519PublicKey pub, DecodePublicKey(lines[3], lines[2], file));
  const Line& secret_line = lines.back();

  StatusOr<Ed25519SigningKey> key = Internal("unreachable");
  if (!encrypted) {
    EW_ASSIGN_OR_RETURN(Bytes seed, DecodeField(secret_line, kEd25519SeedSize, file));
    key = Ed25519SigningKey::FromSeed(seed);
    Cleanse(seed.data(), seed.size());
  } else {
    if (!passphrase.has_value()) {
      return FailedPrecondition(file + ": the key is passphrase-protected; give the passphrase");
    }
    PassphraseCost floor = InteractivePassphraseCost();
    PassphraseCost cost;
    EW_ASSIGN_OR_RETURN(cost.opslimit, DecodeNumber(lines[5], floor.opslimit, kMaxOpslimit, file));
    EW_ASSIGN_OR_RETURN(cost.memlimit, DecodeNumber(lines[6], floor.memlimit, kMaxMemlimit, file));
    EW_ASSIGN_OR_RETURN(Bytes salt, DecodeField(lines[7], crypto_pwhash_SALTBYTES, file));
    EW_ASSIGN_OR_RETURN(Bytes nonce, DecodeField(lines[8], crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, file));
    EW_ASSIGN_OR_RETURN(Bytes sealed, DecodeField(secret_line,
                                                  kEd25519SeedSize + crypto_aead_xchacha20poly1305_ietf_ABYTES, file));
    EW_ASSIGN_OR_RETURN(GuardedBytes k, DeriveKey(*passphrase, salt, cost));
    EW_ASSIGN_OR_RETURN(GuardedBytes seed, GuardedBytes::Allocate(kEd25519SeedSize));
    unsigned long long seed_len = 0;
    // Associated data: every byte before the "secret:" line.
    std::string_view head = text.substr(0, lines[lines.size() - 2].end);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(seed.data(), &seed_len, nullptr, sealed.data(), sealed.size(),
                                                   reinterpret_cast<const uint8_t*>(head.data()), head.size(),
                                                   nonce.data(), k.data()) != 0 ||
        seed_len != kEd25519SeedSize) {
      return PermissionDenied(file + ": wrong passphrase, or the key file was altered");
    }
    key = Ed25519SigningKey::FromSeed(seed.view());
  }
  if (!key.ok()) return key.status();
  if (!(key->public_key() == pub)) {
    return InvalidArgument(At(file, lines[3].number) + "field 'public-key': does not match the secret key");
  }
  return key;
}

StatusOr<Ed25519SigningKey> ReadSecretKeyFile(const std::string& path, std::optional<ByteView> passphrase) {
  EW_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, kMaxKeyFileBytes + 1));
  auto key = ParseSecretKeyFile(text, path, passphrase);
  CleanseString(text);
  return key;
}

StatusOr<KeyPairPaths> WriteKeyPair(const std::string& dir, const Ed25519SigningKey& key,
                                    std::optional<ByteView> passphrase, const PassphraseCost& cost) {
  EW_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  KeyPairPaths paths{dir + "/" + key.KeyId() + ".pub", dir + "/" + key.KeyId() + ".key"};
  EW_ASSIGN_OR_RETURN(std::string secret_text, FormatSecretKeyFile(key, passphrase, cost));
  Status st = CreateExclusive(paths.secret_path,
                              ByteView(reinterpret_cast<const uint8_t*>(secret_text.data()), secret_text.size()), 0600);
  CleanseString(secret_text);
  EW_RETURN_IF_ERROR(st);
  std::string pub_text = FormatPublicKeyFile(key.public_key());
  st = CreateExclusive(paths.public_path, ByteView(reinterpret_cast<const uint8_t*>(pub_text.data()), pub_text.size()),
                       0644);
  if (!st.ok()) {
    (void)::unlink(paths.secret_path.c_str());
    return st;
  }
  EW_RETURN_IF_ERROR(FsyncDir(dir));
  return paths;
}

}  // namespace edgeward::crypto
