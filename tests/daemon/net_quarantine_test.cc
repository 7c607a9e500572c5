// The quarantine's network part with real nftables, never in the host's
// network namespace: every test that touches the kernel first moves this
// process into a fresh one (unshare(CLONE_NEWNET)) and checks that it did.
// The "node" is this process's namespace; a forked peer in a second
// namespace, joined by a veth pair, plays the verifier and the rest of the
// world (listening sockets: the kernel completes the handshake, no accept).
#include "net_quarantine.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <linux/sockios.h>
#include <nftables/libnftables.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "edgeward/base/fd.h"
#include "edgeward/base/file.h"
#include "swtpm.h"

namespace edgeward::daemon {
namespace {

using namespace std::chrono_literals;

// ---- pure parts: no kernel, no root -----------------------------------------

TEST(ParseVerifierUrl, HostsAndPorts) {
  auto a = ParseVerifierUrl("https://verifier.example:8443/v1");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->address, "verifier.example");
  EXPECT_EQ(a->port, 8443);
  auto b = ParseVerifierUrl("https://10.1.2.3");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->address, "10.1.2.3");
  EXPECT_EQ(b->port, 443);
  auto c = ParseVerifierUrl("https://[fd00::1]:9443");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->address, "fd00::1");
  EXPECT_EQ(c->port, 9443);
}

TEST(ParseVerifierUrl, RejectsWhatIsNotAHost) {
  struct Case {
    const char* url;
    const char* message;
  } cases[] = {
      {"http://10.0.0.1", "not https://"},
      {"https://10.0.0.1;flush ruleset:443", "is not a host name or IP address"},
      {"https://a b:443", "is not a host name or IP address"},
      {"https://user@host:443", "is not a host name or IP address"},
      {"https://[fd00::1", "unclosed '['"},
      {"https://[evil]:443", "is not an IPv6 address"},
      {"https://host:0", "out of range"},
      {"https://host:65536", "out of range"},
      {"https://host:44x", "bad port"},
      {"https://:443", "is not a host name"},
  };
  for (const auto& c : cases) {
    auto r = ParseVerifierUrl(c.url);
    ASSERT_FALSE(r.ok()) << c.url;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.url;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << c.url << ": " << r.status().ToString();
  }
}

TEST(BuildQuarantineRuleset, OnlyCanonicalAddressesReachTheScript) {
  NetQuarantinePlan plan;
  plan.tcp_allow = {{"10.0.0.1", 8443}, {"FD00:0:0::1", 443}};
  plan.dns_servers = {"192.0.2.53"};
  auto text = BuildQuarantineRuleset(plan);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_NE(text->find("ip daddr 10.0.0.1 tcp dport 8443 accept"), std::string::npos) << *text;
  EXPECT_NE(text->find("ip6 daddr fd00::1 tcp dport 443 accept"), std::string::npos) << *text;  // re-printed
  EXPECT_NE(text->find("ip daddr 192.0.2.53 meta l4proto { tcp, udp } th dport 53 accept"), std::string::npos);
  EXPECT_NE(text->find("policy drop"), std::string::npos);

  // Injection attempts never get formatted.
  for (const char* evil : {"10.0.0.1 accept; flush ruleset", "10.0.0.1\ndelete table inet filter", "", "host.example",
                           "10.0.0.256"}) {
    NetQuarantinePlan p;
    p.tcp_allow = {{evil, 443}};
    auto r = BuildQuarantineRuleset(p);
    ASSERT_FALSE(r.ok()) << evil;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("is not an IPv4 or IPv6 address"), std::string::npos) << r.status().ToString();
    NetQuarantinePlan d;
    d.dns_servers = {evil};
    auto rd = BuildQuarantineRuleset(d);
    ASSERT_FALSE(rd.ok()) << evil;
    EXPECT_NE(rd.status().message().find("DNS server"), std::string::npos) << rd.status().ToString();
  }
  NetQuarantinePlan zero;
  zero.tcp_allow = {{"10.0.0.1", 0}};
  auto z = BuildQuarantineRuleset(zero);
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.status().message().find("port 0"), std::string::npos) << z.status().ToString();
}

TEST(ReadNameservers, KeepsOnlyNonLoopbackLiterals) {
  testing::TempDir dir;
  const std::string path = dir.File("resolv.conf");
  std::ofstream(path) << "# comment\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nsearch example\n"
                         "nameserver fe80::1%eth0\nnameserver 10.0.0.1;flush\nnameserver 2001:db8::53\n"
                         "nameserver 192.0.2.1\n";
  auto servers = ReadNameservers(path);
  ASSERT_TRUE(servers.ok()) << servers.status().ToString();
  EXPECT_EQ(*servers, (std::vector<std::string>{"192.0.2.1", "2001:db8::53"}));
  auto missing = ReadNameservers(dir.File("nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
}

TEST(PlanNetQuarantine, DnsOnlyForAVerifierName) {
  testing::TempDir dir;
  const std::string resolv = dir.File("resolv.conf");
  std::ofstream(resolv) << "nameserver 192.0.2.1\n";
  auto literal = PlanNetQuarantine("https://192.0.2.10:8443", resolv);
  ASSERT_TRUE(literal.ok()) << literal.status().ToString();
  ASSERT_EQ(literal->tcp_allow.size(), 1u);
  EXPECT_EQ(literal->tcp_allow[0].address, "192.0.2.10");
  EXPECT_EQ(literal->tcp_allow[0].port, 8443);
  EXPECT_TRUE(literal->dns_servers.empty());

  // "localhost" resolves from /etc/hosts, without a DNS server.
  auto name = PlanNetQuarantine("https://localhost:8443", resolv);
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  ASSERT_FALSE(name->tcp_allow.empty());
  for (const auto& e : name->tcp_allow) EXPECT_TRUE(e.address == "127.0.0.1" || e.address == "::1") << e.address;
  EXPECT_EQ(name->dns_servers, std::vector<std::string>{"192.0.2.1"});

  auto none = PlanNetQuarantine("", resolv);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->tcp_allow.empty());
  EXPECT_TRUE(none->dns_servers.empty());

  auto bad = PlanNetQuarantine("https://no-such-host.invalid:443", resolv);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kUnavailable) << bad.status().ToString();
}

// ---- the kernel: a fresh network namespace per test --------------------------

ino_t NetNsInode() {
  struct stat st {};
  if (::stat("/proc/self/ns/net", &st) != 0) return 0;
  return st.st_ino;
}

// Moves this process into a new network namespace with loopback up.
// ASSERTs, so that a failure stops the test before it touches nftables.
void EnterFreshNetNs() {
  const ino_t before = NetNsInode();
  ASSERT_NE(before, 0u);
  ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << std::strerror(errno);
  const ino_t after = NetNsInode();
  ASSERT_NE(after, 0u);
  ASSERT_NE(after, before) << "unshare(CLONE_NEWNET) did not change the namespace";
  auto lo = testing::RunCommand("ip link set lo up 2>&1");
  ASSERT_EQ(lo.exit_code, 0) << lo.output;
}

enum class Connect { kConnected, kRefused, kBlocked, kError };

const char* Name(Connect c) {
  switch (c) {
    case Connect::kConnected: return "connected";
    case Connect::kRefused: return "refused";
    case Connect::kBlocked: return "blocked (dropped)";
    case Connect::kError: return "error";
  }
  return "?";
}

// A TCP connect with a deadline. A SYN dropped by an output chain fails
// with EPERM at once; one whose answer is dropped on input times out.
Connect TryConnect(const char* ip, uint16_t port, std::chrono::milliseconds timeout = 1500ms) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET;
  if (std::strchr(ip, ':') != nullptr) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    if (::inet_pton(AF_INET6, ip, &a6->sin6_addr) != 1) return Connect::kError;
    len = sizeof *a6;
    family = AF_INET6;
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    if (::inet_pton(AF_INET, ip, &a4->sin_addr) != 1) return Connect::kError;
    len = sizeof *a4;
  }
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Connect::kError;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0) return Connect::kConnected;
  if (errno == EPERM) return Connect::kBlocked;
  if (errno == ECONNREFUSED) return Connect::kRefused;
  if (errno != EINPROGRESS) return Connect::kError;
  pollfd p{fd.get(), POLLOUT, 0};
  const int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (n == 0) return Connect::kBlocked;
  if (n < 0) return Connect::kError;
  int err = 0;
  socklen_t elen = sizeof err;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &elen) != 0) return Connect::kError;
  if (err == 0) return Connect::kConnected;
  if (err == EPERM || err == ETIMEDOUT || err == EHOSTUNREACH) return Connect::kBlocked;
  if (err == ECONNREFUSED) return Connect::kRefused;
  return Connect::kError;
}

// Retries while the link comes up (neighbour resolution, carrier).
Connect ConnectEventually(const char* ip, uint16_t port) {
  Connect c = Connect::kError;
  for (int i = 0; i < 20; ++i) {
    c = TryConnect(ip, port, 500ms);
    if (c == Connect::kConnected) return c;
    std::this_thread::sleep_for(100ms);
  }
  return c;
}

// A connected IPv4 socket (blocking connect), or an invalid fd.
UniqueFd Open(const char* ip, uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return fd;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::inet_pton(AF_INET, ip, &a.sin_addr) != 1) return UniqueFd();
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return UniqueFd();
  return fd;
}

// Sends a few bytes and returns how many the peer has not acknowledged
// after `wait` (SIOCOUTQ): 0 when the connection still carries data. The
// peer never reads; its kernel acknowledges into the receive queue.
int UnackedAfterSend(int fd, std::chrono::milliseconds wait = 700ms) {
  if (::send(fd, "ping\n", 5, MSG_NOSIGNAL) != 5) return -1;
  std::this_thread::sleep_for(wait);
  int queued = -1;
  if (::ioctl(fd, SIOCOUTQ, &queued) != 0) return -1;
  return queued;
}

UniqueFd Listen(const char* ip, uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return fd;
  int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return UniqueFd();
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::inet_pton(AF_INET, ip, &a.sin_addr) != 1) return UniqueFd();
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return UniqueFd();
  if (::listen(fd.get(), 64) != 0) return UniqueFd();
  return fd;
}

constexpr const char* kVerifier = "10.99.0.2";
constexpr const char* kOtherHost = "10.99.0.3";
constexpr uint16_t kVerifierPort = 8443;
constexpr uint16_t kOtherPort = 9000;

class NetQuarantineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "network namespaces and nftables need root";
    ASSERT_NO_FATAL_FAILURE(EnterFreshNetNs());
  }

  void TearDown() override {
    if (peer_ > 0) {
      go_.Reset();  // EOF: the peer exits
      int status = 0;
      EXPECT_EQ(::waitpid(peer_, &status, 0), peer_);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "peer status " << status;
    }
    // The namespace (and the table in it) goes with the process's next
    // unshare or exit; nothing to undo in the host.
  }

  // The peer namespace, a veth pair into it, and listeners on
  // 10.99.0.2:{8443,9000} and 10.99.0.3:8443 there.
  void StartPeer() {
    int ready[2], go[2];
    ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(go, O_CLOEXEC), 0);
    peer_ = ::fork();
    ASSERT_GE(peer_, 0) << std::strerror(errno);
    if (peer_ == 0) {
      // Single-threaded test process: the child may use the library.
      ::close(ready[0]);
      ::close(go[1]);
      if (::unshare(CLONE_NEWNET) != 0) ::_exit(10);
      char b = 'n';
      if (::write(ready[1], &b, 1) != 1) ::_exit(11);
      if (::read(go[0], &b, 1) != 1) ::_exit(12);  // the veth end is here now
      if (std::system("ip addr add 10.99.0.2/24 dev ew1 && ip addr add 10.99.0.3/24 dev ew1 && "
                      "ip link set ew1 up && ip link set lo up") != 0) {
        ::_exit(13);
      }
      UniqueFd l1 = Listen(kVerifier, kVerifierPort), l2 = Listen(kVerifier, kOtherPort),
               l3 = Listen(kOtherHost, kVerifierPort);
      if (!l1.valid() || !l2.valid() || !l3.valid()) ::_exit(14);
      b = 'l';
      if (::write(ready[1], &b, 1) != 1) ::_exit(15);
      while (::read(go[0], &b, 1) > 0) {
      }
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(go[0]);
    UniqueFd ready_fd(ready[0]);
    go_ = UniqueFd(go[1]);
    char b = 0;
    ASSERT_EQ(::read(ready_fd.get(), &b, 1), 1);
    ASSERT_EQ(b, 'n');
    auto veth = testing::RunCommand("ip link add ew0 type veth peer name ew1 netns " + std::to_string(peer_) +
                                    " && ip addr add 10.99.0.1/24 dev ew0 && ip link set ew0 up 2>&1");
    ASSERT_EQ(veth.exit_code, 0) << veth.output;
    ASSERT_EQ(::write(go_.get(), "g", 1), 1);
    ASSERT_EQ(::read(ready_fd.get(), &b, 1), 1) << "peer failed to set up";
    ASSERT_EQ(b, 'l');
  }

  pid_t peer_ = -1;
  UniqueFd go_;
};

TEST_F(NetQuarantineTest, OnlyTheVerifierStaysReachableUntilReleased) {
  ASSERT_NO_FATAL_FAILURE(StartPeer());
  UniqueFd local = Listen("127.0.0.1", 7000);
  ASSERT_TRUE(local.valid());
  // Before: everything answers.
  ASSERT_EQ(ConnectEventually(kVerifier, kVerifierPort), Connect::kConnected);
  EXPECT_EQ(TryConnect(kVerifier, kOtherPort), Connect::kConnected);
  EXPECT_EQ(TryConnect(kOtherHost, kVerifierPort), Connect::kConnected);
  EXPECT_EQ(TryConnect("127.0.0.1", 7000), Connect::kConnected);
  // Connections opened before: the one to the verifier keeps working, any
  // other (a reverse shell) stops carrying data.
  UniqueFd old_verifier = Open(kVerifier, kVerifierPort), old_other = Open(kVerifier, kOtherPort);
  ASSERT_TRUE(old_verifier.valid() && old_other.valid());
  ASSERT_EQ(UnackedAfterSend(old_other.get()), 0);

  NetQuarantinePlan plan;
  plan.tcp_allow = {{kVerifier, kVerifierPort}};
  ASSERT_TRUE(ApplyNetQuarantine(plan).ok());
  EXPECT_EQ(UnackedAfterSend(old_verifier.get()), 0) << "the verifier connection carries on";
  EXPECT_EQ(UnackedAfterSend(old_other.get()), 5) << "an older connection elsewhere is cut";
  auto active = NetQuarantineActive();
  ASSERT_TRUE(active.ok()) << active.status().ToString();
  EXPECT_TRUE(*active);

  EXPECT_EQ(TryConnect(kVerifier, kVerifierPort), Connect::kConnected);
  Connect other_port = TryConnect(kVerifier, kOtherPort);
  EXPECT_EQ(other_port, Connect::kBlocked) << Name(other_port);
  Connect other_host = TryConnect(kOtherHost, kVerifierPort);
  EXPECT_EQ(other_host, Connect::kBlocked) << Name(other_host);
  EXPECT_EQ(TryConnect("127.0.0.1", 7000), Connect::kConnected) << "loopback stays open";

  auto released = ReleaseNetQuarantine();
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  EXPECT_TRUE(*released);
  EXPECT_EQ(TryConnect(kVerifier, kVerifierPort), Connect::kConnected);
  EXPECT_EQ(TryConnect(kVerifier, kOtherPort), Connect::kConnected);
  EXPECT_EQ(TryConnect(kOtherHost, kVerifierPort), Connect::kConnected);
  active = NetQuarantineActive();
  ASSERT_TRUE(active.ok());
  EXPECT_FALSE(*active);
}

// Review finding: a verifier name that didn't resolve when the rule fired
// meant no table at all (fail open). Now the closed plan goes in, and the
// reason is kept. In this fresh namespace nothing resolves, at once.
TEST_F(NetQuarantineTest, AVerifierThatDoesNotResolveFailsClosed) {
  testing::TempDir dir;
  const std::string resolv = dir.File("resolv.conf");
  std::ofstream(resolv) << "nameserver 192.0.2.53\n";
  Status why;
  NetQuarantinePlan plan = PlanNetQuarantineFailClosed("https://verifier.invalid:8443", &why, resolv);
  EXPECT_FALSE(why.ok());
  EXPECT_TRUE(plan.tcp_allow.empty());
  EXPECT_TRUE(plan.dns_servers.empty());
  ASSERT_TRUE(ApplyNetQuarantine(plan).ok());
  auto active = NetQuarantineActive();
  ASSERT_TRUE(active.ok()) << active.status().ToString();
  EXPECT_TRUE(*active) << "no table: the quarantine failed open";
  Status fine;
  NetQuarantinePlan full = PlanNetQuarantineFailClosed("https://10.99.0.2:8443", &fine, resolv);
  EXPECT_TRUE(fine.ok()) << fine.ToString();
  ASSERT_EQ(full.tcp_allow.size(), 1u);
  EXPECT_EQ(full.tcp_allow[0].port, 8443);
}

TEST_F(NetQuarantineTest, WithoutAVerifierOnlyLoopbackIsOpen) {
  ASSERT_NO_FATAL_FAILURE(StartPeer());
  ASSERT_EQ(ConnectEventually(kVerifier, kVerifierPort), Connect::kConnected);
  ASSERT_TRUE(ApplyNetQuarantine(NetQuarantinePlan{}).ok());
  Connect c = TryConnect(kVerifier, kVerifierPort);
  EXPECT_EQ(c, Connect::kBlocked) << Name(c);
  UniqueFd local = Listen("127.0.0.1", 7001);
  ASSERT_TRUE(local.valid());
  EXPECT_EQ(TryConnect("127.0.0.1", 7001), Connect::kConnected);
}

TEST_F(NetQuarantineTest, ApplyIsIdempotentVisibleAndRemovable) {
  NetQuarantinePlan plan;
  plan.tcp_allow = {{"192.0.2.10", 8443}};
  plan.dns_servers = {"192.0.2.53"};
  ASSERT_TRUE(ApplyNetQuarantine(plan).ok());
  plan.tcp_allow = {{"192.0.2.11", 9443}};
  ASSERT_TRUE(ApplyNetQuarantine(plan).ok());  // replaces, doesn't add

  auto ruleset = testing::RunCommand("nft list ruleset 2>&1");
  ASSERT_EQ(ruleset.exit_code, 0) << ruleset.output;
  size_t tables = 0;
  for (size_t at = 0; (at = ruleset.output.find("table inet edgeward_quarantine", at)) != std::string::npos; ++at) {
    ++tables;
  }
  EXPECT_EQ(tables, 1u) << ruleset.output;
  EXPECT_NE(ruleset.output.find("ip daddr 192.0.2.11 tcp dport 9443 accept"), std::string::npos) << ruleset.output;
  EXPECT_EQ(ruleset.output.find("192.0.2.10"), std::string::npos) << "the first plan is gone: " << ruleset.output;

  auto listed = ListNetQuarantine();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_NE(listed->find("policy drop"), std::string::npos) << *listed;
  EXPECT_NE(listed->find("ip daddr 192.0.2.53"), std::string::npos) << *listed;

  // An operator's `nft delete table` is what release does too.
  auto first = ReleaseNetQuarantine();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*first);
  auto second = ReleaseNetQuarantine();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(*second);
  auto gone = ListNetQuarantine();
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound) << gone.status().ToString();
}

TEST_F(NetQuarantineTest, KernelRefusalIsAnErrorWithNftsText) {
  // A refusal real nftables produces: no CAP_NET_ADMIN (a child that
  // dropped root). The error carries nft's own text.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setresuid(65534, 65534, 65534) != 0) ::_exit(10);
    Status s = ApplyNetQuarantine(NetQuarantinePlan{});
    if (s.ok()) ::_exit(11);
    if (s.code() != StatusCode::kInternal) ::_exit(12);
    if (s.message().find("nftables: ") == std::string::npos) ::_exit(13);
    if (s.message().find("Operation not permitted") == std::string::npos) ::_exit(14);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "child check " << WEXITSTATUS(status) << " failed";
  auto active = NetQuarantineActive();
  ASSERT_TRUE(active.ok());
  EXPECT_FALSE(*active);
}

// ---- the agent: the rule action installs it, status reports it, the
// control command lifts it, a restart finds it ---------------------------------

using nlohmann::json;

const std::string kEdgeward = EDGEWARD_BINARY_DIR "/agent/edgeward";

void Write(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

std::string PolicyYaml(const std::string& name) {
  return "apiVersion: edgeward/v1\nkind: WorkloadPolicy\nmetadata: {name: " + name +
         "}\nspec:\n  mode: enforce\n  namespaces: [pid, mount, ipc, uts, net]\n  network: none\n"
         "  filesystem:\n    readOnly: [/usr, /lib, /lib64, /bin, /etc]\n    tmpfs: [/tmp]\n"
         "  capabilities: []\n  limits: {memory: 128Mi, pids: 64, nofile: 256}\n  seccomp:\n    profile: baseline\n";
}

std::string WorkloadYaml(const std::string& name) {
  return "apiVersion: edgeward/v1\nkind: Workload\nmetadata: {name: " + name +
         "}\nspec:\n  command: [/bin/sh, -c, 'while true; do sleep 1; done']\n  policy: " + name +
         "\n  restart: {policy: always}\n";
}

class AgentQuarantineTest : public NetQuarantineTest {
 protected:
  void SetUp() override {
    NetQuarantineTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(MakeDirs(dir_.File("bundle/workloads"), 0700).ok());
    ASSERT_TRUE(MakeDirs(dir_.File("bundle/policies"), 0700).ok());
    ASSERT_TRUE(MakeDirs(dir_.File("bundle/rules"), 0700).ok());
    for (const char* name : {"q-keeper", "q-victim"}) {
      Write(dir_.File(std::string("bundle/policies/") + name + ".yaml"), PolicyYaml(name));
      Write(dir_.File(std::string("bundle/workloads/") + name + ".yaml"), WorkloadYaml(name));
    }
    Write(dir_.File("bundle/rules/contain.yaml"),
          "- list: keep\n"
          "  items: [q-keeper]\n"
          "- rule: contain when the victim starts\n"
          "  condition: event.type = \"workload.start\" and workload.name = \"q-victim\"\n"
          "  actions: [quarantine(allow: keep)]\n"
          "  priority: critical\n"
          "  output: \"containing\"\n");
    socket_ = dir_.File("run/control.sock");
    Write(dir_.File("agent.yaml"), "node: {id: q-node}\n"
                                   "stateDir: " + dir_.File("state") + "\n"
                                   "tpm: {tcti: none}\n"
                                   "bundles: {localFile: " + dir_.File("bundle") + "}\n"
                                   "workloads: {stopTimeout: 3s}\n"
                                   "control: {socket: " + socket_ + ", group: \"\"}\n"
                                   "metrics: {listen: \"127.0.0.1:0\"}\n"
                                   "log: {level: info}\n");
  }

  void TearDown() override {
    if (agent_ > 0) {
      ::kill(agent_, SIGKILL);
      ::waitpid(agent_, nullptr, 0);
    }
    NetQuarantineTest::TearDown();
  }

  // In this test's namespace: the agent inherits it.
  pid_t StartAgent(const std::string& log_name) {
    posix_spawn_file_actions_t fa;
    EXPECT_EQ(posix_spawn_file_actions_init(&fa), 0);
    posix_spawn_file_actions_addopen(&fa, 2, dir_.File(log_name).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    const std::string config = dir_.File("agent.yaml");
    const char* argv[] = {kEdgeward.c_str(), "agent", "--config", config.c_str(), nullptr};
    pid_t pid = 0;
    EXPECT_EQ(::posix_spawn(&pid, kEdgeward.c_str(), &fa, nullptr, const_cast<char**>(argv), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
  }

  testing::CommandResult Cli(const std::string& args) {
    return testing::RunCommand(kEdgeward + " " + args + " --socket " + socket_ + " 2>&1");
  }

  std::string LogText(const std::string& name) {
    auto text = ReadFileToString(dir_.File(name), 1 << 20);
    return text.ok() ? *text : text.status().ToString();
  }

  // Polls `events --json` until every one of `types` is there.
  std::string WaitForEvents(std::initializer_list<const char*> types, const std::string& log_name) {
    std::string out;
    for (int i = 0; i < 300; ++i) {
      out = Cli("events --json").output;
      bool all = true;
      for (const char* t : types) all &= out.find(std::string("\"type\":\"") + t + "\"") != std::string::npos;
      if (all) return out;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "events never showed up; last: " << out << "\n"
                  << LogText(log_name);
    return out;
  }

  std::map<std::string, std::string> States() {
    std::map<std::string, std::string> out;
    json w = json::parse(Cli("workloads --json").output, nullptr, false);
    if (w.is_discarded()) return out;
    for (const auto& x : w["workloads"]) out[x["name"].get<std::string>()] = x["state"].get<std::string>();
    return out;
  }

  testing::TempDir dir_;
  std::string socket_;
  pid_t agent_ = -1;
};

TEST_F(AgentQuarantineTest, RuleActionCutsTheNetworkStatusShowsItReleaseLiftsIt) {
  ASSERT_NO_FATAL_FAILURE(StartPeer());
  ASSERT_EQ(ConnectEventually(kVerifier, kOtherPort), Connect::kConnected);

  agent_ = StartAgent("agent.log");
  const std::string events = WaitForEvents({"rule.fired", "quarantine.applied"}, "agent.log");
  EXPECT_NE(events.find("\"rule\":\"contain when the victim starts\""), std::string::npos) << events;
  EXPECT_NE(events.find("\"loopback\":true"), std::string::npos) << events;
  auto active = NetQuarantineActive();
  ASSERT_TRUE(active.ok()) << active.status().ToString();
  EXPECT_TRUE(*active);
  // The agent is local-only here: nothing but loopback stays open.
  Connect c = TryConnect(kVerifier, kOtherPort);
  EXPECT_EQ(c, Connect::kBlocked) << Name(c);

  // The workload part ran too: everyone but the allowed one stops.
  std::map<std::string, std::string> states;
  for (int i = 0; i < 200; ++i) {
    states = States();
    if (states["q-victim"] == "stopped" && states["q-keeper"] == "running") break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(states["q-victim"], "stopped");
  EXPECT_EQ(states["q-keeper"], "running");

  auto status = Cli("status --json");
  ASSERT_EQ(status.exit_code, 0) << status.output;
  json s = json::parse(status.output);
  EXPECT_EQ(s["quarantine"]["active"], true) << status.output;
  EXPECT_EQ(s["quarantine"]["rule"], "contain when the victim starts") << status.output;
  EXPECT_EQ(s["quarantine"]["table"], "inet edgeward_quarantine");
  EXPECT_TRUE(s["quarantine"].contains("since")) << status.output;
  auto text = Cli("status");
  EXPECT_NE(text.output.find("quarantine:  ACTIVE"), std::string::npos) << text.output;

  // The table outlives the agent; the next one finds it and says so.
  ASSERT_EQ(::kill(agent_, SIGTERM), 0);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(agent_, &wstatus, 0), agent_);
  agent_ = -1;
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << wstatus;
  active = NetQuarantineActive();
  ASSERT_TRUE(active.ok());
  EXPECT_TRUE(*active);
  c = TryConnect(kVerifier, kOtherPort);
  EXPECT_EQ(c, Connect::kBlocked) << "no agent, still contained: " << Name(c);

  agent_ = StartAgent("agent2.log");
  // The victim starts again with the bundle, so the rule fires again: wait
  // for that too, so that nothing re-applies after the release below.
  WaitForEvents({"quarantine.detected", "quarantine.applied"}, "agent2.log");
  const std::string log2 = LogText("agent2.log");
  EXPECT_NE(log2.find("the node is quarantined (table inet edgeward_quarantine from an earlier run)"),
            std::string::npos)
      << log2;

  auto release = Cli("quarantine release --json");
  ASSERT_EQ(release.exit_code, 0) << release.output;
  EXPECT_EQ(json::parse(release.output)["released"], true) << release.output;
  active = NetQuarantineActive();
  ASSERT_TRUE(active.ok());
  EXPECT_FALSE(*active);
  EXPECT_EQ(TryConnect(kVerifier, kOtherPort), Connect::kConnected);
  WaitForEvents({"quarantine.released"}, "agent2.log");
  s = json::parse(Cli("status --json").output);
  EXPECT_EQ(s["quarantine"]["active"], false) << s.dump();
  EXPECT_FALSE(s["quarantine"].contains("rule")) << s.dump();
  EXPECT_NE(Cli("status").output.find("quarantine:  none"), std::string::npos);

  // Again: nothing to lift, still a success.
  auto again = Cli("quarantine release");
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("the node was not quarantined"), std::string::npos) << again.output;
  auto bare = Cli("quarantine");
  EXPECT_NE(bare.exit_code, 0) << "a subcommand is required: " << bare.output;
}

TEST_F(AgentQuarantineTest, AFailedTableIsLoudAndTheWorkloadsStopAnyway) {
  // A real refusal: a table of the same name created with `flags owner`
  // belongs to this process's netlink socket, and the kernel refuses
  // everyone else's changes to it (EPERM) while the socket is open.
  struct CtxFree {
    void operator()(nft_ctx* c) const { nft_ctx_free(c); }
  };
  std::unique_ptr<nft_ctx, CtxFree> owner(nft_ctx_new(NFT_CTX_DEFAULT));
  ASSERT_NE(owner, nullptr);
  ASSERT_EQ(nft_ctx_buffer_error(owner.get()), 0);
  ASSERT_EQ(nft_run_cmd_from_buffer(owner.get(), "add table inet edgeward_quarantine { flags owner; }"), 0)
      << nft_ctx_get_error_buffer(owner.get());

  agent_ = StartAgent("agent.log");
  const std::string events = WaitForEvents({"quarantine.failed"}, "agent.log");
  EXPECT_NE(events.find("Operation not permitted"), std::string::npos) << events;
  std::map<std::string, std::string> states;
  for (int i = 0; i < 200; ++i) {
    states = States();
    if (states["q-victim"] == "stopped") break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(states["q-victim"], "stopped") << "the workload part runs all the same";
  EXPECT_EQ(states["q-keeper"], "running");
  json s = json::parse(Cli("status --json").output, nullptr, false);
  ASSERT_FALSE(s.is_discarded());
  EXPECT_NE(s["quarantine"].value("last_error", "").find("Operation not permitted"), std::string::npos) << s.dump();
  EXPECT_NE(Cli("status").output.find("network NOT cut"), std::string::npos);
  const std::string log = LogText("agent.log");
  EXPECT_NE(log.find("quarantine: the network is NOT cut"), std::string::npos) << log;
}

}  // namespace
}  // namespace edgeward::daemon
