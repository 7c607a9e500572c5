// The quarantine's outside inputs: the verifier URL (config) and
// resolv.conf text, and the nft script built from what they yield. The
// script must never carry more than the rules the plan asks for: a line
// count that differs from the plan's means text got through unparsed.
#include <arpa/inet.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "../agent/daemon/src/net_quarantine.h"

namespace {

bool IsIpLiteral(const std::string& s) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeward::daemon;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  NetQuarantinePlan plan;
  auto url = ParseVerifierUrl(in);
  if (url.ok()) {
    if (url->port == 0 || url->address.empty()) __builtin_trap();
    plan.tcp_allow.push_back(*url);  // a host name: Build must refuse it
  }
  plan.dns_servers = ParseNameservers(in, "fuzz");
  for (const auto& s : plan.dns_servers) {
    if (!IsIpLiteral(s)) __builtin_trap();
  }
  auto script = BuildQuarantineRuleset(plan);
  if (!script.ok()) {
    if (plan.tcp_allow.empty() || IsIpLiteral(plan.tcp_allow[0].address)) __builtin_trap();
    return 0;
  }
  if (!plan.tcp_allow.empty() && !IsIpLiteral(plan.tcp_allow[0].address)) __builtin_trap();
  // 21 fixed lines (table, delete, the table and its 3 chains with hooks
  // and braces, loopback, DHCP and ND both ways), 3 per allowed endpoint,
  // 2 per DNS server.
  const size_t lines = static_cast<size_t>(std::count(script->begin(), script->end(), '\n'));
  if (lines != 21 + 3 * plan.tcp_allow.size() + 2 * plan.dns_servers.size()) __builtin_trap();
  return 0;
}
