#include "no_new_privs.h"

#include <sys/prctl.h>

#include <cerrno>

namespace edgeward::sandbox {

bool SetNoNewPrivs(ChildFailure* f) {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return SetChildFailure(f, "no_new_privs", "prctl", "PR_SET_NO_NEW_PRIVS", errno);
  }
  if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
    return SetChildFailure(f, "no_new_privs", "prctl", "PR_GET_NO_NEW_PRIVS", errno ? errno : EPERM);
  }
  return true;
}

}  // namespace edgeward::sandbox
