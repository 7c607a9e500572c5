#include "edgeward/base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "edgeward/base/errno_status.h"
#include "edgeward/base/fd.h"

namespace edgeward {
namespace {

std::string DirName(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

Status WriteAll(int fd, ByteView data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return EW_ERRNO("write", path);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes, bool regular_only) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | (regular_only ? O_NONBLOCK : 0)));
  if (!fd.valid()) return EW_ERRNO("open", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return EW_ERRNO("fstat", path);
  if (S_ISDIR(st.st_mode)) return InvalidArgument(path + ": is a directory");
  if (regular_only && !S_ISREG(st.st_mode)) return InvalidArgument(path + ": not a regular file");
  if (st.st_size > 0 && static_cast<uint64_t>(st.st_size) > max_bytes) {
    return ResourceExhausted(path + ": file is " + std::to_string(st.st_size) +
                             " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  std::string out;
  out.reserve(st.st_size > 0 ? static_cast<size_t>(st.st_size) : 4096);
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return EW_ERRNO("read", path);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      return ResourceExhausted(path + ": more than the limit of " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

StatusOr<std::string> ReadFileToString(const std::string& path, size_t max_bytes) {
  return ReadFile(path, max_bytes, /*regular_only=*/false);
}

StatusOr<std::string> ReadRegularFileToString(const std::string& path, size_t max_bytes) {
  return ReadFile(path, max_bytes, /*regular_only=*/true);
}

Status FsyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return EW_ERRNO("open", dir);
  if (::fsync(fd.get()) != 0) return EW_ERRNO("fsync", dir);
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, ByteView data, mode_t mode) {
  const std::string dir = DirName(path);
  std::random_device rd;
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  // O_EXCL: never follow or reuse a file someone planted at the temp name.
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode & 0777));
  if (!fd.valid()) return EW_ERRNO("open", tmp);
  auto fail = [&](Status s) {
    ::unlink(tmp.c_str());
    return s;
  };
  // The umask may have narrowed the mode; set it exactly.
  if (::fchmod(fd.get(), mode & 0777) != 0) return fail(EW_ERRNO("fchmod", tmp));
  if (Status s = WriteAll(fd.get(), data, tmp); !s.ok()) return fail(s);
  if (::fsync(fd.get()) != 0) return fail(EW_ERRNO("fsync", tmp));
  if (::close(fd.Release()) != 0) return fail(EW_ERRNO("close", tmp));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(EW_ERRNO("rename", tmp + " -> " + path));
  return FsyncDir(dir);
}

Status MakeDirs(const std::string& path, mode_t mode, bool enforce_mode) {
  if (path.empty()) return InvalidArgument("MakeDirs: empty path");
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string part = path.substr(0, pos);
    if (part.empty()) continue;
    if (::mkdir(part.c_str(), pos == std::string::npos ? mode : 0755) != 0 && errno != EEXIST) {
      return EW_ERRNO("mkdir", part);
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return EW_ERRNO("stat", path);
  if (!S_ISDIR(st.st_mode)) return FailedPrecondition(path + ": exists and is not a directory");
  if (enforce_mode && (st.st_mode & 07777) != mode) {
    if (::chmod(path.c_str(), mode) != 0) return EW_ERRNO("chmod", path);
  }
  return Status::Ok();
}

}  // namespace edgeward
