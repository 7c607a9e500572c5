// File helpers that every module uses: bounded reads and crash-safe writes.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"

namespace edgeward {

// Reads a whole file. A file larger than `max_bytes` → kResourceExhausted
// (outside input must not make us allocate without bound). Reads regular
// files and pseudo-files (securityfs, procfs) whose size is reported as 0.
StatusOr<std::string> ReadFileToString(const std::string& path, size_t max_bytes);
// The same for a file that must be a regular one (outside input at a path
// others may be able to swap): opened O_NONBLOCK and checked with fstat on
// the opened fd, so a FIFO or device put in its place is refused
// (kInvalidArgument "not a regular file") instead of blocking the caller.
StatusOr<std::string> ReadRegularFileToString(const std::string& path, size_t max_bytes);

// Writes `data` to `path` atomically: a temporary file in the same directory
// is written, fsync'd, given `mode`, renamed over `path`, and the directory
// is fsync'd. Readers see the old content or the new, never a mix.
Status WriteFileAtomic(const std::string& path, ByteView data, mode_t mode);

// Creates `path` (and missing parents) with `mode`; an existing directory
// keeps its mode unless `enforce_mode`, in which case it is chmod'ed.
Status MakeDirs(const std::string& path, mode_t mode, bool enforce_mode = false);

// fsync on a directory, so a rename or create inside it is durable.
Status FsyncDir(const std::string& dir);

}  // namespace edgeward
