#include "edgeward/daemon/metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "edgeward/base/fd.h"

namespace edgeward::daemon {
namespace {

// A plain HTTP/1.0 GET over a real TCP socket: what a Prometheus scraper
// sends, minus the niceties.
std::string HttpGet(uint16_t port, const std::string& path) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_TRUE(fd.valid());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return "<connect failed>";
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  EXPECT_EQ(::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd.get(), buf, sizeof buf, 0)) > 0) resp.append(buf, static_cast<size_t>(n));
  return resp;
}

TEST(MetricsTest, ScrapeReturnsTheSnapshotInPrometheusTextFormat) {
  auto m = MetricsServer::Start("127.0.0.1", 0, [](MetricsSnapshot& s) {
    s.spool_messages = 17;  // pulled at scrape time (the cloud worker's figures)
    s.spool_bytes = 4096;
  });
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_NE((*m)->port(), 0);
  (*m)->Update([](MetricsSnapshot& s) {
    s.attestations_passed = 3;
    s.attestations_failed = 1;
    s.last_verdict_timestamp_seconds = 1795000000.5;
    s.bundle_version = 42;
    s.workloads_by_state["running"] = 2;
    s.workloads_by_state["backoff"] = 1;
    s.violations_by_workload["sensor-reader"] = 5;
    s.violations_by_workload["we\"ird\\name\n"] = 1;
    s.tpm_errors = 2;
  });
  const std::string resp = HttpGet((*m)->port(), "/metrics");
  ASSERT_EQ(resp.rfind("HTTP/1.1 200", 0), 0u) << resp;
  EXPECT_NE(resp.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << resp;
  for (const char* line : {
           "# TYPE edgeward_attestations_total counter\n",
           "\nedgeward_attestations_total{result=\"pass\"} 3\n",
           "\nedgeward_attestations_total{result=\"fail\"} 1\n",
           "\nedgeward_last_verdict_timestamp_seconds 1795000000.500\n",
           "\nedgeward_bundle_version 42\n",
           "\nedgeward_workloads{state=\"running\"} 2\n",
           "\nedgeward_workloads{state=\"backoff\"} 1\n",
           "\nedgeward_workloads{state=\"crash_loop\"} 0\n",
           "\nedgeward_violations_total{workload=\"sensor-reader\"} 5\n",
           "\nedgeward_violations_total{workload=\"we\\\"ird\\\\name\\n\"} 1\n",
           "\nedgeward_spool_messages 17\n",
           "\nedgeward_spool_bytes 4096\n",
           "\nedgeward_tpm_errors_total 2\n",
           "\nedgeward_process_resident_memory_bytes ",
       }) {
    EXPECT_NE(resp.find(line), std::string::npos) << "missing: " << line << "\nin:\n" << resp;
  }
  // A plausible resident size (> 1 MiB) proves /proc/self/statm was read.
  const size_t at = resp.find("\nedgeward_process_resident_memory_bytes ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_GT(std::stoull(resp.substr(at + 40)), 1u << 20);

  EXPECT_EQ(HttpGet((*m)->port(), "/nope").rfind("HTTP/1.1 404", 0), 0u);
}

TEST(MetricsTest, PortInUseIsUnavailable) {
  auto first = MetricsServer::Start("127.0.0.1", 0, nullptr);
  ASSERT_TRUE(first.ok());
  auto second = MetricsServer::Start("127.0.0.1", (*first)->port(), nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("127.0.0.1:" + std::to_string((*first)->port())), std::string::npos);
}

TEST(MetricsTest, StopRightAfterStartDoesNotHang) {
  for (int i = 0; i < 5; ++i) {
    auto m = MetricsServer::Start("127.0.0.1", 0, nullptr);
    ASSERT_TRUE(m.ok());
  }
}

}  // namespace
}  // namespace edgeward::daemon
