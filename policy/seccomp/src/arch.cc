#include "arch.h"

#include <linux/audit.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/utsname.h>

#include <array>

namespace edgeward::seccomp::internal {

uint32_t ScmpArch(Arch arch) { return arch == Arch::kX86_64 ? SCMP_ARCH_X86_64 : SCMP_ARCH_AARCH64; }
uint32_t AuditArch(Arch arch) { return arch == Arch::kX86_64 ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_AARCH64; }

int SyscallNumber(Arch arch, const std::string& name) {
  int nr = seccomp_syscall_resolve_name_arch(ScmpArch(arch), name.c_str());
  return nr < 0 ? -1 : nr;  // negative: libseccomp's pseudo-number for "not on this arch"
}

std::string SyscallName(Arch arch, int nr) {
  char* n = seccomp_syscall_resolve_num_arch(ScmpArch(arch), nr);
  if (n == nullptr) return {};
  std::string out(n);
  free(n);
  return out;
}

bool KnownOnAnyArch(const std::string& name) {
  return SyscallNumber(Arch::kX86_64, name) >= 0 || SyscallNumber(Arch::kAarch64, name) >= 0;
}

bool ArchMatches(Arch arch, std::string_view n) {
  if (arch == Arch::kX86_64) return n == "amd64" || n == "x86_64" || n == "SCMP_ARCH_X86_64";
  return n == "arm64" || n == "aarch64" || n == "SCMP_ARCH_AARCH64";
}

bool IsOciArchName(std::string_view n) {
  static constexpr std::array<std::string_view, 40> kNames = {
      "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
      "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
      "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
      "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
      "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
      "SCMP_ARCH_SH", "SCMP_ARCH_SHEB", "amd64", "x86_64", "x86", "386", "x32", "arm", "arm64",
      "aarch64", "mips", "mips64", "mips64n32", "mipsel", "mips64le", "ppc64le", "s390x",
      "riscv64", "loong64"};
  for (std::string_view k : kNames) {
    if (k == n) return true;
  }
  return n == "s390" || n == "ppc" || n == "ppc64" || n == "mipsle" || n == "mips64len32" ||
         n == "mipsn32";
}

}  // namespace edgeward::seccomp::internal
