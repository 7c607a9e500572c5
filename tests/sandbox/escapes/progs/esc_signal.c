/* Sends SIGTERM to a process outside the sandbox (argv[1], its host pid)
 * and to our parent (the launcher, outside the workload's domain). */
#include <signal.h>
#include <unistd.h>

#include "escape.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  int escaped = Report("kill(outside, SIGTERM)", kill((pid_t)atoi(argv[1]), SIGTERM));
  pid_t parent = getppid();
  printf("parent pid=%d\n", (int)parent);
  if (parent > 0) escaped |= Report("kill(parent, SIGTERM)", kill(parent, SIGTERM));
  return Escaped(escaped);
}
