/* kexec_load with no segments (would unload / replace the running kernel). */
#include <linux/kexec.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "escape.h"

int main(void) {
  return Escaped(Report("kexec_load(0 segments)", syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0UL)));
}
