#include "edgeward/attest_node/file_scan.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <optional>
#include <set>
#include <utility>

#include <spdlog/spdlog.h>

#include "edgeward/base/errno_status.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/file.h"
#include "edgeward/crypto/hash.h"

namespace edgeward::attest_node {
namespace fs = std::filesystem;
namespace {

constexpr char kCacheMagic[] = "edgeward-scan-cache v1\n";
constexpr size_t kMaxCacheBytes = 256u << 20;
// Larger than the coarse-clock lag (a few ms) and the timestamp granularity
// of common file systems (1 s; 2 s for FAT).
constexpr int64_t kRacyCleanSlackNs = 2'000'000'000;

int64_t ToNs(const struct timespec& ts) { return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec; }

int64_t NowNs() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return ToNs(ts);
}

FileIdentity IdentityOf(const struct stat& st) {
  return FileIdentity{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                      static_cast<uint64_t>(st.st_size), ToNs(st.st_mtim), ToNs(st.st_ctim)};
}

// Little-endian fixed-width fields keep the cache format trivial to check.
void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
bool GetU64(std::string_view& in, uint64_t& v) {
  if (in.size() < 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(in[i])} << (8 * i);
  in.remove_prefix(8);
  return true;
}

// The one rule for reusing a digest: nothing about the file changed, and
// its last change was well before the moment it was hashed (not racily
// clean): the kernel stamps ctime from a coarse clock that lags
// CLOCK_REALTIME, truncated to the file system's granularity, so a write just
// after our hash can carry a ctime *earlier* than hashed_at. The slack
// covers both.
std::optional<FileDigest> FromCache(const ScanCache& cache, const std::string& path, const FileIdentity& now) {
  const ScanCache::Entry* e = cache.Find(path);
  if (e == nullptr || !(e->identity == now) || now.ctime_ns + kRacyCleanSlackNs >= e->hashed_at_ns ||
      e->sha256.size() != 32) {
    return std::nullopt;
  }
  FileDigest d;
  d.path = path;
  d.identity = now;
  d.sha256 = e->sha256;
  d.from_cache = true;
  return d;
}

}  // namespace

ScanCache ScanCache::Load(const std::string& path) {
  ScanCache cache;
  auto data = ReadFileToString(path, kMaxCacheBytes);
  if (!data.ok()) {
    if (data.status().code() != StatusCode::kNotFound) {
      spdlog::warn("scan cache {} ignored: {}", path, data.status().ToString());
    }
    return cache;
  }
  std::string_view in = *data;
  auto corrupt = [&](const char* why) {
    spdlog::warn("scan cache {} is corrupt ({}); every file will be re-hashed", path, why);
    return ScanCache();
  };
  if (in.substr(0, sizeof kCacheMagic - 1) != kCacheMagic) return corrupt("bad header");
  in.remove_prefix(sizeof kCacheMagic - 1);
  uint64_t count = 0;
  if (!GetU64(in, count)) return corrupt("truncated count");
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t len = 0;
    if (!GetU64(in, len) || len > 4096 || in.size() < len) return corrupt("bad path length");
    std::string p(in.substr(0, len));
    in.remove_prefix(len);
    Entry e;
    uint64_t mt = 0, ct = 0, at = 0;
    if (!GetU64(in, e.identity.dev) || !GetU64(in, e.identity.ino) || !GetU64(in, e.identity.size) ||
        !GetU64(in, mt) || !GetU64(in, ct) || !GetU64(in, at) || in.size() < 32) {
      return corrupt("truncated entry");
    }
    e.identity.mtime_ns = static_cast<int64_t>(mt);
    e.identity.ctime_ns = static_cast<int64_t>(ct);
    e.hashed_at_ns = static_cast<int64_t>(at);
    e.sha256.assign(in.begin(), in.begin() + 32);
    in.remove_prefix(32);
    cache.entries_[std::move(p)] = std::move(e);
  }
  if (!in.empty()) return corrupt("trailing bytes");
  return cache;
}

Status ScanCache::Save(const std::string& path) const {
  std::string out(kCacheMagic);
  PutU64(out, entries_.size());
  for (const auto& [p, e] : entries_) {
    PutU64(out, p.size());
    out += p;
    PutU64(out, e.identity.dev);
    PutU64(out, e.identity.ino);
    PutU64(out, e.identity.size);
    PutU64(out, static_cast<uint64_t>(e.identity.mtime_ns));
    PutU64(out, static_cast<uint64_t>(e.identity.ctime_ns));
    PutU64(out, static_cast<uint64_t>(e.hashed_at_ns));
    out.append(reinterpret_cast<const char*>(e.sha256.data()), e.sha256.size());
  }
  return WriteFileAtomic(path, AsBytes(out), 0600);
}

const ScanCache::Entry* ScanCache::Find(const std::string& path) const {
  auto it = entries_.find(path);
  return it == entries_.end() ? nullptr : &it->second;
}

StatusOr<FileDigest> HashFile(const std::string& path, ScanCache* cache) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) return EW_ERRNO("open", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return EW_ERRNO("fstat", path);
  if (!S_ISREG(st.st_mode)) return InvalidArgument(path + ": not a regular file");

  FileDigest out;
  out.path = path;
  out.identity = IdentityOf(st);
  if (cache != nullptr) {
    if (std::optional<FileDigest> hit = FromCache(*cache, path, out.identity)) return std::move(*hit);
  }

  static thread_local std::vector<uint8_t> buf(1 << 20);
  for (int attempt = 0; attempt < 3; ++attempt) {
    int64_t started = NowNs();
    if (::lseek(fd.get(), 0, SEEK_SET) != 0) return EW_ERRNO("lseek", path);
    // Sequential read hint; failure only costs speed.
    (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    crypto::Hasher h(crypto::HashAlg::kSha256);
    for (;;) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return EW_ERRNO("read", path);
      }
      if (n == 0) break;
      h.Update(ByteView(buf.data(), static_cast<size_t>(n)));
    }
    struct stat after {};
    if (::fstat(fd.get(), &after) != 0) return EW_ERRNO("fstat", path);
    FileIdentity id_after = IdentityOf(after);
    if (id_after == out.identity) {
      out.sha256 = h.Finish();
      if (cache != nullptr) cache->Put(path, {out.identity, started, out.sha256});
      return out;
    }
    out.identity = id_after;  // it changed while we read: read again
  }
  return Unavailable(path + ": file kept changing while it was being measured");
}

namespace {

// Collects the regular files under `dir`, following symbolic links: a link
// to a file is measured (the target's content) under the link's own path, so
// swapping a measured file for a link to something else changes the record
// for that path; a link to a directory is walked, each directory at most once
// (by device and inode), so link loops end.
using FoundFile = std::pair<std::string, FileIdentity>;

Status Walk(const fs::path& dir, std::set<std::pair<dev_t, ino_t>>& seen, std::vector<FoundFile>& files,
            int depth) {
  if (depth > 64) return InvalidArgument(dir.string() + ": directories nested deeper than 64 levels");
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  if (ec) return InvalidArgument(dir.string() + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Internal(dir.string() + ": reading the directory: " + ec.message());
    const fs::path& p = it->path();
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // a dangling link, or removed while we walk: nothing to measure
      return EW_ERRNO("stat", p.string());
    }
    if (S_ISREG(st.st_mode)) {
      files.emplace_back(p.string(), IdentityOf(st));
    } else if (S_ISDIR(st.st_mode) && seen.insert({st.st_dev, st.st_ino}).second) {
      EW_RETURN_IF_ERROR(Walk(p, seen, files, depth + 1));
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::vector<FileDigest>> HashPaths(const std::vector<std::string>& paths, ScanCache* cache) {
  std::vector<FoundFile> files;
  std::set<std::pair<dev_t, ino_t>> seen;
  for (const std::string& given : paths) {
    std::error_code ec;
    fs::path abs = fs::absolute(given, ec);
    if (ec) return InvalidArgument(given + ": " + ec.message());
    abs = abs.lexically_normal();
    struct stat st {};
    if (::stat(abs.c_str(), &st) != 0) return EW_ERRNO("stat", abs.string());
    if (S_ISREG(st.st_mode)) {
      files.emplace_back(abs.string(), IdentityOf(st));
      continue;
    }
    if (!S_ISDIR(st.st_mode)) return InvalidArgument(abs.string() + ": not a regular file or directory");
    if (seen.insert({st.st_dev, st.st_ino}).second) EW_RETURN_IF_ERROR(Walk(abs, seen, files, 0));
  }
  std::sort(files.begin(), files.end(), [](const FoundFile& a, const FoundFile& b) { return a.first < b.first; });
  files.erase(std::unique(files.begin(), files.end(),
                          [](const FoundFile& a, const FoundFile& b) { return a.first == b.first; }),
              files.end());
  std::vector<FileDigest> out;
  out.reserve(files.size());
  for (auto& [path, identity] : files) {
    // The walk's stat() already tells whether the cache may answer; only
    // files that changed (or are racily clean) are opened and read.
    if (cache != nullptr) {
      if (std::optional<FileDigest> hit = FromCache(*cache, path, identity)) {
        out.push_back(std::move(*hit));
        continue;
      }
    }
    EW_ASSIGN_OR_RETURN(FileDigest d, HashFile(path, cache));
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace edgeward::attest_node
