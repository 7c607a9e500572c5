#include "edgeward/policy/syscalls.h"

#include <seccomp.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "edgeward/base/yaml_input.h"

namespace edgeward::policy {
namespace {

// Sorted by name (FindDangerous binary-searches; a test checks the order).
constexpr std::array kDangerous = {
    DangerousSyscall{"acct", "switches process accounting on/off (host-wide)", DangerKind::kWhole},
    DangerousSyscall{"add_key", "kernel keyring: shared, not namespaced state", DangerKind::kWhole},
    DangerousSyscall{"adjtimex", "changes the host clock", DangerKind::kWhole},
    DangerousSyscall{"bpf", "loads eBPF programs: a large kernel attack surface", DangerKind::kWhole},
    DangerousSyscall{"chroot", "changes the root; a classic confinement escape with a kept fd", DangerKind::kWhole},
    DangerousSyscall{"clock_adjtime", "changes the host clock", DangerKind::kWhole},
    DangerousSyscall{"clock_settime", "changes the host clock", DangerKind::kWhole},
    DangerousSyscall{"clone", "with CLONE_NEW* flags: new namespaces, a kernel attack surface", DangerKind::kNamespaceFlags},
    DangerousSyscall{"clone3", "can create namespaces; its flags are out of seccomp's reach", DangerKind::kNamespaceFlags},
    DangerousSyscall{"delete_module", "unloads kernel modules", DangerKind::kWhole},
    DangerousSyscall{"finit_module", "loads kernel modules", DangerKind::kWhole},
    DangerousSyscall{"fsconfig", "new mount API: configures a filesystem to mount", DangerKind::kWhole},
    DangerousSyscall{"fsmount", "new mount API: creates a mount", DangerKind::kWhole},
    DangerousSyscall{"fsopen", "new mount API: opens a filesystem context", DangerKind::kWhole},
    DangerousSyscall{"fspick", "new mount API: reconfigures an existing mount", DangerKind::kWhole},
    DangerousSyscall{"init_module", "loads kernel modules", DangerKind::kWhole},
    DangerousSyscall{"io_uring_enter", "io_uring: bypasses seccomp for its operations; frequent kernel bugs", DangerKind::kWhole},
    DangerousSyscall{"io_uring_register", "io_uring: bypasses seccomp for its operations; frequent kernel bugs", DangerKind::kWhole},
    DangerousSyscall{"io_uring_setup", "io_uring: bypasses seccomp for its operations; frequent kernel bugs", DangerKind::kWhole},
    DangerousSyscall{"ioctl", "TIOCSTI/TIOCLINUX inject input into the controlling terminal", DangerKind::kIoctlTerminal},
    DangerousSyscall{"ioperm", "direct I/O port access", DangerKind::kWhole},
    DangerousSyscall{"iopl", "direct I/O port access", DangerKind::kWhole},
    DangerousSyscall{"kcmp", "compares kernel objects of other processes: a KASLR/heap-layout oracle", DangerKind::kWhole},
    DangerousSyscall{"kexec_file_load", "replaces the running kernel", DangerKind::kWhole},
    DangerousSyscall{"kexec_load", "replaces the running kernel", DangerKind::kWhole},
    DangerousSyscall{"keyctl", "kernel keyring: shared, not namespaced state", DangerKind::kWhole},
    DangerousSyscall{"mount", "changes the mount table: can undo the sandbox's filesystem view", DangerKind::kWhole},
    DangerousSyscall{"mount_setattr", "new mount API: changes mount attributes (e.g. read-only)", DangerKind::kWhole},
    DangerousSyscall{"move_mount", "new mount API: moves mounts", DangerKind::kWhole},
    DangerousSyscall{"open_by_handle_at", "opens files by handle, bypassing path checks (shocker escape)", DangerKind::kWhole},
    DangerousSyscall{"open_tree", "new mount API: clones mount trees", DangerKind::kWhole},
    DangerousSyscall{"perf_event_open", "performance counters: information leaks and kernel bugs", DangerKind::kWhole},
    DangerousSyscall{"personality", "non-default personas disable ASLR and change syscall semantics", DangerKind::kPersonality},
    DangerousSyscall{"pidfd_getfd", "steals a file descriptor from another process", DangerKind::kWhole},
    DangerousSyscall{"pivot_root", "changes the root mount", DangerKind::kWhole},
    DangerousSyscall{"process_madvise", "changes another process's memory (reclaim, page-out)", DangerKind::kWhole},
    DangerousSyscall{"process_vm_readv", "reads another process's memory", DangerKind::kWhole},
    DangerousSyscall{"process_vm_writev", "writes another process's memory", DangerKind::kWhole},
    DangerousSyscall{"ptrace", "inspects and controls other processes; bypasses seccomp on old kernels", DangerKind::kWhole},
    DangerousSyscall{"quotactl", "manipulates filesystem quotas (host-wide)", DangerKind::kWhole},
    DangerousSyscall{"quotactl_fd", "manipulates filesystem quotas (host-wide)", DangerKind::kWhole},
    DangerousSyscall{"reboot", "reboots the node or loads a kexec kernel", DangerKind::kWhole},
    DangerousSyscall{"request_key", "kernel keyring: shared, not namespaced state", DangerKind::kWhole},
    DangerousSyscall{"setns", "joins another namespace", DangerKind::kWhole},
    DangerousSyscall{"settimeofday", "changes the host clock", DangerKind::kWhole},
    DangerousSyscall{"swapoff", "changes host swap", DangerKind::kWhole},
    DangerousSyscall{"swapon", "changes host swap", DangerKind::kWhole},
    DangerousSyscall{"syslog", "reads/clears the kernel log: leaks kernel addresses", DangerKind::kWhole},
    DangerousSyscall{"umount2", "changes the mount table: can uncover what the sandbox hid", DangerKind::kWhole},
    DangerousSyscall{"unshare", "creates namespaces (user namespaces reach much more kernel code)", DangerKind::kNamespaceFlags},
    DangerousSyscall{"uselib", "obsolete loader call; old attack surface", DangerKind::kWhole},
    DangerousSyscall{"userfaultfd", "stalls kernel page faults: a race-exploitation primitive", DangerKind::kWhole},
};

bool ResolvesOn(uint32_t arch, const std::string& name) {
  return seccomp_syscall_resolve_name_arch(arch, name.c_str()) != __NR_SCMP_ERROR;
}

// Every name libseccomp knows for x86_64 or aarch64, sorted and unique. Built
// once: libseccomp has no "list names" call, so walk the number space.
const std::vector<std::string>& AllSyscallNames() {
  static const std::vector<std::string>* names = [] {
    auto* v = new std::vector<std::string>();
    for (uint32_t arch : {SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64}) {
      // Linux syscall numbers stay below 1024 on both (x32 bit excluded).
      for (int nr = 0; nr < 1024; ++nr) {
        char* n = seccomp_syscall_resolve_num_arch(arch, nr);
        if (n == nullptr) continue;
        v->emplace_back(n);
        free(n);  // NOLINT: libseccomp allocates with malloc
      }
    }
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
    return v;
  }();
  return *names;
}

}  // namespace

bool IsKnownSyscall(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  // libseccomp takes a C string: an embedded NUL would truncate the name.
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  const std::string s(name);
  return ResolvesOn(SCMP_ARCH_X86_64, s) || ResolvesOn(SCMP_ARCH_AARCH64, s);
}

std::string SuggestSyscall(std::string_view name) {
  if (name.size() > 64) return "";
  std::string best;
  size_t best_d = 3;
  for (const std::string& cand : AllSyscallNames()) {
    const size_t d = yaml_input::EditDistance(name, cand, best_d);
    if (d < best_d) {
      best_d = d;
      best = cand;
    }
  }
  return best;
}

std::span<const DangerousSyscall> DangerousSyscalls() { return kDangerous; }

const DangerousSyscall* FindDangerous(std::string_view name) {
  auto it = std::lower_bound(kDangerous.begin(), kDangerous.end(), name,
                             [](const DangerousSyscall& d, std::string_view n) { return d.name < n; });
  if (it == kDangerous.end() || it->name != name) return nullptr;
  return &*it;
}

}  // namespace edgeward::policy
