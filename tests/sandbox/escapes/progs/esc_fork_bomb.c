/* Forks until fork() fails; the escape succeeds if 2000 processes exist at
 * once (the pids limit is far lower). */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "escape.h"

#define kWanted 2000

int main(void) {
  static pid_t kids[kWanted];
  int n = 0;
  long rc = 0;
  for (; n < kWanted; ++n) {
    pid_t pid = fork();
    if (pid == 0) {
      pause();
      _exit(0);
    }
    if (pid < 0) {
      rc = -1;
      break;
    }
    kids[n] = pid;
  }
  int err = errno;
  printf("forked %d children\n", n);
  errno = err;
  int escaped = Report("fork until it fails", rc == 0 ? n : -1);
  for (int i = 0; i < n; ++i) kill(kids[i], SIGKILL);
  for (int i = 0; i < n; ++i) waitpid(kids[i], NULL, 0);
  return Escaped(escaped);
}
