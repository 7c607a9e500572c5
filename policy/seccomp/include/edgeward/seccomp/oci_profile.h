// Import of OCI runtime-spec seccomp profiles, as Docker and Podman write
// them (and as our shipped profiles, rules/seccomp/*.json, are written).
//
// The JSON becomes a list of rules for one architecture and the workload's
// kept capabilities: entries whose includes/excludes (arches, caps,
// minKernel) don't select them are dropped. `architectures` and `archMap` are
// checked but only the target architecture is compiled: every other
// architecture is denied (docs/seccomp.md). Syscall names libseccomp doesn't
// know are skipped and counted, as Docker does (profiles name syscalls newer
// than the library).
//
// Errors (kInvalidArgument, never an exception) name the file and the JSON
// path, and line:column for syntax errors:
//   "/etc/p.json: syscalls[12].action: unknown action 'SCMP_ACT_FOO'".
// Thread-safe; no global state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "edgeward/base/status.h"
#include "edgeward/policy/policy.h"
#include "edgeward/seccomp/filter.h"

namespace edgeward::seccomp {

struct OciImportOptions {
  Arch arch = NativeArch();
  std::vector<std::string> capabilities;  // kept, "CAP_SYS_ADMIN" form
  // Kernel release for minKernel ("6.1.0"); empty: the running kernel's.
  std::string kernel_release;
};

struct OciProfile {
  policy::SeccompAction default_action;
  // In file order; each rule's `where.file` names the profile and the
  // entry ("/etc/p.json: syscalls[12]"); line/column are 0.
  std::vector<policy::SyscallRule> rules;
  // Names skipped because libseccomp knows them neither on x86_64 nor on
  // aarch64 (sorted, unique).
  std::vector<std::string> unknown_syscalls;
  // Names known but not on the target architecture (sorted, unique).
  std::vector<std::string> other_arch_syscalls;
};

// Parses `json` (the content of `file_name`, which only labels errors).
StatusOr<OciProfile> ParseOciProfile(std::string_view json, std::string_view file_name,
                                     const OciImportOptions& options);

// Reads and parses a profile file (at most 4 MiB). kNotFound when missing.
StatusOr<OciProfile> LoadOciProfile(const std::string& path, const OciImportOptions& options);

// The shipped profile "baseline" or "strict", embedded at build time.
// kNotFound for another name.
StatusOr<OciProfile> ShippedProfile(std::string_view name, const OciImportOptions& options);
// Its raw JSON ("" when there is no such profile).
std::string_view ShippedProfileJson(std::string_view name);

}  // namespace edgeward::seccomp
