// Cache file layout (little-endian, all fixed-size fields first):
//   "EWSECBPF" | u32 format | u32 flags (bit 0: needs_supervisor)
//   | u32 main instruction count | u32 sendmsg instruction count
//   | 32-byte key | programs (8 bytes per instruction) | SHA-256 of all before.
// The trailer detects corruption and truncation; the key inside guards
// against a file renamed to another entry's name. Tampering needs write
// access to a 0700 root directory (where the checks on owner and mode
// below apply), which already means game over; so a hash, not an HMAC.
#include "cache.h"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "edgeward/base/bytes.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/file.h"
#include <spdlog/spdlog.h>
#include "edgeward/crypto/hash.h"

namespace edgeward::seccomp::internal {
namespace {

constexpr char kMagic[8] = {'E', 'W', 'S', 'E', 'C', 'B', 'P', 'F'};
constexpr uint32_t kFormat = 1;
constexpr size_t kHeader = 8 + 4 * 4 + 32;
constexpr size_t kMaxFile = 1 << 20;

void PutU32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

std::string PathFor(const std::string& dir, const std::string& key) { return dir + "/" + key + ".bpf"; }
std::string NameFor(const std::string& key) { return key + ".bpf"; }

std::optional<Programs> Reject(const std::string& path, const std::string& why) {
  spdlog::warn("seccomp cache: ignoring {}: {}", path, why);
  return std::nullopt;
}

}  // namespace

std::string CacheKey(const DecisionTable& table, bool supervise) {
  const scmp_version* v = seccomp_version();
  std::string text = "edgeward seccomp cache " + std::to_string(kFormat) + "\nlibseccomp " +
                     std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro) +
                     "\nsupervise " + (supervise ? "1" : "0") + "\n" + CanonicalTable(table);
  return HexEncode(crypto::Digest(crypto::HashAlg::kSha256, AsBytes(text)));
}

std::optional<Programs> CacheLoad(const std::string& dir, const std::string& key) {
  const std::string path = PathFor(dir, key);
  // The directory must be ours and closed to everyone else (0700): anyone
  // who can write it can swap an entry. Checked on the open descriptor, and
  // the entry opened relative to it: no window between check and use.
  UniqueFd dfd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dfd.valid()) return std::nullopt;
  struct stat dst;
  if (fstat(dfd.get(), &dst) != 0) return Reject(dir, "fstat failed");
  if (dst.st_uid != geteuid()) return Reject(path, "cache directory not owned by us");
  if ((dst.st_mode & 077) != 0) return Reject(path, "cache directory not mode 0700");
  UniqueFd fd(openat(dfd.get(), NameFor(key).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Reject(path, "fstat failed");
  if (!S_ISREG(st.st_mode)) return Reject(path, "not a regular file");
  if (st.st_uid != geteuid()) return Reject(path, "not owned by us");
  if ((st.st_mode & 022) != 0) return Reject(path, "group/world writable");
  if (st.st_size < static_cast<off_t>(kHeader + 32) || st.st_size > static_cast<off_t>(kMaxFile)) {
    return Reject(path, "bad size");
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = pread(fd.get(), data.data() + got, data.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Reject(path, "short read");
    got += static_cast<size_t>(n);
  }
  const size_t body = data.size() - 32;
  Bytes digest = crypto::Digest(crypto::HashAlg::kSha256, AsBytes(std::string_view(data).substr(0, body)));
  if (std::memcmp(digest.data(), data.data() + body, 32) != 0) return Reject(path, "checksum mismatch");
  if (std::memcmp(data.data(), kMagic, 8) != 0 || GetU32(data.data() + 8) != kFormat) {
    return Reject(path, "unknown format");
  }
  uint32_t flags = GetU32(data.data() + 12), n_main = GetU32(data.data() + 16), n_send = GetU32(data.data() + 20);
  if (HexEncode(AsBytes(std::string_view(data).substr(24, 32))) != key) return Reject(path, "key mismatch");
  if (n_main == 0 || n_main > BPF_MAXINSNS || n_send > BPF_MAXINSNS ||
      kHeader + (static_cast<size_t>(n_main) + n_send) * sizeof(sock_filter) != body) {
    return Reject(path, "bad program lengths");
  }
  Programs p;
  p.needs_supervisor = (flags & 1) != 0;
  p.main.resize(n_main);
  p.sendmsg.resize(n_send);
  std::memcpy(p.main.data(), data.data() + kHeader, n_main * sizeof(sock_filter));
  if (n_send > 0) {
    std::memcpy(p.sendmsg.data(), data.data() + kHeader + n_main * sizeof(sock_filter), n_send * sizeof(sock_filter));
  }
  return p;
}

Status CacheStore(const std::string& dir, const std::string& key, const Programs& p) {
  EW_RETURN_IF_ERROR(MakeDirs(dir, 0700, /*enforce_mode=*/true));
  auto key_bytes = HexDecode(key);
  if (!key_bytes.ok() || key_bytes->size() != 32) return Internal("seccomp cache: bad key");
  std::string data(kMagic, 8);
  PutU32(data, kFormat);
  PutU32(data, p.needs_supervisor ? 1 : 0);
  PutU32(data, static_cast<uint32_t>(p.main.size()));
  PutU32(data, static_cast<uint32_t>(p.sendmsg.size()));
  data.append(AsChars(*key_bytes));
  data.append(reinterpret_cast<const char*>(p.main.data()), p.main.size() * sizeof(sock_filter));
  data.append(reinterpret_cast<const char*>(p.sendmsg.data()), p.sendmsg.size() * sizeof(sock_filter));
  Bytes digest = crypto::Digest(crypto::HashAlg::kSha256, AsBytes(data));
  data.append(AsChars(digest));
  return WriteFileAtomic(PathFor(dir, key), AsBytes(data), 0600);
}

}  // namespace edgeward::seccomp::internal
