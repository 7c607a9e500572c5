// Step "no_new_privs": after this, execve can't grant privileges (setuid
// bits and file capabilities are ignored), and an unprivileged process may
// install seccomp filters and Landlock rulesets.
#pragma once

#include "edgeward/sandbox/child_failure.h"

namespace edgeward::sandbox {

// CHILD SIDE (no allocation): prctl(PR_SET_NO_NEW_PRIVS), read back.
bool SetNoNewPrivs(ChildFailure* failure);

}  // namespace edgeward::sandbox
