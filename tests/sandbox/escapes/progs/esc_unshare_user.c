/* unshare(CLONE_NEWUSER): a new user namespace gives back every capability
 * inside it, the first step of most container escapes. */
#include <sched.h>

#include "escape.h"

int main(void) {
  return Escaped(Report("unshare(CLONE_NEWUSER)", unshare(CLONE_NEWUSER)));
}
