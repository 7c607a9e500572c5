// Human summaries of UEFI event data and the TCG event type names. Only for
// display: nothing here decides anything, and malformed data just gets a
// plainer summary.
#include <cstdio>

#include "edgeward/attest/eventlog.h"
#include "eventlog_internal.h"

namespace edgeward::attest {
namespace internal {
namespace {

constexpr size_t kMaxDescription = 256;

uint64_t Le(ByteView b, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{b[at + i]} << (8 * i);
  return v;
}

// UCS-2 little-endian → ASCII ('?' for anything else), at most `max` chars.
std::string Ucs2(ByteView b, size_t max) {
  std::string out;
  for (size_t i = 0; i + 1 < b.size() && out.size() < max; i += 2) {
    uint16_t c = static_cast<uint16_t>(b[i] | (b[i + 1] << 8));
    if (c == 0) break;
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  return out;
}

std::string Guid(ByteView g) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                static_cast<unsigned>(Le(g, 0, 4)), static_cast<unsigned>(Le(g, 4, 2)),
                static_cast<unsigned>(Le(g, 6, 2)), g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
  return buf;
}

bool AllPrintable(ByteView b) {
  if (b.empty()) return false;
  for (size_t i = 0; i < b.size(); ++i) {
    uint8_t c = b[i];
    if (c == 0 && i + 1 == b.size()) break;  // a trailing NUL is common
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

std::string Truncated(std::string s) {
  if (s.size() > kMaxDescription) {
    s.resize(kMaxDescription);
    s += "...";
  }
  return s;
}

// UEFI_VARIABLE_DATA: VariableName GUID, UnicodeNameLength (u64, in
// CHAR16), VariableDataLength (u64), UnicodeName, VariableData.
std::string DescribeVariable(ByteView ev) {
  if (ev.size() < 32) return std::to_string(ev.size()) + " bytes (short UEFI_VARIABLE_DATA)";
  uint64_t name_len = Le(ev, 16, 8), data_len = Le(ev, 24, 8);
  size_t left = ev.size() - 32;
  if (name_len > left / 2 || data_len > left - name_len * 2) {
    return std::to_string(ev.size()) + " bytes (malformed UEFI_VARIABLE_DATA)";
  }
  return Guid(ev.first(16)) + " " + Ucs2(ev.subspan(32, name_len * 2), 64) + " (" + std::to_string(data_len) +
         " bytes)";
}

// Walks an EFI device path and renders the node kinds we can name; file
// path nodes give the image path.
std::string DescribeDevicePath(ByteView dp) {
  std::string out;
  size_t at = 0;
  for (int nodes = 0; at + 4 <= dp.size() && nodes < 64; ++nodes) {
    uint8_t type = dp[at], sub = dp[at + 1];
    size_t len = static_cast<size_t>(Le(dp, at + 2, 2));
    if (len < 4 || len > dp.size() - at) return out + "/<malformed>";
    ByteView body = dp.subspan(at + 4, len - 4);
    if (type == 0x7f) break;  // end of path
    if (type == 4 && sub == 4) {
      out += Ucs2(body, 128);
    } else if (type == 4 && sub == 1 && body.size() >= 4) {
      out += "HD(" + std::to_string(Le(body, 0, 4)) + ")/";
    } else {
      char buf[16];
      std::snprintf(buf, sizeof buf, "(%u,%u)/", type, sub);
      out += buf;
    }
    at += len;
  }
  return out;
}

// UEFI_IMAGE_LOAD_EVENT: location, length, link-time address (u64 each),
// LengthOfDevicePath (u64), DevicePath.
std::string DescribeImageLoad(ByteView ev) {
  if (ev.size() < 32) return std::to_string(ev.size()) + " bytes (short UEFI_IMAGE_LOAD_EVENT)";
  uint64_t loc = Le(ev, 0, 8), len = Le(ev, 8, 8), dp_len = Le(ev, 24, 8);
  char buf[80];
  std::snprintf(buf, sizeof buf, "image at 0x%llx, %llu bytes", static_cast<unsigned long long>(loc),
                static_cast<unsigned long long>(len));
  std::string out = buf;
  if (dp_len <= ev.size() - 32 && dp_len > 0) out += ", " + DescribeDevicePath(ev.subspan(32, dp_len));
  return out;
}

}  // namespace

std::string Printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '.';
  }
  return out;
}

std::string DescribeUefiEvent(uint32_t type, ByteView ev) {
  switch (type) {
    case 0x80000001:  // EV_EFI_VARIABLE_DRIVER_CONFIG
    case 0x80000002:  // EV_EFI_VARIABLE_BOOT
    case 0x8000000C:  // EV_EFI_VARIABLE_BOOT2
    case 0x800000E0:  // EV_EFI_VARIABLE_AUTHORITY
      return Truncated(DescribeVariable(ev));
    case 0x80000003:  // EV_EFI_BOOT_SERVICES_APPLICATION
    case 0x80000004:  // EV_EFI_BOOT_SERVICES_DRIVER
    case 0x80000005:  // EV_EFI_RUNTIME_SERVICES_DRIVER
      return Truncated(DescribeImageLoad(ev));
    case 0x80000008:  // EV_EFI_PLATFORM_FIRMWARE_BLOB: base, length
      if (ev.size() == 16) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "blob at 0x%llx, %llu bytes",
                      static_cast<unsigned long long>(Le(ev, 0, 8)),
                      static_cast<unsigned long long>(Le(ev, 8, 8)));
        return buf;
      }
      break;
    case 0x00000008:  // EV_S_CRTM_VERSION: usually a UCS-2 string
      if (ev.size() >= 2 && ev.size() % 2 == 0 && ev[1] == 0 && ev[0] != 0) return Truncated(Ucs2(ev, 128));
      break;
    case 0x00000004:  // EV_SEPARATOR
      if (ev.size() <= 8) return HexEncode(ev);
      break;
    default:
      break;
  }
  if (AllPrintable(ev)) {
    std::string_view s = AsChars(ev);
    if (!s.empty() && s.back() == '\0') s.remove_suffix(1);
    return Truncated(std::string(s));
  }
  return std::to_string(ev.size()) + " bytes";
}

}  // namespace internal

std::string UefiEventTypeName(uint32_t type) {
  static constexpr const char* kBase[] = {
      "EV_PREBOOT_CERT",
      "EV_POST_CODE",
      "EV_UNUSED",
      "EV_NO_ACTION",
      "EV_SEPARATOR",
      "EV_ACTION",
      "EV_EVENT_TAG",
      "EV_S_CRTM_CONTENTS",
      "EV_S_CRTM_VERSION",
      "EV_CPU_MICROCODE",
      "EV_PLATFORM_CONFIG_FLAGS",
      "EV_TABLE_OF_DEVICES",
      "EV_COMPACT_HASH",
      "EV_IPL",
      "EV_IPL_PARTITION_DATA",
      "EV_NONHOST_CODE",
      "EV_NONHOST_CONFIG",
      "EV_NONHOST_INFO",
      "EV_OMIT_BOOT_DEVICE_EVENTS",
      "EV_POST_CODE2",
  };
  static constexpr const char* kEfi[] = {
      "EV_EFI_EVENT_BASE",
      "EV_EFI_VARIABLE_DRIVER_CONFIG",
      "EV_EFI_VARIABLE_BOOT",
      "EV_EFI_BOOT_SERVICES_APPLICATION",
      "EV_EFI_BOOT_SERVICES_DRIVER",
      "EV_EFI_RUNTIME_SERVICES_DRIVER",
      "EV_EFI_GPT_EVENT",
      "EV_EFI_ACTION",
      "EV_EFI_PLATFORM_FIRMWARE_BLOB",
      "EV_EFI_HANDOFF_TABLES",
      "EV_EFI_PLATFORM_FIRMWARE_BLOB2",
      "EV_EFI_HANDOFF_TABLES2",
      "EV_EFI_VARIABLE_BOOT2",
      "EV_EFI_GPT_EVENT2",
  };
  if (type < std::size(kBase)) return kBase[type];
  if (type >= 0x80000000 && type - 0x80000000 < std::size(kEfi)) return kEfi[type - 0x80000000];
  switch (type) {
    case 0x80000010:
      return "EV_EFI_HCRTM_EVENT";
    case 0x800000E0:
      return "EV_EFI_VARIABLE_AUTHORITY";
    case 0x800000E1:
      return "EV_EFI_SPDM_FIRMWARE_BLOB";
    case 0x800000E2:
      return "EV_EFI_SPDM_FIRMWARE_CONFIG";
    case 0x800000E3:
      return "EV_EFI_SPDM_DEVICE_POLICY";
    case 0x800000E4:
      return "EV_EFI_SPDM_DEVICE_AUTHORITY";
    default:
      break;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "EV_UNKNOWN_0x%08x", type);
  return buf;
}

}  // namespace edgeward::attest
