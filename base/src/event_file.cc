#include "edgeward/base/event_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "edgeward/base/errno_status.h"

namespace edgeward {

StatusOr<std::unique_ptr<EventFileWriter>> EventFileWriter::Open(const std::string& path) {
  auto w = std::unique_ptr<EventFileWriter>(new EventFileWriter());
  if (path == "-") {
    w->fd_ = STDOUT_FILENO;
    return w;
  }
  w->path_ = path;
  w->owned_ = UniqueFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!w->owned_.valid()) return EW_ERRNO("open", path);
  w->fd_ = w->owned_.get();
  return w;
}

void EventFileWriter::WarnOnce(const char* what, int err) {
  if (warned_) return;
  warned_ = true;
  std::fprintf(stderr, "edgeward: warning: events file %s: %s: %s\n", path_.empty() ? "-" : path_.c_str(), what,
               std::strerror(err));
}

void EventFileWriter::FollowRotation() {
  struct stat now {};
  struct stat ours {};
  if (::fstat(fd_, &ours) != 0) return WarnOnce("fstat", errno);
  if (::stat(path_.c_str(), &now) == 0 && now.st_ino == ours.st_ino && now.st_dev == ours.st_dev) return;
  // Rotated (or removed): the reader has drained our old file; continue in
  // the new one (creating it if the reader died before it could).
  UniqueFd fresh(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!fresh.valid()) return WarnOnce("reopen after rotation", errno);
  if (::flock(fresh.get(), LOCK_SH) != 0) return WarnOnce("flock", errno);
  (void)::flock(fd_, LOCK_UN);  // closing would drop it too
  owned_ = std::move(fresh);
  fd_ = owned_.get();
}

void EventFileWriter::Write(const std::string& json) {
  const std::string line = json + "\n";
  const bool file = !path_.empty();
  if (file) {
    int rc;
    while ((rc = ::flock(fd_, LOCK_SH)) != 0 && errno == EINTR) {
    }
    // Follow a rotation even without the lock: writing on into the renamed
    // file would lose every later line, which is worse than the small race
    // the lock closes.
    if (rc != 0) WarnOnce("flock", errno);
    FollowRotation();
  }
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      WarnOnce("write", n < 0 ? errno : EIO);
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (file) (void)::flock(fd_, LOCK_UN);  // unlocking a lock we hold cannot fail
}

}  // namespace edgeward
