/* Writes into a readOnly path (argv[1], a directory bind-mounted read-only),
 * both a new file and an existing one (argv[2]). */
#include <fcntl.h>
#include <unistd.h>

#include "escape.h"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  char path[4096];
  snprintf(path, sizeof path, "%s/escaped-file", argv[1]);
  int escaped = Report("create in readOnly dir", open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  escaped |= Report("open existing readOnly file for writing", open(argv[2], O_WRONLY | O_CLOEXEC));
  return Escaped(escaped);
}
