// The quarantine table through libnftables: the agent builds nft script
// text, but only from addresses it parsed and printed itself (inet_pton →
// inet_ntop) and integer ports, so a hostile config can't smuggle a rule
// in. One script creates, deletes and recreates the table: nft runs a
// buffer as one netlink transaction, so re-applying is atomic (no instant
// without the table, no half-built table on error).
#include "net_quarantine.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netdb.h>
#include <nftables/libnftables.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <sstream>

#include "edgeward/base/errno_status.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/file.h"

namespace edgeward::daemon {
namespace {

struct NftCtxDeleter {
  void operator()(nft_ctx* c) const { nft_ctx_free(c); }
};
using NftCtx = std::unique_ptr<nft_ctx, NftCtxDeleter>;

struct AddrInfoDeleter {
  void operator()(addrinfo* a) const { freeaddrinfo(a); }
};

std::string TableName() { return std::string(kQuarantineFamily) + " " + std::string(kQuarantineTable); }

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Runs one nft script; its output, or nft's error text.
StatusOr<std::string> RunNft(const std::string& script) {
  // libnftables exit()s the process when it can't open its netlink socket
  // (netlink_init_error): try one first, so that a kernel without
  // nf_tables or a full fd table is an error, not the agent's death.
  {
    UniqueFd probe(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER));
    if (!probe.valid()) return ErrnoStatus("socket(AF_NETLINK, NETLINK_NETFILTER)", "nftables", errno);
  }
  NftCtx ctx(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ctx) return Internal("nftables: nft_ctx_new failed");
  // Buffered, so that nothing goes to the agent's stdout/stderr behind the
  // logger's back and the error text can go into the Status.
  if (nft_ctx_buffer_output(ctx.get()) != 0) return Internal("nftables: nft_ctx_buffer_output failed");
  if (nft_ctx_buffer_error(ctx.get()) != 0) return Internal("nftables: nft_ctx_buffer_error failed");
  if (nft_run_cmd_from_buffer(ctx.get(), script.c_str()) != 0) {
    const char* err = nft_ctx_get_error_buffer(ctx.get());
    std::string text = Trim(err != nullptr ? err : "");
    if (text.empty()) text = "no error text";
    // nft repeats the error for every statement of a refused transaction:
    // the first one says it, the count says how many.
    if (const size_t nl = text.find('\n'); nl != std::string::npos) {
      const auto more = std::count(text.begin() + static_cast<std::ptrdiff_t>(nl), text.end(), '\n');
      text = text.substr(0, nl) + " (+" + std::to_string(more) + " more lines)";
    }
    return Internal("nftables: " + text);
  }
  const char* out = nft_ctx_get_output_buffer(ctx.get());
  return std::string(out != nullptr ? out : "");
}

// An IP literal, canonical; AF_INET or AF_INET6 in *family.
StatusOr<std::string> CanonicalIp(std::string_view text, int* family) {
  const std::string s(text);
  unsigned char buf[sizeof(in6_addr)];
  char out[INET6_ADDRSTRLEN];
  for (int af : {AF_INET, AF_INET6}) {
    if (::inet_pton(af, s.c_str(), buf) == 1) {
      if (::inet_ntop(af, buf, out, sizeof out) == nullptr) return Internal("inet_ntop failed for '" + s + "'");
      *family = af;
      return std::string(out);
    }
  }
  return InvalidArgument("'" + s.substr(0, 64) + "' is not an IPv4 or IPv6 address");
}

bool IsLoopback(const std::string& canonical, int family) {
  return family == AF_INET ? canonical.starts_with("127.") : canonical == "::1";
}

bool ValidHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  });
}

}  // namespace

StatusOr<NetEndpoint> ParseVerifierUrl(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (!url.starts_with(kScheme)) return InvalidArgument("verifier URL '" + std::string(url.substr(0, 128)) + "': not https://");
  std::string_view rest = url.substr(kScheme.size());
  rest = rest.substr(0, rest.find_first_of("/?#"));
  NetEndpoint e;
  std::string_view port;
  if (rest.starts_with("[")) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return InvalidArgument("verifier URL: unclosed '[' in the host");
    e.address = std::string(rest.substr(1, close - 1));
    int family = 0;
    auto ip = CanonicalIp(e.address, &family);
    if (!ip.ok() || family != AF_INET6) return InvalidArgument("verifier URL: '[" + e.address.substr(0, 64) + "]' is not an IPv6 address");
    rest = rest.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(":")) return InvalidArgument("verifier URL: junk after ']'");
    if (!rest.empty()) port = rest.substr(1);
  } else {
    const size_t colon = rest.find(':');
    e.address = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
    if (!ValidHostName(e.address)) {
      return InvalidArgument("verifier URL: host '" + e.address.substr(0, 64) + "' is not a host name or IP address");
    }
  }
  if (port.empty()) {
    e.port = 443;
  } else {
    unsigned value = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || value > 65535) return InvalidArgument("verifier URL: bad port '" + std::string(port.substr(0, 16)) + "'");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return InvalidArgument("verifier URL: port " + std::string(port) + " out of range");
    e.port = static_cast<uint16_t>(value);
  }
  return e;
}

StatusOr<std::vector<NetEndpoint>> ResolveVerifier(std::string_view url) {
  EW_ASSIGN_OR_RETURN(NetEndpoint target, ParseVerifierUrl(url));
  int family = 0;
  if (auto ip = CanonicalIp(target.address, &family); ip.ok()) {
    return std::vector<NetEndpoint>{{*ip, target.port}};
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* raw = nullptr;
  const int rc = ::getaddrinfo(target.address.c_str(), nullptr, &hints, &raw);
  if (rc != 0) {
    return Unavailable("getaddrinfo(" + target.address + "): " + (rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, AddrInfoDeleter> list(raw);
  std::vector<NetEndpoint> out;
  std::set<std::string> seen;
  for (const addrinfo* a = list.get(); a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN];
    const void* addr = nullptr;
    if (a->ai_family == AF_INET) {
      addr = &reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr;
    } else if (a->ai_family == AF_INET6) {
      addr = &reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr;
    } else {
      continue;
    }
    if (::inet_ntop(a->ai_family, addr, text, sizeof text) == nullptr) return Internal("inet_ntop failed");
    if (seen.insert(text).second) out.push_back({text, target.port});
  }
  if (out.empty()) return Unavailable("getaddrinfo(" + target.address + "): no IPv4 or IPv6 address");
  return out;
}

std::vector<std::string> ParseNameservers(std::string_view text, std::string_view source) {
  std::vector<std::string> out;
  std::istringstream lines{std::string(text)};
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    std::istringstream words(line);
    std::string key, value;
    if (!(words >> key >> value) || key != "nameserver") continue;
    // A scoped IPv6 server (fe80::1%eth0) can't be matched by address
    // alone; leave it out rather than widen the rule.
    int family = 0;
    auto ip = CanonicalIp(value, &family);
    if (!ip.ok()) {
      spdlog::warn("{}:{}: nameserver skipped for the quarantine table: {}", source, number, ip.status().message());
      continue;
    }
    if (!IsLoopback(*ip, family) && std::find(out.begin(), out.end(), *ip) == out.end()) out.push_back(*ip);
  }
  return out;
}

StatusOr<std::vector<std::string>> ReadNameservers(const std::string& resolv_conf) {
  EW_ASSIGN_OR_RETURN(std::string text, ReadFileToString(resolv_conf, 1 << 20));
  return ParseNameservers(text, resolv_conf);
}

StatusOr<NetQuarantinePlan> PlanNetQuarantine(std::string_view verifier_url, const std::string& resolv_conf) {
  NetQuarantinePlan plan;
  if (verifier_url.empty()) return plan;
  EW_ASSIGN_OR_RETURN(NetEndpoint target, ParseVerifierUrl(verifier_url));
  EW_ASSIGN_OR_RETURN(plan.tcp_allow, ResolveVerifier(verifier_url));
  int family = 0;
  const bool is_name = !CanonicalIp(target.address, &family).ok();
  if (is_name) {
    auto servers = ReadNameservers(resolv_conf);
    if (servers.ok()) {
      plan.dns_servers = std::move(*servers);
    } else {
      spdlog::error("quarantine: {}; DNS stays closed, so the verifier's name resolves only from caches",
                    servers.status().message());
    }
  }
  return plan;
}

NetQuarantinePlan PlanNetQuarantineFailClosed(std::string_view verifier_url, Status* why,
                                              const std::string& resolv_conf) {
  StatusOr<NetQuarantinePlan> plan = PlanNetQuarantine(verifier_url, resolv_conf);
  *why = plan.status();
  return plan.ok() ? std::move(*plan) : NetQuarantinePlan{};
}

StatusOr<std::string> BuildQuarantineRuleset(const NetQuarantinePlan& plan) {
  // Validate and canonicalise everything before writing a byte of script.
  struct Addr {
    std::string text;
    int family;
  };
  std::vector<std::pair<Addr, uint16_t>> tcp;
  for (const auto& e : plan.tcp_allow) {
    int family = 0;
    auto ip = CanonicalIp(e.address, &family);
    if (!ip.ok()) return InvalidArgument("quarantine: allowed endpoint: " + ip.status().message());
    if (e.port == 0) return InvalidArgument("quarantine: allowed endpoint " + *ip + ": port 0");
    tcp.push_back({{*ip, family}, e.port});
  }
  std::vector<Addr> dns;
  for (const auto& s : plan.dns_servers) {
    int family = 0;
    auto ip = CanonicalIp(s, &family);
    if (!ip.ok()) return InvalidArgument("quarantine: DNS server: " + ip.status().message());
    dns.push_back({*ip, family});
  }
  auto ipkw = [](int family) { return family == AF_INET ? "ip" : "ip6"; };

  std::ostringstream in, out;
  in << "    iif \"lo\" accept\n";
  out << "    oif \"lo\" accept\n";
  for (const auto& [a, port] : tcp) {
    out << "    " << ipkw(a.family) << " daddr " << a.text << " tcp dport " << port << " accept\n";
    in << "    " << ipkw(a.family) << " saddr " << a.text << " tcp sport " << port << " ct state established accept\n";
    // ICMP errors about those connections (path MTU, unreachable) come
    // from routers, not from the verifier.
    in << "    ct state related ct original " << ipkw(a.family) << " daddr " << a.text << " accept\n";
  }
  for (const auto& a : dns) {
    out << "    " << ipkw(a.family) << " daddr " << a.text << " meta l4proto { tcp, udp } th dport 53 accept\n";
    in << "    " << ipkw(a.family) << " saddr " << a.text
       << " meta l4proto { tcp, udp } th sport 53 ct state established accept\n";
  }
  // Keeping the address and the route: DHCP/DHCPv6 leases and IPv6
  // neighbour discovery (ARP is not in the inet family: untouched).
  out << "    udp sport 68 udp dport 67 accept\n"
      << "    udp sport 546 udp dport 547 accept\n"
      << "    icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } accept\n";
  in << "    udp sport 67 udp dport 68 accept\n"
     << "    udp sport 547 udp dport 546 accept\n"
     << "    icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept\n";

  // Priority filter - 10: ahead of the usual filter tables. Order doesn't
  // change the outcome (a drop in any base chain is final), only saves
  // them the work.
  const std::string table = TableName();
  std::ostringstream script;
  script << "table " << table << "\n"
         << "delete table " << table << "\n"
         << "table " << table << " {\n"
         << "  chain input {\n    type filter hook input priority filter - 10; policy drop;\n"
         << in.str() << "  }\n"
         << "  chain forward {\n    type filter hook forward priority filter - 10; policy drop;\n  }\n"
         << "  chain output {\n    type filter hook output priority filter - 10; policy drop;\n"
         << out.str() << "  }\n"
         << "}\n";
  return script.str();
}

Status ApplyNetQuarantine(const NetQuarantinePlan& plan) {
  EW_ASSIGN_OR_RETURN(std::string script, BuildQuarantineRuleset(plan));
  EW_ASSIGN_OR_RETURN(std::string ignored, RunNft(script));
  (void)ignored;
  return Status::Ok();
}

StatusOr<bool> ReleaseNetQuarantine() {
  EW_ASSIGN_OR_RETURN(bool was_active, NetQuarantineActive());
  // Create-then-delete: succeeds whether or not the table exists, so an
  // operator's `nft delete table` racing with us is not an error.
  const std::string table = TableName();
  EW_ASSIGN_OR_RETURN(std::string ignored, RunNft("table " + table + "\ndelete table " + table + "\n"));
  (void)ignored;
  return was_active;
}

StatusOr<bool> NetQuarantineActive() {
  EW_ASSIGN_OR_RETURN(std::string tables, RunNft("list tables " + std::string(kQuarantineFamily)));
  const std::string want = "table " + TableName();
  std::istringstream lines(tables);
  std::string line;
  while (std::getline(lines, line)) {
    if (Trim(line) == want) return true;
  }
  return false;
}

StatusOr<std::string> ListNetQuarantine() {
  EW_ASSIGN_OR_RETURN(bool active, NetQuarantineActive());
  if (!active) return NotFound("no table " + TableName());
  return RunNft("list table " + TableName());
}

}  // namespace edgeward::daemon
