#include "edgeward/base/errno_status.h"

#include <cstring>
#include <string>

namespace edgeward {

Status ErrnoStatus(std::string_view call, std::string_view what, int err) {
  std::string m(call);
  if (!what.empty()) {
    m += "(";
    m += what;
    m += ")";
  }
  m += ": ";
  m += std::strerror(err);
  StatusCode code = StatusCode::kInternal;
  switch (err) {
    case ENOENT: code = StatusCode::kNotFound; break;
    case EACCES:
    case EPERM: code = StatusCode::kPermissionDenied; break;
    case ENOSPC:
    case EDQUOT:
    case ENOMEM:
    case EMFILE:
    case ENFILE: code = StatusCode::kResourceExhausted; break;
    case EINVAL: code = StatusCode::kInvalidArgument; break;
    case EEXIST: code = StatusCode::kAlreadyExists; break;
    case ECONNREFUSED:
    case EAGAIN:
    case EBUSY:
    case ETIMEDOUT: code = StatusCode::kUnavailable; break;
    default: break;
  }
  return Status(code, std::move(m));
}

}  // namespace edgeward
