/* Mounts a tmpfs over / (a fresh writable root would undo the read-only
 * layout). */
#include <sys/mount.h>

#include "escape.h"

int main(void) {
  return Escaped(Report("mount(tmpfs, /)", mount("tmpfs", "/", "tmpfs", 0, "")));
}
