/* setns() into PID 1's mount namespace (inside a shared PID namespace that
 * would be the host's). */
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "escape.h"

int main(void) {
  int fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
  Report("open(/proc/1/ns/mnt)", fd);
  if (fd < 0) {
    /* Still make the call: the filter must stop setns itself, whatever fd. */
    fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    Report("open(/proc/self/ns/mnt)", fd);
  }
  return Escaped(Report("setns(mnt)", setns(fd, CLONE_NEWNS)));
}
