/* Not an escape: a TCP server and client on loopback inside the sandbox.
 * Binds 127.0.0.1:argv[1], connects to it, sends "ping", the server answers
 * "pong"; prints "roundtrip ok" and exits 0 on success. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "escape.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((unsigned short)atoi(argv[1]));
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (!Report("socket", ls) ||
      !Report("setsockopt", setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)) ||
      !Report("bind", bind(ls, (struct sockaddr*)&a, sizeof a)) || !Report("listen", listen(ls, 1))) {
    return 1;
  }
  pid_t server = fork();
  if (server == 0) {
    int c = accept(ls, NULL, NULL);
    char buf[4];
    if (c < 0 || read(c, buf, 4) != 4 || memcmp(buf, "ping", 4) != 0) _exit(1);
    _exit(write(c, "pong", 4) == 4 ? 0 : 1);
  }
  if (!Report("fork", server)) return 1;
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  char buf[5] = {0};
  if (!Report("socket", s) || !Report("connect", connect(s, (struct sockaddr*)&a, sizeof a)) ||
      !Report("write", write(s, "ping", 4)) || !Report("read", read(s, buf, 4))) {
    return 1;
  }
  int status = 0;
  if (waitpid(server, &status, 0) != server || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    printf("server failed\n");
    return 1;
  }
  printf("reply %s\n", buf);
  if (strcmp(buf, "pong") != 0) return 1;
  printf("roundtrip ok\n");
  return 0;
}
