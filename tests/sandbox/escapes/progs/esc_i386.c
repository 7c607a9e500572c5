/* An i386 syscall through int $0x80 (getpid, nr 20 on i386): a filter that
 * only checks x86_64 numbers would let any i386 syscall through. */
#include "escape.h"

int main(void) {
  long ret;
  printf("calling int $0x80 getpid\n");
  fflush(stdout);
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
  if (ret < 0) {
    errno = (int)-ret;
    ret = -1;
  }
  return Escaped(Report("int $0x80 getpid", ret));
}
