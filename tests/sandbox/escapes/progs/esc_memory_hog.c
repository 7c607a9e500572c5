/* Allocates and touches memory in 16 MiB steps up to 2 GiB; the escape
 * succeeds if all of it is resident at once (the memory limit is far
 * lower, so the OOM killer should end us first). */
#include <sys/mman.h>

#include "escape.h"

int main(void) {
  const size_t kStep = 16UL << 20, kWanted = 2048UL << 20;
  size_t total = 0;
  while (total < kWanted) {
    char* p = mmap(NULL, kStep, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return Escaped(Report("mmap", -1));
    memset(p, 0xA5, kStep);  /* touch every page */
    total += kStep;
    printf("resident %zu MiB\n", total >> 20);
    fflush(stdout);
  }
  return Escaped(1);
}
