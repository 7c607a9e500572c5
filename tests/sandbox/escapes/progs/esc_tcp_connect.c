/* Connects to 127.0.0.1:argv[1], a port the policy doesn't list. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "escape.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (!Report("socket(AF_INET)", s)) return Escaped(0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((unsigned short)atoi(argv[1]));
  return Escaped(Report("connect(127.0.0.1:unlisted)", connect(s, (struct sockaddr*)&a, sizeof a)));
}
