// EventFileWriter: appends JSON lines to a workload's events file in the
// protocol the agent's supervisor reads it by (docs/workloads.md, "Events
// file rotation"), so the agent can rotate the file while the writer runs:
//   - every line is one write(2) on an O_APPEND fd, under a shared flock;
//   - the reader rotates under an exclusive flock: it drains the file,
//     renames it to <path>.1 and creates a new <path>;
//   - before each line the writer checks (under its lock) that its fd is
//     still <path> and reopens <path> if it was rotated away.
// The flock excludes only the rotation, never other writers. "-" writes to
// stdout without any of this. One writer per process (not thread-safe).
#pragma once

#include <memory>
#include <string>

#include "edgeward/base/fd.h"
#include "edgeward/base/status.h"

namespace edgeward {

class EventFileWriter {
 public:
  // Opens (creates, 0600) `path` for appending, or stdout for "-".
  static StatusOr<std::unique_ptr<EventFileWriter>> Open(const std::string& path);

  // Appends `json` + "\n". A failure is reported once on stderr and the
  // writer keeps trying with the next line (events are best effort for
  // the runner; the workload must not stop because a disk is full).
  void Write(const std::string& json);

 private:
  EventFileWriter() = default;
  // Under the shared lock of the current fd: reopen if rotated away.
  void FollowRotation();
  void WarnOnce(const char* what, int err);

  std::string path_;
  UniqueFd owned_;
  int fd_ = -1;
  bool warned_ = false;
};

}  // namespace edgeward
