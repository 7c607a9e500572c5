/* Reads /etc/shadow (password hashes). */
#include <fcntl.h>
#include <unistd.h>

#include "escape.h"

int main(void) {
  int fd = open("/etc/shadow", O_RDONLY | O_CLOEXEC);
  int escaped = Report("open(/etc/shadow)", fd);
  if (fd >= 0) {
    char buf[64];
    escaped = Report("read(/etc/shadow)", read(fd, buf, sizeof buf)) && escaped;
  }
  return Escaped(escaped);
}
