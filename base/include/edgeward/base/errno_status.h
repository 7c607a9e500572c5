// Converts errno into a Status once, right at the failing syscall.
#pragma once

#include <cerrno>
#include <string_view>

#include "edgeward/base/status.h"

namespace edgeward {

// "open(/var/lib/edgeward/ak.blob): No such file or directory"
// ENOENT → kNotFound, EACCES/EPERM → kPermissionDenied, ENOSPC/EDQUOT/ENOMEM →
// kResourceExhausted, EINVAL → kInvalidArgument, anything else → kInternal.
Status ErrnoStatus(std::string_view call, std::string_view what, int err);

}  // namespace edgeward

// Evaluates to an ErrnoStatus naming the call as written in the source.
#define EW_ERRNO(call_name, what) ::edgeward::ErrnoStatus(call_name, what, errno)
