// Linux capability names as policies write them (spec.capabilities).
//
// Names are the kernel's (linux/capability.h), "CAP_" prefix optional and
// case-insensitive in policy files; WorkloadPolicy holds the canonical form
// "CAP_NET_BIND_SERVICE". Pure functions, thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace edgeward::policy {

struct CapabilityInfo {
  std::string_view name;  // "CAP_CHOWN"
  int number;             // CAP_CHOWN == 0
};

// Every capability this build knows, by number.
std::span<const CapabilityInfo> Capabilities();

// "net_bind_service", "CAP_NET_BIND_SERVICE", "Cap_Net_Bind_Service" →
// "CAP_NET_BIND_SERVICE"; "" when unknown.
std::string CanonicalCapabilityName(std::string_view name);

// The number of a canonical name, or nullopt.
std::optional<int> CapabilityNumber(std::string_view canonical_name);

}  // namespace edgeward::policy
