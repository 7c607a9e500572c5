#include "tls_fixture.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <chrono>

namespace edgeward::channel::test {

TestPki::TestPki() {
  const std::string d = dir_.path();
  auto run = [](const std::string& cmd) {
    auto r = testing::RunCommand(cmd);
    EXPECT_EQ(r.exit_code, 0) << cmd << "\n" << r.output;
  };
  auto ca = [&](const std::string& name) {
    run("cd '" + d + "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + name +
        ".key -out " + name + ".pem -days 2 -subj /CN=" + name);
  };
  ca("ca");
  ca("other-ca");
  auto leaf = [&](const std::string& name, const std::string& ext) {
    run("cd '" + d + "' && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + name +
        ".key -out " + name + ".csr -subj /CN=" + name + " && printf '" + ext + "' > " + name +
        ".ext && openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -out " +
        name + ".pem -extfile " + name + ".ext");
  };
  leaf("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n");
  leaf("client", "extendedKeyUsage=clientAuth\\n");
  leaf("wrongname", "subjectAltName=IP:10.9.9.9,DNS:other.example\\nextendedKeyUsage=serverAuth\\n");
}

std::string TestPki::Read(const std::string& name) const {
  std::ifstream f(File(name));
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TlsServer::~TlsServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

int TlsServer::Start() {
  port_ = server_->bind_to_any_port("127.0.0.1");
  EXPECT_GT(port_, 0);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  for (int i = 0; i < 1000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(server_->is_running());
  return port_;
}

}  // namespace edgeward::channel::test
