// Test PKI (made with the openssl CLI) and a real TLS 1.3 server on loopback
// (cpp-httplib over OpenSSL) for the channel's client tests.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <thread>

#include "swtpm.h"

namespace edgeward::channel::test {

// CA, server certificate for 127.0.0.1, a client certificate from the same
// CA, and an unrelated CA. All files in dir().
class TestPki {
 public:
  TestPki();
  std::string File(const std::string& name) const { return dir_.File(name); }
  std::string Read(const std::string& name) const;

 private:
  testing::TempDir dir_;
};

// An httplib::SSLServer on 127.0.0.1 on its own thread, stopped by the
// destructor. Configure routes before Start().
class TlsServer {
 public:
  explicit TlsServer(std::unique_ptr<httplib::SSLServer> server) : server_(std::move(server)) {}
  ~TlsServer();
  httplib::SSLServer& server() { return *server_; }
  int Start();  // returns the port
  std::string Url(const std::string& path) const { return "https://127.0.0.1:" + std::to_string(port_) + path; }

 private:
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace edgeward::channel::test
