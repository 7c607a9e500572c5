// seccomp cost, side by side in one run:
//  1. a syscall-heavy loop (getppid, 1-byte read of /dev/zero, clock_gettime
//     through syscall(2), so no vDSO) in a forked child, unconfined vs under
//     the shipped baseline profile (enforce mode, supervisor attached);
//     the child's CPU time, median of interleaved rounds;
//  2. PrepareFilter(baseline): libseccomp compile vs BPF-cache hit.
// Prints one JSON object; bench/run turns it into ratios.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "edgeward/sandbox/child_failure.h"
#include "edgeward/seccomp/filter.h"
#include "edgeward/seccomp/supervisor.h"

using namespace edgeward;
using namespace edgeward::seccomp;

namespace {

constexpr int kIterations = 200000;

double Clock(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
double Now() { return Clock(CLOCK_MONOTONIC); }
// The child's own CPU time (user + system): on a shared machine wall time
// mostly measures the neighbours.
double CpuNow() { return Clock(CLOCK_PROCESS_CPUTIME_ID); }

// The loop, in a child; returns the CPU time it took, measured inside the
// child (so fork and install are not counted).
// `allow_all`: a one-instruction RET_ALLOW filter instead: the floor cost of
// having any filter (the syscall slow path).
double LoopInChild(const PreparedFilter* filter, bool allow_all = false) {
  int sv[2], result[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0 || pipe(result) != 0) abort();
  pid_t pid = fork();
  if (pid < 0) abort();
  if (pid == 0) {
    sandbox::ChildFailure f;
    if (filter != nullptr) {
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || !InstallInChild(*filter, sv[1], &f)) _exit(1);
    }
    if (allow_all) {
      sock_filter ret{BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW};
      sock_fprog prog{1, &ret};
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        _exit(1);
      }
    }
    int fd = open("/dev/zero", O_RDONLY);
    char c;
    timespec ts;
    double start = CpuNow();
    for (int i = 0; i < kIterations; ++i) {
      syscall(SYS_getppid);
      if (read(fd, &c, 1) != 1) _exit(2);
      syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    }
    double elapsed = CpuNow() - start;
    if (write(result[1], &elapsed, sizeof(elapsed)) != sizeof(elapsed)) _exit(3);
    _exit(0);
  }
  close(sv[1]);
  close(result[1]);
  std::optional<Supervisor> sup;
  if (filter != nullptr && filter->needs_supervisor()) {
    auto l = ReceiveListener(sv[0], 5000);
    if (!l.ok()) abort();
    sup.emplace(std::move(*l), *filter, filter->mode(), "bench", [](const ViolationEvent& e) {
      fprintf(stderr, "unexpected violation: %s\n", ViolationEventJson(e).c_str());
    });
  }
  double elapsed = -1;
  for (;;) {
    pollfd p[2] = {{result[0], POLLIN, 0}, {sup ? sup->fd() : -1, POLLIN, 0}};
    if (poll(p, 2, 60000) <= 0) abort();
    if (sup && (p[1].revents & POLLIN)) (void)sup->HandleReady();
    if (p[0].revents & (POLLIN | POLLHUP)) {
      if (read(result[0], &elapsed, sizeof(elapsed)) != sizeof(elapsed)) abort();
      break;
    }
  }
  int st;
  waitpid(pid, &st, 0);
  close(sv[0]);
  close(result[0]);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) abort();
  return elapsed;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main() {
  policy::WorkloadPolicy pol;
  pol.name = "bench";
  pol.seccomp.profile = policy::SeccompProfileKind::kBaseline;
  auto filter = PrepareFilter(pol, {});
  if (!filter.ok()) {
    fprintf(stderr, "%s\n", filter.status().ToString().c_str());
    return 1;
  }
  // Interleaved rounds so drift on a shared machine hits both sides alike.
  std::vector<double> bare, floor, confined;
  for (int round = 0; round < 7; ++round) {
    bare.push_back(LoopInChild(nullptr));
    floor.push_back(LoopInChild(nullptr, true));
    confined.push_back(LoopInChild(&*filter));
  }

  char dir[] = "/tmp/edgeward-seccomp-bench-XXXXXX";
  if (mkdtemp(dir) == nullptr) return 1;
  PrepareOptions cached;
  cached.cache_dir = std::string(dir) + "/cache";
  std::vector<double> compile, hit;
  for (int i = 0; i < 20; ++i) {
    double t0 = Now();
    auto f = PrepareFilter(pol, {});
    compile.push_back(Now() - t0);
    if (!f.ok()) return 1;
  }
  if (!PrepareFilter(pol, cached).ok()) return 1;  // fill
  for (int i = 0; i < 20; ++i) {
    double t0 = Now();
    auto f = PrepareFilter(pol, cached);
    hit.push_back(Now() - t0);
    if (!f.ok() || !f->from_cache()) return 1;
  }
  std::string rm = std::string("rm -rf ") + dir;
  if (system(rm.c_str()) != 0) return 1;

  printf("{\"iterations\": %d, \"syscalls_per_iteration\": 3, \"unconfined_s\": %.6f, \"allow_all_s\": %.6f, \"baseline_s\": %.6f, "
         "\"baseline_instructions\": %zu, \"compile_ms\": %.3f, \"cache_hit_ms\": %.3f}\n",
         kIterations, Median(bare), Median(floor), Median(confined), filter->instruction_count(), Median(compile) * 1e3,
         Median(hit) * 1e3);
  return 0;
}
