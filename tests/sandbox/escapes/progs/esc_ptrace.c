/* ptrace(PTRACE_ATTACH) a process outside the sandbox: argv[1] is its host
 * pid; our parent (the launcher) is tried too. */
#include <sys/ptrace.h>
#include <unistd.h>

#include "escape.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  pid_t outside = (pid_t)atoi(argv[1]);
  int escaped = Report("ptrace(PTRACE_ATTACH, outside)", ptrace(PTRACE_ATTACH, outside, 0, 0));
  pid_t parent = getppid();
  if (parent > 0) escaped |= Report("ptrace(PTRACE_ATTACH, parent)", ptrace(PTRACE_ATTACH, parent, 0, 0));
  return Escaped(escaped);
}
