/* An x32 syscall (getpid with __X32_SYSCALL_BIT): same number space, other
 * ABI; a filter must not treat it as native. */
#include <sys/syscall.h>
#include <unistd.h>

#include "escape.h"

#define X32_SYSCALL_BIT 0x40000000L

int main(void) {
  printf("calling x32 getpid\n");
  fflush(stdout);
  return Escaped(Report("x32 getpid", syscall(X32_SYSCALL_BIT | SYS_getpid)));
}
