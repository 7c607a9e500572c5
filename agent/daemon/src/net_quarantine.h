// Network containment for the `quarantine` rule action (docs/agent.md,
// "Quarantine"): one nftables table, `inet edgeward_quarantine`, in the
// network namespace of the calling process, whose input, output and forward
// chains drop everything except
//   - loopback (iif/oif lo): the allowed workloads and local services (a
//     local TPM simulator, a local proxy) keep talking to each other;
//   - TCP to the verifier's address(es) and port, and the established
//     replies / related ICMP errors of those connections;
//   - DNS (udp and tcp port 53) to the resolv.conf nameservers, only when
//     the verifier URL names a host rather than an IP literal (the agent's
//     HTTPS client resolves the name on every connection);
//   - DHCP / DHCPv6 client traffic and IPv6 neighbour/router discovery, so
//     that the node keeps its address and its route to the verifier.
// The table lives in the kernel, not in the agent: it survives an agent
// restart, `nft list ruleset` shows it, and `nft delete table inet
// edgeward_quarantine` (or `edgeward quarantine release`) removes it.
//
// Every function talks to the kernel through libnftables on the calling
// thread (the agent's loop), blocking for a netlink round trip. Needs
// CAP_NET_ADMIN in the namespace; without it the calls fail with the
// kernel's error text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/base/status.h"

namespace edgeward::daemon {

inline constexpr std::string_view kQuarantineFamily = "inet";
inline constexpr std::string_view kQuarantineTable = "edgeward_quarantine";

// An IP literal (IPv4 dotted quad or IPv6, canonical as inet_ntop prints
// it) and a port.
struct NetEndpoint {
  std::string address;
  uint16_t port = 0;
};

// What stays reachable while quarantined, beyond loopback, DHCP and IPv6
// neighbour discovery (always open).
struct NetQuarantinePlan {
  std::vector<NetEndpoint> tcp_allow;    // the verifier: new connections out, their replies in
  std::vector<std::string> dns_servers;  // IP literals: udp/tcp 53 out, replies in
};

// The host and port of an https URL (`https://host[:port][/path]`, host a
// name, an IPv4 literal or a bracketed IPv6 literal; port 443 by default).
// kInvalidArgument naming what is wrong.
StatusOr<NetEndpoint> ParseVerifierUrl(std::string_view url);

// The verifier's endpoints: the URL's host as an IP literal, or resolved
// once through getaddrinfo (all A/AAAA records, deduplicated).
// kInvalidArgument for a bad URL, kUnavailable when the name doesn't resolve.
StatusOr<std::vector<NetEndpoint>> ResolveVerifier(std::string_view url);

// The `nameserver` lines of resolv.conf text that are IP literals (others
// are logged, naming `source` and the line, and skipped), loopback ones
// left out (loopback is open anyway); canonical, deduplicated. Fuzzed by
// fuzz/net_quarantine_fuzzer.cc.
std::vector<std::string> ParseNameservers(std::string_view text, std::string_view source);
// The same, read from a file. kNotFound / the read error when it can't be read.
StatusOr<std::vector<std::string>> ReadNameservers(const std::string& resolv_conf);

// The agent's plan: the verifier (none when `verifier_url` is empty: the
// node is cut off but for loopback), DNS only when the verifier is a name.
// A resolv.conf that can't be read leaves DNS closed (logged).
StatusOr<NetQuarantinePlan> PlanNetQuarantine(std::string_view verifier_url,
                                              const std::string& resolv_conf = "/etc/resolv.conf");
// What a quarantine installs: PlanNetQuarantine's plan, or — when that
// fails (the verifier's name doesn't resolve at that moment: a resolver
// outage, or an attacker dropping DNS) — the closed plan (loopback, DHCP,
// ND only), never no table at all. `*why` gets the planning error (OK when
// the plan is the full one): the node is contained but can't reach its
// verifier until the quarantine is released.
NetQuarantinePlan PlanNetQuarantineFailClosed(std::string_view verifier_url, Status* why,
                                              const std::string& resolv_conf = "/etc/resolv.conf");

// The nft script that atomically (re)creates the table. Every address is
// parsed with inet_pton and printed back with inet_ntop before it goes into
// the text, so nothing from the config reaches nft's parser verbatim;
// kInvalidArgument names an address that is not an IP literal or a port 0.
StatusOr<std::string> BuildQuarantineRuleset(const NetQuarantinePlan& plan);

// Installs the table, replacing an existing one in the same transaction
// (idempotent). kInternal with nft's error text when the kernel refuses.
Status ApplyNetQuarantine(const NetQuarantinePlan& plan);

// Removes the table. Whether there was one.
StatusOr<bool> ReleaseNetQuarantine();

// Whether the table exists now.
StatusOr<bool> NetQuarantineActive();

// The table as `nft list table inet edgeward_quarantine` prints it;
// kNotFound when there is none.
StatusOr<std::string> ListNetQuarantine();

}  // namespace edgeward::daemon
