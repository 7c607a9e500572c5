// Hashing files for measurement, with a cache that lets a second scan of an
// unchanged tree skip re-reading file content.
//
// What the cache may skip, and why that is safe: an entry is reused only
// when the file's device, inode, size, mtime and ctime (nanoseconds) are all
// unchanged. ctime cannot be set from user space — every write, chmod,
// rename or utimes() moves it to the current time — so a changed file shows
// a changed ctime even if its mtime was forged. A file whose ctime is within
// 2 s of the moment the cache entry was made ("racily clean", as git calls
// it: the kernel stamps ctime from a coarse clock truncated to the file
// system's granularity, so a later write can carry the same or an earlier
// ctime) is always re-hashed. The cache lives in the agent's state directory (0600);
// whoever can write it can already write the measurement log.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"

namespace edgeward::attest_node {

struct FileIdentity {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};

struct FileDigest {
  std::string path;     // as given or as found while walking a directory
  Bytes sha256;         // SHA-256 of the content
  FileIdentity identity;
  bool from_cache = false;
};

// Remembers digests by path. Not thread-safe.
class ScanCache {
 public:
  // Loads a cache file; a missing file is an empty cache. A corrupt cache
  // is discarded with a warning (it only ever saves work), never trusted.
  static ScanCache Load(const std::string& path);
  // Saves atomically with mode 0600.
  Status Save(const std::string& path) const;

  struct Entry {
    FileIdentity identity;
    int64_t hashed_at_ns = 0;  // CLOCK_REALTIME when the content was read
    Bytes sha256;
  };
  const Entry* Find(const std::string& path) const;
  void Put(const std::string& path, Entry e) { entries_[path] = std::move(e); }
  size_t size() const { return entries_.size(); }

 private:
  std::unordered_map<std::string, Entry> entries_;
};

// Hashes one regular file, reading through the descriptor it stat()s, so the
// identity and the digest describe the same file. If the file changes while
// it is read (size or ctime differ before and after), it is read again, up
// to 3 times, then kUnavailable. `cache` may be null.
StatusOr<FileDigest> HashFile(const std::string& path, ScanCache* cache);

// Expands `paths` (files or directories, walked recursively) into sorted
// absolute paths, then hashes each. Symbolic links are followed: a link to a
// file is measured — the content it leads to — under the link's own path (so
// replacing a measured file with a link to another file changes that path's
// digest); a link to a directory is walked, each directory once, so loops
// end. Dangling links and non-regular files (devices, FIFOs, sockets) are
// skipped. A given path that does not exist is an error naming it.
StatusOr<std::vector<FileDigest>> HashPaths(const std::vector<std::string>& paths, ScanCache* cache);

}  // namespace edgeward::attest_node
