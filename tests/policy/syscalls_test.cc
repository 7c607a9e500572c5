// Syscall names and the dangerous set, against libseccomp's real tables.
#include "edgeward/policy/syscalls.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "edgeward/policy/parse.h"

namespace edgeward::policy {
namespace {

TEST(Syscalls, KnownOnEitherArchitecture) {
  EXPECT_TRUE(IsKnownSyscall("read"));
  EXPECT_TRUE(IsKnownSyscall("openat"));
  EXPECT_TRUE(IsKnownSyscall("open"));     // x86_64 only
  EXPECT_TRUE(IsKnownSyscall("iopl"));     // x86_64 only
  EXPECT_TRUE(IsKnownSyscall("renameat"));
  EXPECT_FALSE(IsKnownSyscall("ptrce"));
  EXPECT_FALSE(IsKnownSyscall(""));
  EXPECT_FALSE(IsKnownSyscall(std::string_view("read\0x", 6)));
  EXPECT_FALSE(IsKnownSyscall("READ"));
}

TEST(Syscalls, SuggestsWithinEditDistanceTwo) {
  EXPECT_EQ(SuggestSyscall("ptrce"), "ptrace");
  EXPECT_EQ(SuggestSyscall("opennat"), "openat");
  EXPECT_EQ(SuggestSyscall("xyzzyplugh"), "");
}

TEST(Syscalls, DangerousTableIsSortedKnownAndComplete) {
  auto table = DangerousSyscalls();
  EXPECT_TRUE(std::is_sorted(table.begin(), table.end(),
                             [](const DangerousSyscall& a, const DangerousSyscall& b) { return a.name < b.name; }));
  for (const DangerousSyscall& d : table) {
    EXPECT_TRUE(IsKnownSyscall(d.name)) << d.name;
    EXPECT_FALSE(d.why.empty()) << d.name;
    EXPECT_EQ(FindDangerous(d.name), &d);
  }
  for (const char* name : {"io_uring_setup", "io_uring_enter", "io_uring_register", "bpf", "perf_event_open",
                           "kexec_load", "kexec_file_load", "ptrace", "process_vm_readv", "process_vm_writev",
                           "userfaultfd", "keyctl", "add_key", "request_key", "mount", "umount2", "pivot_root",
                           "move_mount", "fsopen", "fsmount", "open_tree", "unshare", "clone", "clone3", "setns",
                           "init_module", "finit_module", "delete_module", "open_by_handle_at", "ioctl",
                           "personality", "reboot", "swapon", "swapoff", "acct", "quotactl", "chroot", "iopl",
                           "ioperm", "settimeofday", "clock_settime", "adjtimex", "syslog", "uselib"}) {
    EXPECT_NE(FindDangerous(name), nullptr) << name;
  }
  EXPECT_EQ(FindDangerous("read"), nullptr);
  EXPECT_EQ(FindDangerous("clone")->kind, DangerKind::kNamespaceFlags);
  EXPECT_EQ(FindDangerous("ioctl")->kind, DangerKind::kIoctlTerminal);
  EXPECT_EQ(FindDangerous("personality")->kind, DangerKind::kPersonality);
  EXPECT_EQ(FindDangerous("bpf")->kind, DangerKind::kWhole);
}

TEST(Syscalls, AllowNeedsOptInOnlyForWholeCalls) {
  EXPECT_TRUE(AllowNeedsOptIn("ptrace"));
  EXPECT_TRUE(AllowNeedsOptIn("unshare"));
  EXPECT_TRUE(AllowNeedsOptIn("clone3"));
  EXPECT_FALSE(AllowNeedsOptIn("clone"));
  EXPECT_FALSE(AllowNeedsOptIn("ioctl"));
  EXPECT_FALSE(AllowNeedsOptIn("personality"));
  EXPECT_FALSE(AllowNeedsOptIn("read"));
}

}  // namespace
}  // namespace edgeward::policy
