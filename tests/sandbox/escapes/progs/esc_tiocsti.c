/* TIOCSTI pushes characters into a terminal's input queue: typed as if by
 * the user of the terminal outside. Tried on stdin/stdout/stderr and
 * /dev/tty. */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "escape.h"

int main(void) {
  char c = '#';
  int escaped = 0;
  for (int fd = 0; fd <= 2; ++fd) {
    char what[64];
    snprintf(what, sizeof what, "ioctl(%d, TIOCSTI)", fd);
    escaped |= Report(what, ioctl(fd, TIOCSTI, &c));
  }
  int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
  Report("open(/dev/tty)", tty);
  if (tty >= 0) escaped |= Report("ioctl(/dev/tty, TIOCSTI)", ioctl(tty, TIOCSTI, &c));
  return Escaped(escaped);
}
