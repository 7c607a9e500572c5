// HttpsClient against a real TLS server on loopback, and through a real
// (tiny, in-test) HTTP CONNECT proxy.
#include "edgeward/channel/https_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "edgeward/base/fd.h"
#include "tls_fixture.h"

namespace edgeward::channel::test {
namespace {

HttpsClientOptions Options(const TestPki& pki) {
  HttpsClientOptions o;
  o.ca_file = pki.File("ca.pem");
  // Generous: the test machines are slow and shared (ASan, parallel builds).
  o.connect_timeout = std::chrono::milliseconds(20000);
  o.total_timeout = std::chrono::milliseconds(20000);
  return o;
}

std::unique_ptr<httplib::SSLServer> MakeServer(const TestPki& pki, bool require_client_cert = false) {
  auto s = std::make_unique<httplib::SSLServer>(pki.File("server.pem").c_str(), pki.File("server.key").c_str(),
                                                require_client_cert ? pki.File("ca.pem").c_str() : nullptr);
  EXPECT_TRUE(s->is_valid());
  s->Get("/hello", [](const httplib::Request& req, httplib::Response& res) {
    res.set_header("ETag", "\"v1\"");
    res.set_content(req.has_header("X-Test") ? "hello " + req.get_header_value("X-Test") : "hello", "text/plain");
  });
  s->Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.status = 201;
    res.set_content(req.body, "application/json");
  });
  s->Get("/big", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(1 << 20, 'x'), "text/plain");
  });
  s->Get("/slow", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    res.set_content("late", "text/plain");
  });
  return s;
}

class HttpsClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(); }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  void SetUp() override {
    ::unsetenv("HTTPS_PROXY");
    ::unsetenv("https_proxy");
    ::unsetenv("NO_PROXY");
    ::unsetenv("no_proxy");
  }
  static TestPki* pki_;
};
TestPki* HttpsClientTest::pki_ = nullptr;

TEST_F(HttpsClientTest, GetsAndPostsOverTls13VerifiedAgainstTheCa) {
  TlsServer srv(MakeServer(*pki_));
  srv.Start();
  auto client = HttpsClient::Create(Options(*pki_));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto r = client->Get(srv.Url("/hello"), {"X-Test: there"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello there");
  EXPECT_EQ(r->etag, "\"v1\"");
  EXPECT_EQ(r->content_type, "text/plain");
  auto p = client->Post(srv.Url("/echo"), "{\"a\":1}");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->status, 201);
  EXPECT_EQ(p->body, "{\"a\":1}");
  auto missing = client->Get(srv.Url("/nope"));
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);  // an HTTP status is an answer, not an error
}

TEST_F(HttpsClientTest, ServerFromAnotherCaIsRefused) {
  TlsServer srv(MakeServer(*pki_));
  srv.Start();
  HttpsClientOptions o = Options(*pki_);
  o.ca_file = pki_->File("other-ca.pem");
  auto client = HttpsClient::Create(o);
  ASSERT_TRUE(client.ok());
  auto r = client->Get(srv.Url("/hello"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
  EXPECT_NE(r.status().message().find(srv.Url("/hello")), std::string::npos);
  EXPECT_NE(r.status().message().find("certificate"), std::string::npos) << r.status().message();
}

TEST_F(HttpsClientTest, Tls12OnlyServerIsRefused) {
  auto server = MakeServer(*pki_);
  ASSERT_EQ(SSL_CTX_set_max_proto_version(server->ssl_context(), TLS1_2_VERSION), 1);
  TlsServer srv(std::move(server));
  srv.Start();
  auto client = HttpsClient::Create(Options(*pki_));
  ASSERT_TRUE(client.ok());
  auto r = client->Get(srv.Url("/hello"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
}

TEST_F(HttpsClientTest, ClientCertificateFromMemoryForMutualTls) {
  TlsServer srv(MakeServer(*pki_, /*require_client_cert=*/true));
  srv.Start();
  auto client = HttpsClient::Create(Options(*pki_));
  ASSERT_TRUE(client.ok());
  auto without = client->Get(srv.Url("/hello"));
  EXPECT_FALSE(without.ok() && without->status == 200);
  std::string key = pki_->Read("client.key");
  client->SetClientCertificate(pki_->Read("client.pem"), crypto::SecureBytes(key.begin(), key.end()));
  auto with = client->Get(srv.Url("/hello"));
  ASSERT_TRUE(with.ok()) << with.status().ToString();
  EXPECT_EQ(with->status, 200);
}

TEST_F(HttpsClientTest, ResponseSizeAndTimeIsBounded) {
  TlsServer srv(MakeServer(*pki_));
  srv.Start();
  HttpsClientOptions o = Options(*pki_);
  o.max_response_bytes = 64 << 10;
  auto client = HttpsClient::Create(o);
  ASSERT_TRUE(client.ok());
  auto big = client->Get(srv.Url("/big"));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted) << big.status().ToString();
  o.total_timeout = std::chrono::milliseconds(800);  // the handler sleeps 2.5 s
  auto quick = HttpsClient::Create(o);
  ASSERT_TRUE(quick.ok());
  auto slow = quick->Get(srv.Url("/slow"));
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.status().code(), StatusCode::kUnavailable) << slow.status().ToString();
  EXPECT_NE(slow.status().message().find("imeout"), std::string::npos) << slow.status().message();
}

TEST_F(HttpsClientTest, RefusesPlainHttpAndMissingCa) {
  auto client = HttpsClient::Create(Options(*pki_));
  ASSERT_TRUE(client.ok());
  auto r = client->Get("http://127.0.0.1:1/");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  HttpsClientOptions o;
  EXPECT_EQ(HttpsClient::Create(o).status().code(), StatusCode::kInvalidArgument);
  o.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(HttpsClient::Create(o).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(HttpsClientTest, UnreachableServerIsUnavailable) {
  auto client = HttpsClient::Create(Options(*pki_));
  ASSERT_TRUE(client.ok());
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ::close(fd);  // bound, never listened: the port refuses connections
  auto r = client->Get("https://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
}

TEST_F(HttpsClientTest, TheCertificateMustNameTheHostOrAddress) {
  auto wrong = std::make_unique<httplib::SSLServer>(pki_->File("wrongname.pem").c_str(),
                                                    pki_->File("wrongname.key").c_str());
  ASSERT_TRUE(wrong->is_valid());
  wrong->Get("/hello", [](const httplib::Request&, httplib::Response& res) { res.set_content("hi", "text/plain"); });
  TlsServer bad(std::move(wrong));
  bad.Start();
  auto client = HttpsClient::Create(Options(*pki_));
  ASSERT_TRUE(client.ok());
  auto r = client->Get(bad.Url("/hello"));  // signed by our CA, but for 10.9.9.9 / other.example
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
  EXPECT_NE(r.status().message().find("mismatch"), std::string::npos) << r.status().message();

  // By name: localhost is in the good server's certificate. (localhost may
  // resolve to ::1 first, where nothing listens: the next address is tried.)
  TlsServer good(MakeServer(*pki_));
  int port = good.Start();
  auto by_name = client->Get("https://localhost:" + std::to_string(port) + "/hello");
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  EXPECT_EQ(by_name->body, "hello");
}

TEST_F(HttpsClientTest, ConnectionsAreKeptAliveAndReplacedWhenTheServerDropsThem) {
  auto server = MakeServer(*pki_);
  server->set_keep_alive_timeout(1);  // seconds: the server closes idle connections after that
  server->Get("/port", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(std::to_string(req.remote_port), "text/plain");
  });
  TlsServer srv(std::move(server));
  srv.Start();
  auto client = HttpsClient::Create(Options(*pki_));
  ASSERT_TRUE(client.ok());
  auto first = client->Get(srv.Url("/port"));
  auto second = client->Get(srv.Url("/port"));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->body, second->body) << "the second request should reuse the first connection";
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  auto third = client->Get(srv.Url("/port"));
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_NE(third->body, first->body) << "the server closed the idle connection: a new one is needed";
}

TEST_F(HttpsClientTest, ACancelFdEndsARequestInFlight) {
  TlsServer srv(MakeServer(*pki_));
  srv.Start();
  UniqueFd cancel(::eventfd(0, EFD_CLOEXEC));
  ASSERT_TRUE(cancel.valid());
  HttpsClientOptions o = Options(*pki_);
  o.cancel_fd = cancel.get();
  auto client = HttpsClient::Create(o);
  ASSERT_TRUE(client.ok());
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    uint64_t one = 1;
    EXPECT_EQ(::write(cancel.get(), &one, sizeof one), static_cast<ssize_t>(sizeof one));
  });
  const auto start = std::chrono::steady_clock::now();
  auto r = client->Get(srv.Url("/slow"));  // the handler sleeps 2.5 s
  const auto took = std::chrono::steady_clock::now() - start;
  canceller.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("cancelled"), std::string::npos) << r.status().message();
  EXPECT_LT(took, std::chrono::milliseconds(2400)) << "the request ran to the server's answer";
}

TEST_F(HttpsClientTest, ABadClientIdentityFailsEveryRequestWithItsReason) {
  TlsServer srv(MakeServer(*pki_));
  srv.Start();
  auto client = HttpsClient::Create(Options(*pki_));
  ASSERT_TRUE(client.ok());
  std::string garbage = "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n";
  client->SetClientCertificate(pki_->Read("client.pem"), crypto::SecureBytes(garbage.begin(), garbage.end()));
  auto r = client->Get(srv.Url("/hello"));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("client key: not a PEM private key"), std::string::npos)
      << r.status().message();
  std::string other = pki_->Read("server.key");
  client->SetClientCertificate(pki_->Read("client.pem"), crypto::SecureBytes(other.begin(), other.end()));
  r = client->Get(srv.Url("/hello"));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("does not match"), std::string::npos) << r.status().message();
  client->ClearClientCertificate();
  r = client->Get(srv.Url("/hello"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

// A minimal HTTP CONNECT proxy: one tunnel per connection, records the
// CONNECT target it was asked for.
class ConnectProxy {
 public:
  ConnectProxy() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listen_fd_, 8), 0);
    socklen_t len = sizeof a;
    EXPECT_EQ(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len), 0);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~ConnectProxy() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }
  int port() const { return port_; }
  int tunnels() const { return tunnels_; }
  std::string last_target() {
    std::lock_guard<std::mutex> l(mu_);
    return target_;
  }

 private:
  void Run() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      int c = ::accept(listen_fd_, nullptr, nullptr);
      if (c < 0) continue;
      Serve(c);
      ::close(c);
    }
  }
  void Serve(int c) {
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
    }
    if (req.rfind("CONNECT ", 0) != 0) return;
    std::string target = req.substr(8, req.find(' ', 8) - 8);
    {
      std::lock_guard<std::mutex> l(mu_);
      target_ = target;
    }
    int port = std::stoi(target.substr(target.rfind(':') + 1));
    int up = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(up);
      return;
    }
    ++tunnels_;
    const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    if (::write(c, ok, sizeof ok - 1) < 0) {
      ::close(up);
      return;
    }
    pollfd fds[2] = {{c, POLLIN, 0}, {up, POLLIN, 0}};
    while (!stop_ && ::poll(fds, 2, 100) >= 0) {
      bool done = false;
      for (int i = 0; i < 2 && !done; ++i) {
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
          if (n <= 0 || ::write(fds[1 - i].fd, buf, static_cast<size_t>(n)) != n) done = true;
        }
      }
      if (done) break;
    }
    ::close(up);
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> tunnels_{0};
  std::mutex mu_;
  std::string target_;
  std::thread thread_;
};

TEST_F(HttpsClientTest, HttpsProxyFromTheEnvironmentIsUsedAndNoProxyHonoured) {
  TlsServer srv(MakeServer(*pki_));
  int port = srv.Start();
  ConnectProxy proxy;
  ::setenv("HTTPS_PROXY", ("http://127.0.0.1:" + std::to_string(proxy.port())).c_str(), 1);
  {
    auto client = HttpsClient::Create(Options(*pki_));
    ASSERT_TRUE(client.ok());
    auto r = client->Get(srv.Url("/hello"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body, "hello");
    EXPECT_EQ(proxy.tunnels(), 1);
    EXPECT_EQ(proxy.last_target(), "127.0.0.1:" + std::to_string(port));
  }
  ::setenv("NO_PROXY", "127.0.0.1", 1);
  {
    auto client = HttpsClient::Create(Options(*pki_));
    ASSERT_TRUE(client.ok());
    auto r = client->Get(srv.Url("/hello"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(proxy.tunnels(), 1);  // went direct
  }
}

}  // namespace
}  // namespace edgeward::channel::test
