/* Writes where the mount and file permissions allow it but the policy
 * doesn't: /proc/self/comm lives on the sandbox's read-write /proc and is
 * owned by us (mode 0644), yet /proc is read-only to the workload. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "escape.h"

int main(void) {
  const char* path = "/proc/self/comm";
  struct stat st;
  struct statvfs vfs;
  if (stat(path, &st) != 0 || statvfs(path, &vfs) != 0) {
    Report("stat(/proc/self/comm)", -1);
    return 2;
  }
  int dac_allows = st.st_uid == geteuid() && (st.st_mode & S_IWUSR) != 0;
  int mount_allows = (vfs.f_flag & ST_RDONLY) == 0;
  printf("dac-allows=%d mount-allows=%d\n", dac_allows, mount_allows);
  return Escaped(Report("open(/proc/self/comm, O_WRONLY)", open(path, O_WRONLY | O_CLOEXEC)));
}
