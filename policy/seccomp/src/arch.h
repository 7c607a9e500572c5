// Architecture tokens and syscall-name resolution for the two architectures
// edgeward compiles for.
#pragma once

#include <string>
#include <string_view>

#include "edgeward/seccomp/filter.h"

namespace edgeward::seccomp::internal {

// libseccomp's SCMP_ARCH_* token.
uint32_t ScmpArch(Arch arch);
// The AUDIT_ARCH_* value seccomp_data.arch carries.
uint32_t AuditArch(Arch arch);
// The syscall number of `name` on `arch`, or -1 when it has none there.
int SyscallNumber(Arch arch, const std::string& name);
// The name of `nr` on `arch`, or "" when it has none.
std::string SyscallName(Arch arch, int nr);
// True when `name` is known on x86_64 or aarch64.
bool KnownOnAnyArch(const std::string& name);
// OCI/Docker/Go spellings: "amd64", "x86_64", "SCMP_ARCH_X86_64" ...
bool ArchMatches(Arch arch, std::string_view oci_name);
// True when `oci_name` is any architecture name OCI profiles use.
bool IsOciArchName(std::string_view oci_name);

}  // namespace edgeward::seccomp::internal
