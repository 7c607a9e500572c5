// Syscall names as policies use them, and the dangerous set.
//
// Policies name syscalls, never numbers, so one policy serves x86_64 and
// aarch64 nodes. IsKnownSyscall() accepts a name that libseccomp can resolve
// on either architecture. The dangerous set (docs/policy.md) is denied by
// every profile unless the policy opts in by name with a reason
// (spec.seccomp.allowDangerous); the seccomp compiler (edgeward::seccomp)
// consumes DangerousSyscalls() to emit those denials.
//
// All functions are pure and thread-safe; the table has static storage.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace edgeward::policy {

// True if `name` is a syscall on x86_64 or aarch64 (libseccomp's tables).
bool IsKnownSyscall(std::string_view name);

// The known syscall closest to `name` within edit distance 2 (ties: the
// alphabetically first), or "" when none is that close. Used for
// "did you mean" suggestions.
std::string SuggestSyscall(std::string_view name);

// How much of a dangerous syscall is dangerous; the seccomp compiler denies
// exactly that part unless the policy opts in.
enum class DangerKind {
  kWhole,            // every call
  kNamespaceFlags,   // clone with any CLONE_NEW* flag; clone3 (flags live in a
                     // struct seccomp can't read, so all of it); unshare (all)
  kIoctlTerminal,    // ioctl with request TIOCSTI or TIOCLINUX only
  kPersonality,      // personality() with a persona other than PER_LINUX (0)
                     // and the query value 0xffffffff
};

struct DangerousSyscall {
  std::string_view name;  // syscall name as libseccomp knows it
  std::string_view why;   // one line, for `policy explain` and errors
  DangerKind kind;
};

// The dangerous set, sorted by name. Some names exist on only one
// architecture (iopl/ioperm: x86_64 only); the compiler skips the ones the
// target architecture lacks.
std::span<const DangerousSyscall> DangerousSyscalls();

// The entry for `name`, or nullptr when it isn't in the dangerous set.
const DangerousSyscall* FindDangerous(std::string_view name);

}  // namespace edgeward::policy
