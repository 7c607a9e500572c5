#include "edgeward/policy/capabilities.h"

#include <linux/capability.h>

#include <algorithm>
#include <array>

namespace edgeward::policy {
namespace {

#define EW_CAP(x) CapabilityInfo{"CAP_" #x, CAP_##x}
// Built from the kernel header's own constants, so a name can't be paired
// with a wrong number.
constexpr std::array kCaps = {
    EW_CAP(CHOWN),           EW_CAP(DAC_OVERRIDE),   EW_CAP(DAC_READ_SEARCH), EW_CAP(FOWNER),
    EW_CAP(FSETID),          EW_CAP(KILL),           EW_CAP(SETGID),          EW_CAP(SETUID),
    EW_CAP(SETPCAP),         EW_CAP(LINUX_IMMUTABLE), EW_CAP(NET_BIND_SERVICE), EW_CAP(NET_BROADCAST),
    EW_CAP(NET_ADMIN),       EW_CAP(NET_RAW),        EW_CAP(IPC_LOCK),        EW_CAP(IPC_OWNER),
    EW_CAP(SYS_MODULE),      EW_CAP(SYS_RAWIO),      EW_CAP(SYS_CHROOT),      EW_CAP(SYS_PTRACE),
    EW_CAP(SYS_PACCT),       EW_CAP(SYS_ADMIN),      EW_CAP(SYS_BOOT),        EW_CAP(SYS_NICE),
    EW_CAP(SYS_RESOURCE),    EW_CAP(SYS_TIME),       EW_CAP(SYS_TTY_CONFIG),  EW_CAP(MKNOD),
    EW_CAP(LEASE),           EW_CAP(AUDIT_WRITE),    EW_CAP(AUDIT_CONTROL),   EW_CAP(SETFCAP),
    EW_CAP(MAC_OVERRIDE),    EW_CAP(MAC_ADMIN),      EW_CAP(SYSLOG),          EW_CAP(WAKE_ALARM),
    EW_CAP(BLOCK_SUSPEND),   EW_CAP(AUDIT_READ),     EW_CAP(PERFMON),         EW_CAP(BPF),
    EW_CAP(CHECKPOINT_RESTORE),
};
#undef EW_CAP
static_assert(kCaps.size() == CAP_LAST_CAP + 1, "capability table out of date with linux/capability.h");

}  // namespace

std::span<const CapabilityInfo> Capabilities() { return kCaps; }

std::string CanonicalCapabilityName(std::string_view name) {
  if (name.size() > 64) return "";
  std::string upper;
  for (char c : name) upper += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  if (upper.rfind("CAP_", 0) != 0) upper = "CAP_" + upper;
  for (const CapabilityInfo& c : kCaps) {
    if (c.name == upper) return upper;
  }
  return "";
}

std::optional<int> CapabilityNumber(std::string_view canonical_name) {
  for (const CapabilityInfo& c : kCaps) {
    if (c.name == canonical_name) return c.number;
  }
  return std::nullopt;
}

}  // namespace edgeward::policy
