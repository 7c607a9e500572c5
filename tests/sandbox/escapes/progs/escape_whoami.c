/* Installed setuid-root by the test: prints its ids and exits 0 only if it
 * got euid 0 (and then shows what that buys: reading /etc/shadow). */
#include <fcntl.h>
#include <unistd.h>

#include "escape.h"

int main(void) {
  printf("whoami: uid=%d euid=%d\n", (int)getuid(), (int)geteuid());
  if (geteuid() != 0) return 1;
  Report("open(/etc/shadow) as euid 0", open("/etc/shadow", O_RDONLY | O_CLOEXEC));
  return 0;
}
