// LandlockPlan: Make() decides the right rights for each ABI, and Apply()
// really confines a process on this kernel. The Apply() tests fork a child,
// apply the plan there (no launcher involved) and try things; the child
// reports every unexpected outcome as a line of text on a pipe.
#include "edgeward/sandbox/landlock.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "edgeward/base/fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "swtpm.h"  // testing::TempDir

namespace edgeward::sandbox {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// uapi values (see landlock.cc for why they may be missing from the headers).
constexpr uint64_t kTruncate = 1ULL << 14;
constexpr uint64_t kIoctlDev = 1ULL << 15;
constexpr uint64_t kRead = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
constexpr uint64_t kExec = LANDLOCK_ACCESS_FS_EXECUTE;

int KernelAbi() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, 1U /*VERSION*/);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

policy::FilesystemSpec SampleFs() {
  policy::FilesystemSpec fs;
  fs.read_only = {"/usr", "/etc/ssl"};
  fs.read_write = {"/var/lib/sensor"};
  fs.tmpfs = {"/tmp"};
  return fs;
}

const LandlockPlan::PathRule* FindRule(const LandlockPlan& plan, const std::string& path) {
  for (const auto& r : plan.path_rules()) {
    if (r.path == path) return &r;
  }
  return nullptr;
}

// ---- Make(): deciding, per ABI ---------------------------------------------

TEST(LandlockPlanMake, Abi0AppliesNothingAndSaysWhatIsMissing) {
  auto plan = LandlockPlan::Make(SampleFs(), {}, 0);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->abi(), 0);
  EXPECT_EQ(plan->handled_access_fs(), 0u);
  EXPECT_THAT(plan->path_rules(), IsEmpty());
  EXPECT_THAT(plan->degraded(),
              Contains("Landlock unavailable: TCP bind/connect rules not enforced"));
  EXPECT_THAT(plan->degraded(), Contains(HasSubstr("filesystem access rules")));
  EXPECT_THAT(plan->degraded(), Contains(HasSubstr("signals and abstract unix sockets")));
  ChildFailure f;
  EXPECT_TRUE(plan->Apply(&f));  // nothing to do, nothing fails
}

TEST(LandlockPlanMake, Abi1HandlesOnlyTheOriginalFilesystemRights) {
  auto plan = LandlockPlan::Make(SampleFs(), {}, 1);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->handled_access_fs() & LANDLOCK_ACCESS_FS_REFER, 0u);
  EXPECT_EQ(plan->handled_access_fs() & kTruncate, 0u);
  EXPECT_EQ(plan->handled_access_fs() & kIoctlDev, 0u);
  EXPECT_EQ(plan->handled_access_fs(), (1ULL << 13) - 1);  // EXECUTE..MAKE_SYM
  EXPECT_EQ(plan->handled_access_net(), 0u);
  EXPECT_THAT(plan->degraded(), Contains(HasSubstr("Landlock ABI 1: renaming or linking")));
}

TEST(LandlockPlanMake, Abi2AddsReferAbi3AddsTruncate) {
  auto abi2 = LandlockPlan::Make(SampleFs(), {}, 2);
  ASSERT_TRUE(abi2.ok());
  EXPECT_NE(abi2->handled_access_fs() & LANDLOCK_ACCESS_FS_REFER, 0u);
  EXPECT_EQ(abi2->handled_access_fs() & kTruncate, 0u);
  EXPECT_THAT(abi2->degraded(), Contains("Landlock ABI 2: truncate() not restricted"));

  auto abi3 = LandlockPlan::Make(SampleFs(), {}, 3);
  ASSERT_TRUE(abi3.ok());
  EXPECT_NE(abi3->handled_access_fs() & kTruncate, 0u);
  EXPECT_EQ(abi3->handled_access_fs() & kIoctlDev, 0u);
  EXPECT_EQ(abi3->handled_access_net(), 0u);
  EXPECT_EQ(abi3->scoped(), 0u);
  EXPECT_THAT(abi3->degraded(), Contains("Landlock ABI 3: TCP bind/connect rules not enforced"));
  EXPECT_THAT(abi3->degraded(), Not(Contains(HasSubstr("truncate"))));
}

TEST(LandlockPlanMake, Abi4HandlesTcpWithSortedUniquePorts) {
  policy::NetworkSpec net;
  net.tcp_bind = {8080, 80, 8080};
  net.tcp_connect = {443};
  auto plan = LandlockPlan::Make(SampleFs(), net, 4);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->handled_access_net(), 3u);  // BIND_TCP | CONNECT_TCP
  EXPECT_EQ(plan->tcp_bind(), (std::vector<uint16_t>{80, 8080}));
  EXPECT_EQ(plan->tcp_connect(), (std::vector<uint16_t>{443}));
  EXPECT_EQ(plan->scoped(), 0u);
  EXPECT_THAT(plan->degraded(), Not(Contains(HasSubstr("TCP"))));
}

TEST(LandlockPlanMake, Abi5AddsDeviceIoctlButNotScoping) {
  auto plan = LandlockPlan::Make(SampleFs(), {}, 5);
  ASSERT_TRUE(plan.ok());
  EXPECT_NE(plan->handled_access_fs() & kIoctlDev, 0u);
  EXPECT_EQ(plan->scoped(), 0u);
  EXPECT_EQ(plan->degraded(),
            (std::vector<std::string>{"Landlock ABI 5: signals and abstract unix sockets to "
                                      "processes outside the sandbox not scoped"}));
}

TEST(LandlockPlanMake, Abi6And7ScopeSignalsAndAbstractSocketsWithNothingDegraded) {
  for (int abi : {6, 7}) {
    auto plan = LandlockPlan::Make(SampleFs(), {}, abi);
    ASSERT_TRUE(plan.ok());
    EXPECT_EQ(plan->abi(), abi);
    EXPECT_EQ(plan->scoped(), 3u);  // ABSTRACT_UNIX_SOCKET | SIGNAL
    EXPECT_EQ(plan->handled_access_fs(), (1ULL << 16) - 1);
    EXPECT_THAT(plan->degraded(), IsEmpty());
  }
}

TEST(LandlockPlanMake, NewerKernelAbiIsUsedAtTheNewestKnownLevelAndSaysSo) {
  auto plan = LandlockPlan::Make(SampleFs(), {}, 9);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->abi(), LandlockPlan::kNewestKnownAbi);
  EXPECT_THAT(plan->degraded(),
              Contains("Landlock ABI 9: rights newer than ABI 7 are not used"));
}

TEST(LandlockPlanMake, RightsPerKindOfPath) {
  auto plan = LandlockPlan::Make(SampleFs(), {}, 7);
  ASSERT_TRUE(plan.ok());
  const uint64_t all = plan->handled_access_fs();
  ASSERT_NE(FindRule(*plan, "/usr"), nullptr);
  EXPECT_EQ(FindRule(*plan, "/usr")->access, kRead | kExec);
  EXPECT_FALSE(FindRule(*plan, "/usr")->optional);
  EXPECT_EQ(FindRule(*plan, "/var/lib/sensor")->access, all);
  EXPECT_EQ(FindRule(*plan, "/tmp")->access, all & ~kExec);
  // The launcher's own mounts: optional, never executable.
  ASSERT_NE(FindRule(*plan, "/proc"), nullptr);
  EXPECT_EQ(FindRule(*plan, "/proc")->access, kRead);
  EXPECT_TRUE(FindRule(*plan, "/proc")->optional);
  EXPECT_EQ(FindRule(*plan, "/dev/null")->access,
            LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | kTruncate);
  EXPECT_EQ(FindRule(*plan, "/dev/shm")->access & kExec, 0u);
  for (const auto& r : plan->path_rules()) {
    if (r.path.starts_with("/dev")) {
      EXPECT_EQ(r.access & kExec, 0u) << r.path;
    }
  }
}

TEST(LandlockPlanMake, RelativePathIsRejectedNamingTheField) {
  policy::FilesystemSpec fs;
  fs.read_write = {"var/lib/x"};
  auto plan = LandlockPlan::Make(fs, {}, 7);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(),
              HasSubstr("filesystem.readWrite path 'var/lib/x' is not absolute"));
}

TEST(LandlockPlanMake, NegativeAbiIsRejected) {
  auto plan = LandlockPlan::Make({}, {}, -1);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(), HasSubstr("ABI -1 is negative"));
}

TEST(LandlockPlanMake, LearnModeAppliesNothingAndAuditStillEnforces) {
  policy::WorkloadPolicy p;
  p.filesystem = SampleFs();
  p.mode = policy::Mode::kLearn;
  auto learn = LandlockPlan::ForPolicy(p, 7);
  ASSERT_TRUE(learn.ok());
  EXPECT_EQ(learn->abi(), 0);
  EXPECT_THAT(learn->degraded(), Contains(HasSubstr("not applied in learn mode")));

  p.mode = policy::Mode::kAudit;
  auto audit = LandlockPlan::ForPolicy(p, 7);
  ASSERT_TRUE(audit.ok());
  EXPECT_EQ(audit->abi(), 7);
  EXPECT_NE(audit->handled_access_fs(), 0u);
}

// ---- Apply(): confining a real process -------------------------------------

// Forks; the child sets no_new_privs, applies `plan` and runs `body`, which
// returns "" or a description of what went wrong. Returns the child's report
// ("apply failed: ..." if Apply() itself failed).
std::string RunConfined(const LandlockPlan& plan, const std::function<std::string()>& body) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return std::string("pipe2: ") + strerror(errno);
  UniqueFd rd(p[0]), wr(p[1]);
  pid_t pid = fork();
  if (pid < 0) return std::string("fork: ") + strerror(errno);
  if (pid == 0) {
    std::string out;
    ChildFailure f;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      out = "prctl(PR_SET_NO_NEW_PRIVS) failed";
    } else if (!plan.Apply(&f)) {
      out = std::string("apply failed: ") + f.step + " " + f.call + "(" + f.what +
            "): " + strerror(f.err);
    } else {
      out = body();
    }
    ssize_t n = write(wr.get(), out.data(), out.size());
    _exit(n == static_cast<ssize_t>(out.size()) ? 0 : 99);
  }
  wr.Reset();
  std::string report;
  char buf[4096];
  ssize_t n;
  while ((n = read(rd.get(), buf, sizeof buf)) > 0) report.append(buf, static_cast<size_t>(n));
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return "waitpid failed";
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    report += " [child status " + std::to_string(status) + "]";
  }
  return report;
}

// "" if `rc` and errno match what was wanted (want_errno 0: success).
std::string Outcome(const std::string& what, long rc, int want_errno) {
  int err = rc < 0 ? errno : 0;
  if (err == want_errno) return "";
  return what + ": wanted " + (want_errno ? strerrorname_np(want_errno) : "success") +
         ", got " + (err ? strerrorname_np(err) : "success") + "\n";
}

class LandlockApply : public ::testing::Test {
 protected:
  void SetUp() override {
    if (KernelAbi() < 1) GTEST_SKIP() << "kernel without Landlock";
    namespace fs = std::filesystem;
    root_ = dir_.path();
    fs::create_directories(root_ + "/ro");
    fs::create_directories(root_ + "/rw");
    fs::create_directories(root_ + "/tmpfs");
    std::ofstream(root_ + "/ro/data.txt") << "read me\n";
    std::ofstream(root_ + "/outside.txt") << "not yours\n";
    fs::copy_file("/bin/true", root_ + "/tmpfs/true");
    fs::permissions(root_ + "/tmpfs/true", fs::perms::owner_all);
  }

  policy::FilesystemSpec Fs() const {
    policy::FilesystemSpec fs;
    fs.read_only = {"/usr", "/lib", "/bin", root_ + "/ro"};
    if (std::filesystem::exists("/lib64")) fs.read_only.push_back("/lib64");
    fs.read_write = {root_ + "/rw"};
    fs.tmpfs = {root_ + "/tmpfs"};
    return fs;
  }

  testing::TempDir dir_;
  std::string root_;
};

// Runs `path` and returns 0 if execve() itself succeeded and the program
// exited 0, else the execve errno.
int ExecErrno(const std::string& path) {
  pid_t pid = fork();
  if (pid == 0) {
    char* const argv[] = {const_cast<char*>(path.c_str()), nullptr};
    execv(path.c_str(), argv);
    _exit(100 + errno);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  int code = WEXITSTATUS(status);
  return code >= 100 ? code - 100 : code;
}

TEST_F(LandlockApply, FilesystemRulesHold) {
  auto plan = LandlockPlan::Make(Fs(), {}, KernelAbi());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::string root = root_;
  std::string report = RunConfined(*plan, [&root] {
    std::string r;
    // readOnly: read ok, write refused.
    int fd = open((root + "/ro/data.txt").c_str(), O_RDONLY | O_CLOEXEC);
    r += Outcome("read readOnly file", fd, 0);
    if (fd >= 0) close(fd);
    fd = open((root + "/ro/data.txt").c_str(), O_WRONLY | O_CLOEXEC);
    r += Outcome("write readOnly file", fd, EACCES);
    if (fd >= 0) close(fd);
    // Outside every rule: no read, no write, no create.
    fd = open((root + "/outside.txt").c_str(), O_RDONLY | O_CLOEXEC);
    r += Outcome("read outside", fd, EACCES);
    if (fd >= 0) close(fd);
    fd = open((root + "/created-outside").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    r += Outcome("create outside readWrite", fd, EACCES);
    if (fd >= 0) close(fd);
    fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
    r += Outcome("read /etc/passwd (not listed)", fd, EACCES);
    if (fd >= 0) close(fd);
    // readWrite: create, write, rename, remove.
    fd = open((root + "/rw/new").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    r += Outcome("create in readWrite", fd, 0);
    if (fd >= 0) {
      r += Outcome("write in readWrite", write(fd, "x", 1) == 1 ? 0 : -1, 0);
      close(fd);
    }
    r += Outcome("rename in readWrite",
                 rename((root + "/rw/new").c_str(), (root + "/rw/renamed").c_str()), 0);
    r += Outcome("unlink in readWrite", unlink((root + "/rw/renamed").c_str()), 0);
    // tmpfs: writable, not executable; readOnly system dirs are executable.
    fd = open((root + "/tmpfs/scratch").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    r += Outcome("create in tmpfs", fd, 0);
    if (fd >= 0) close(fd);
    int e = ExecErrno(root + "/tmpfs/true");
    if (e != EACCES) r += "exec from tmpfs: wanted EACCES, got " + std::to_string(e) + "\n";
    e = ExecErrno("/bin/true");
    if (e != 0) r += "exec /bin/true from readOnly: wanted 0, got " + std::to_string(e) + "\n";
    // The launcher's /dev files.
    fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    r += Outcome("write /dev/null", fd, 0);
    if (fd >= 0) close(fd);
    return r;
  });
  EXPECT_EQ(report, "");
}

// Audit mode still enforces, and on ABI >= 7 also asks the kernel to log the
// workload's denials: the kernel must accept that flag.
TEST_F(LandlockApply, AuditModeIsEnforcedAndItsLoggingFlagIsAccepted) {
  policy::WorkloadPolicy p;
  p.mode = policy::Mode::kAudit;
  p.filesystem = Fs();
  auto plan = LandlockPlan::ForPolicy(p, KernelAbi());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::string root = root_;
  std::string report = RunConfined(*plan, [&root] {
    int fd = open((root + "/outside.txt").c_str(), O_WRONLY | O_CLOEXEC);
    std::string r = Outcome("write outside in audit mode", fd, EACCES);
    if (fd >= 0) close(fd);
    return r;
  });
  EXPECT_EQ(report, "");
}

TEST_F(LandlockApply, MissingPolicyPathFailsNamingIt) {
  policy::FilesystemSpec fs = Fs();
  fs.read_only.push_back(root_ + "/does-not-exist");
  auto plan = LandlockPlan::Make(fs, {}, KernelAbi());
  ASSERT_TRUE(plan.ok());
  std::string report = RunConfined(*plan, [] { return std::string("applied"); });
  EXPECT_EQ(report, "apply failed: landlock open(" + root_ + "/does-not-exist): " +
                        strerror(ENOENT));
}

// A listening TCP socket on 127.0.0.1 with an ephemeral port.
struct Listener {
  UniqueFd fd;
  uint16_t port = 0;
};
Listener Listen() {
  Listener l;
  l.fd = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (!l.fd.valid() || bind(l.fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      listen(l.fd.get(), 8) != 0 ||
      getsockname(l.fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return {};
  }
  l.port = ntohs(a.sin_port);
  return l;
}

long ConnectTcp(uint16_t port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  long rc = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  int err = errno;
  close(s);
  errno = err;
  return rc;
}

long BindTcp(uint16_t port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  long rc = bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  int err = errno;
  close(s);
  errno = err;
  return rc;
}

TEST_F(LandlockApply, TcpConnectAndBindOnlyToListedPorts) {
  if (KernelAbi() < 4) GTEST_SKIP() << "Landlock ABI " << KernelAbi() << " has no TCP rules";
  Listener allowed = Listen(), other = Listen();
  ASSERT_NE(allowed.port, 0);
  ASSERT_NE(other.port, 0);
  // Free ports to bind: take two ephemeral ports and let them go.
  uint16_t bind_ok, bind_denied;
  {
    Listener a = Listen(), b = Listen();
    ASSERT_NE(a.port, 0);
    ASSERT_NE(b.port, 0);
    bind_ok = a.port;
    bind_denied = b.port;
  }
  policy::NetworkSpec net;
  net.mode = policy::NetworkMode::kHost;
  net.tcp_connect = {allowed.port};
  net.tcp_bind = {bind_ok};
  auto plan = LandlockPlan::Make(Fs(), net, KernelAbi());
  ASSERT_TRUE(plan.ok());
  std::string report = RunConfined(*plan, [&] {
    std::string r;
    r += Outcome("connect to listed port", ConnectTcp(allowed.port), 0);
    r += Outcome("connect to unlisted port", ConnectTcp(other.port), EACCES);
    r += Outcome("bind listed port", BindTcp(bind_ok), 0);
    r += Outcome("bind unlisted port", BindTcp(bind_denied), EACCES);
    return r;
  });
  EXPECT_EQ(report, "");

  // The same plan made for ABI 3 leaves TCP alone on this kernel: masking to
  // the ABI really changes what is enforced.
  auto abi3 = LandlockPlan::Make(Fs(), net, 3);
  ASSERT_TRUE(abi3.ok());
  report = RunConfined(*abi3, [&] {
    return Outcome("connect to unlisted port under ABI 3", ConnectTcp(other.port), 0);
  });
  EXPECT_EQ(report, "");
}

TEST_F(LandlockApply, SignalsAndAbstractSocketsStayInsideTheDomain) {
  if (KernelAbi() < 6) GTEST_SKIP() << "Landlock ABI " << KernelAbi() << " has no scoping";
  pid_t outside = fork();
  ASSERT_GE(outside, 0);
  if (outside == 0) {
    pause();
    _exit(0);
  }
  // An abstract unix socket listening outside the domain.
  UniqueFd us(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(us.valid());
  sockaddr_un ua{};
  ua.sun_family = AF_UNIX;
  std::string name = "edgeward-landlock-test-" + std::to_string(getpid());
  memcpy(ua.sun_path + 1, name.data(), name.size());
  socklen_t ua_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  ASSERT_EQ(bind(us.get(), reinterpret_cast<sockaddr*>(&ua), ua_len), 0) << strerror(errno);
  ASSERT_EQ(listen(us.get(), 4), 0);

  auto plan = LandlockPlan::Make(Fs(), {}, KernelAbi());
  ASSERT_TRUE(plan.ok());
  std::string report = RunConfined(*plan, [&] {
    std::string r;
    r += Outcome("kill(outside, SIGTERM)", kill(outside, SIGTERM), EPERM);
    r += Outcome("kill(parent, SIGURG)", kill(getppid(), SIGURG), EPERM);
    // Inside the domain signalling still works.
    pid_t inside = fork();
    if (inside == 0) {
      pause();
      _exit(0);
    }
    r += Outcome("kill(own child, SIGKILL)", kill(inside, SIGKILL), 0);
    waitpid(inside, nullptr, 0);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    r += Outcome("connect to outside abstract socket",
                 connect(s, reinterpret_cast<const sockaddr*>(&ua), ua_len), EPERM);
    close(s);
    return r;
  });
  EXPECT_EQ(report, "");
  // The outside process survived the attempt.
  EXPECT_EQ(waitpid(outside, nullptr, WNOHANG), 0);
  ASSERT_EQ(kill(outside, SIGKILL), 0);
  ASSERT_EQ(waitpid(outside, nullptr, 0), outside);
}

}  // namespace
}  // namespace edgeward::sandbox
