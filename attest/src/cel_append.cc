// Durable appends to the CEL measurement log (see cel.h for the ordering
// contract with the PCR extend).
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgeward/attest/cel.h"
#include "edgeward/attest/eventlog.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/file.h"

namespace edgeward::attest {
namespace {

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Offset just past the last '\n' before `size` (0 if there is none).
StatusOr<off_t> EndOfLastLine(int fd, off_t size, const std::string& path) {
  char buf[4096];
  off_t end = size;
  while (end > 0) {
    const off_t start = end > static_cast<off_t>(sizeof buf) ? end - static_cast<off_t>(sizeof buf) : 0;
    const size_t want = static_cast<size_t>(end - start);
    ssize_t n = ::pread(fd, buf, want, start);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return EW_ERRNO("pread", path);
    if (static_cast<size_t>(n) != want) return DataLoss("pread(" + path + "): short read");
    for (size_t i = want; i > 0; --i) {
      if (buf[i - 1] == '\n') return start + static_cast<off_t>(i);
    }
    end = start;
  }
  return 0;
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return EW_ERRNO("write", path);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

Status AppendCelRecord(const std::string& path, std::string_view line) {
  if (line.empty() || line.find('\n') != std::string_view::npos) {
    return InvalidArgument("AppendCelRecord(" + path + "): a record is one non-empty line");
  }
  bool created = false;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid() && errno == ENOENT) {
    fd = UniqueFd(::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    created = fd.valid();
  }
  if (!fd.valid()) return EW_ERRNO("open", path);
  // Appends from two processes must not interleave with the tail repair.
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return EW_ERRNO("flock", path);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return EW_ERRNO("fstat", path);
  if (!S_ISREG(st.st_mode)) return FailedPrecondition("AppendCelRecord(" + path + "): not a regular file");
  if (st.st_size > 0) {
    char last = 0;
    ssize_t n;
    do {
      n = ::pread(fd.get(), &last, 1, st.st_size - 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) return n < 0 ? EW_ERRNO("pread", path) : DataLoss("pread(" + path + "): short read");
    if (last != '\n') {
      // A partial record from an append cut short by a crash: its extend
      // never happened (we extend only after fsync), so it goes.
      EW_ASSIGN_OR_RETURN(off_t keep, EndOfLastLine(fd.get(), st.st_size, path));
      spdlog::warn("cel log {}: removing a partial trailing record of {} bytes", path,
                   static_cast<long long>(st.st_size - keep));
      if (::ftruncate(fd.get(), keep) != 0) return EW_ERRNO("ftruncate", path);
    }
  }
  std::string record;
  record.reserve(line.size() + 1);
  record.append(line);
  record.push_back('\n');
  EW_RETURN_IF_ERROR(WriteAll(fd.get(), record, path));
  if (::fsync(fd.get()) != 0) return EW_ERRNO("fsync", path);
  if (created) EW_RETURN_IF_ERROR(FsyncDir(DirName(path)));
  return Status::Ok();
}

StatusOr<uint64_t> NextCelRecnum(const std::string& path) {
  auto text = ReadFileToString(path, kMaxEventLogBytes);
  if (!text.ok() && text.status().code() == StatusCode::kNotFound) return uint64_t{0};
  if (!text.ok()) return text.status();
  EW_ASSIGN_OR_RETURN(ParsedLog log, ParseCelLog(*text));
  return static_cast<uint64_t>(log.events.size());
}

}  // namespace edgeward::attest
