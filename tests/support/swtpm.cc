#include "swtpm.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "edgeward/base/errno_status.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/file.h"

#ifndef EDGEWARD_TEST_CACHE_DIR
#error "EDGEWARD_TEST_CACHE_DIR must be defined by the build"
#endif

namespace edgeward::testing {
namespace fs = std::filesystem;
namespace {

constexpr const char* kLocalCaDir = "/var/lib/swtpm-localca";

bool PortFree(int port) {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

bool CanConnect(int port) {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

// Provisions the template once per build tree; a file lock makes parallel
// test processes (ctest -j) wait for the first one instead of racing.
StatusOr<std::string> TemplateDir() {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  const std::string cache = EDGEWARD_TEST_CACHE_DIR;
  EW_RETURN_IF_ERROR(MakeDirs(cache, 0700));
  const std::string dir = cache + "/swtpm-template";
  const std::string done = dir + "/.provisioned";
  UniqueFd lockfd(::open((cache + "/swtpm-template.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lockfd.valid()) return EW_ERRNO("open", cache + "/swtpm-template.lock");
  if (::flock(lockfd.get(), LOCK_EX) != 0) return EW_ERRNO("flock", cache);
  if (::access(done.c_str(), F_OK) == 0) return dir;
  std::error_code ec;
  fs::remove_all(dir, ec);
  EW_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  std::string cmd = "swtpm_setup --tpm2 --tpmstate '" + dir +
                    "' --create-ek-cert --create-platform-cert --overwrite"
                    " --pcr-banks sha1,sha256 2>&1";
  CommandResult r = RunCommand(cmd);
  if (r.exit_code != 0) return Internal("swtpm_setup failed (" + std::to_string(r.exit_code) + "): " + r.output);
  EW_RETURN_IF_ERROR(WriteFileAtomic(done, AsBytes("ok\n"), 0600));
  return dir;
}

}  // namespace

CommandResult RunCommand(const std::string& command) {
  CommandResult r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) {
    r.output = "popen failed";
    return r;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = ::pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  return r;
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "edgeward-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

StatusOr<std::unique_ptr<Swtpm>> Swtpm::Start() {
  EW_ASSIGN_OR_RETURN(std::string tmpl, TemplateDir());
  std::unique_ptr<Swtpm> t(new Swtpm());
  std::string d = (fs::temp_directory_path() / "edgeward-swtpm-XXXXXX").string();
  if (::mkdtemp(d.data()) == nullptr) return EW_ERRNO("mkdtemp", d);
  t->dir_ = d;
  std::error_code ec;
  fs::copy_file(tmpl + "/tpm2-00.permall", d + "/tpm2-00.permall", ec);
  if (ec) return Internal("copy swtpm state: " + ec.message());

  std::random_device rd;
  std::mt19937 rng(rd());
  // Below the kernel's ephemeral range (32768+), where client sockets in
  // TIME_WAIT would make swtpm's bind() fail.
  std::uniform_int_distribution<int> dist(10000, 32000);
  for (int attempt = 0; attempt < 50; ++attempt) {
    int p = dist(rng) & ~1;
    if (!PortFree(p) || !PortFree(p + 1)) continue;
    t->port_ = p;
    Status s = t->Launch();
    if (s.ok()) return t;
    if (attempt == 49) return s;
  }
  return Unavailable("no free port pair for swtpm");
}

Status Swtpm::Launch() {
  std::string server = "type=tcp,port=" + std::to_string(port_) + ",bindaddr=127.0.0.1";
  std::string ctrl = "type=tcp,port=" + std::to_string(port_ + 1) + ",bindaddr=127.0.0.1";
  std::string state = "dir=" + dir_;
  std::string log = "file=" + dir_ + "/swtpm.log";
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return EW_ERRNO("fork", "swtpm");
  if (pid == 0) {
    // If the test process dies, swtpm dies with it: no stray TPMs.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::execlp("swtpm", "swtpm", "socket", "--tpm2", "--tpmstate", state.c_str(), "--server", server.c_str(),
             "--ctrl", ctrl.c_str(), "--flags", "not-need-init,startup-clear", "--log", log.c_str(),
             static_cast<char*>(nullptr));
    ::_exit(127);
  }
  pid_ = pid;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return Unavailable("swtpm exited during start-up (port " + std::to_string(port_) + ")");
    }
    if (CanConnect(port_) && CanConnect(port_ + 1)) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  (void)Stop();
  return Unavailable("swtpm did not start listening within 10 s");
}

Status Swtpm::Stop() {
  if (pid_ <= 0) return Status::Ok();
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 400; ++i) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      pid_ = -1;
      return Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return Status::Ok();
}

Status Swtpm::Restart() {
  EW_RETURN_IF_ERROR(Stop());
  // The port may linger in TIME_WAIT briefly; swtpm sets SO_REUSEADDR.
  return Launch();
}

std::string Swtpm::tcti() const { return "swtpm:host=127.0.0.1,port=" + std::to_string(port_); }

Swtpm::~Swtpm() {
  (void)Stop();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

StatusOr<std::string> SwtpmCaBundlePath() {
  // The local CA is created by the first swtpm_setup on this machine.
  EW_RETURN_IF_ERROR(TemplateDir().status());
  const std::string out = std::string(EDGEWARD_TEST_CACHE_DIR) + "/swtpm-ca-bundle.pem";
  std::string bundle;
  for (const char* f : {"swtpm-localca-rootca-cert.pem", "issuercert.pem"}) {
    EW_ASSIGN_OR_RETURN(std::string pem, ReadFileToString(std::string(kLocalCaDir) + "/" + f, 1 << 20));
    bundle += pem;
  }
  EW_RETURN_IF_ERROR(MakeDirs(EDGEWARD_TEST_CACHE_DIR, 0700));
  EW_RETURN_IF_ERROR(WriteFileAtomic(out, AsBytes(bundle), 0644));
  return out;
}

}  // namespace edgeward::testing
