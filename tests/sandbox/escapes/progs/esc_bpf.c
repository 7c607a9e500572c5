/* bpf(BPF_MAP_CREATE): the smallest bpf() call that does something. */
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "escape.h"

int main(void) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  return Escaped(Report("bpf(BPF_MAP_CREATE)", syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr)));
}
