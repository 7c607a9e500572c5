/* Executes argv[1], a root-owned setuid copy of escape_whoami; the escape
 * succeeds if it runs with euid 0. */
#include <sys/wait.h>
#include <unistd.h>

#include "escape.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  printf("before exec: uid=%d euid=%d\n", (int)getuid(), (int)geteuid());
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    execl(argv[1], argv[1], (char*)NULL);
    Report("execl(setuid copy)", -1);
    _exit(127);
  }
  int status = 0;
  if (!Report("fork", pid) || waitpid(pid, &status, 0) != pid) return Escaped(0);
  /* escape_whoami exits 0 only when it ran as euid 0 */
  return Escaped(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
