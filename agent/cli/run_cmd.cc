// `edgeward run --policy FILE [--events FILE|-] [--name NAME] [--state-dir DIR]
//               [--node-id ID] [--cgroup-root DIR] [--env KEY=VALUE]... -- CMD [ARGS...]`
// runs CMD confined by the policy (edgeward::sandbox) and exits with the
// workload's status (or 128 + signal). A policy that doesn't validate exits
// 2 before anything is created or launched; a sandbox that can't be set up
// exits 2 (bad input, e.g. a missing path) or 3, naming the step and call.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cli/common.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/event_file.h"
#include "edgeward/base/file.h"
#include "edgeward/policy/learn.h"
#include "edgeward/policy/parse.h"
#include "edgeward/sandbox/launcher.h"

namespace edgeward::cli {
namespace {

struct RunOptions {
  std::string policy_path;
  std::string events_path;  // "" none, "-" stdout
  std::string name;
  std::string node_id;      // "node":{"id":...} in events
  std::string cgroup_root;  // "" keeps the launcher's default
  std::vector<std::string> env;  // KEY=VALUE for the workload
  int start_gate_fd = -1;        // wait for a byte here before starting
  std::vector<std::string> argv;
};

int RunMain(const RunOptions& o, const Globals& g) {
  // Parse, then validate, then use: nothing is created before this passes.
  auto pol = policy::ParsePolicyFile(o.policy_path);
  if (!pol.ok()) return Fail(pol.status());

  sandbox::LaunchSpec spec;
  spec.policy = std::move(*pol);
  spec.argv = o.argv;
  spec.name = o.name;
  spec.node_id = o.node_id;
  if (!o.cgroup_root.empty()) spec.cgroup_root = o.cgroup_root;
  for (const std::string& e : o.env) {
    if (e.find('=') == std::string::npos || e.front() == '=') {
      return Fail(InvalidArgument("--env '" + e + "': want KEY=VALUE"));
    }
  }
  if (!o.env.empty()) {
    // Explicit variables come on top of the launcher's minimal default
    // (PATH, HOME=/), which an empty list would have given.
    spec.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/"};
    for (const std::string& e : o.env) {
      const std::string key = e.substr(0, e.find('=') + 1);
      std::erase_if(spec.env, [&](const std::string& have) { return have.starts_with(key); });
      spec.env.push_back(e);
    }
  }
  if (!g.state_dir.empty()) {
    Status s = MakeDirs(g.state_dir, 0700);
    if (!s.ok()) return Fail(s);
    spec.state_dir = g.state_dir;
  }
  std::unique_ptr<EventFileWriter> events;
  if (!o.events_path.empty()) {
    auto w = EventFileWriter::Open(o.events_path);
    if (!w.ok()) return Fail(w.status());
    events = std::move(*w);
    spec.on_event = [&events](const std::string& line) { events->Write(line); };
  }
  spec.on_warning = [](const std::string& w) {
    std::fprintf(stderr, "edgeward: warning: degraded protection: %s\n", w.c_str());
  };
  if (o.start_gate_fd >= 0) {
    // A supervisor starts us this way so that nothing runs until it has
    // recorded us: one byte means go; EOF means it is gone (killed before
    // it could record this runner), and an unrecorded runner must not run.
    char go = 0;
    ssize_t n;
    do {
      n = ::read(o.start_gate_fd, &go, 1);
    } while (n < 0 && errno == EINTR);
    const int read_errno = errno;
    ::close(o.start_gate_fd);
    if (n != 1) {
      return Fail(Unavailable(std::string("start gate (fd ") + std::to_string(o.start_gate_fd) + "): " +
                              (n == 0 ? "closed before the start signal (the supervisor went away); not starting"
                                      : std::strerror(read_errno))));
    }
  }
  auto result = sandbox::Run(spec);
  if (!result.ok()) return Fail(result.status());
  return result->exit_status;
}

struct LearnOptions {
  std::string policy_path;
  std::string out_path;  // default: <policy>.learned.yaml
  std::vector<std::string> argv;
};

// `policy learn`: the workload runs in mode learn (every syscall, path and
// port recorded by the seccomp supervisor, Landlock not applied), then the
// minimal policy is written and its diff against the start policy printed.
int LearnMain(const LearnOptions& o, const Globals& g) {
  auto text = ReadFileToString(o.policy_path, policy::kMaxPolicyBytes);
  if (!text.ok()) return Fail(text.status());
  auto pol = policy::ParsePolicy(*text, o.policy_path);
  if (!pol.ok()) return Fail(pol.status());
  sandbox::LaunchSpec spec;
  spec.policy = *pol;
  spec.policy.mode = policy::Mode::kLearn;
  spec.argv = o.argv;
  if (!g.state_dir.empty()) {
    Status s = MakeDirs(g.state_dir, 0700);
    if (!s.ok()) return Fail(s);
    spec.state_dir = g.state_dir;
  }
  spec.on_warning = [](const std::string& w) {
    std::fprintf(stderr, "edgeward: warning: degraded protection: %s\n", w.c_str());
  };
  auto result = sandbox::Run(spec);
  if (!result.ok()) return Fail(result.status());
  if (result->exit_status != 0) {
    std::fprintf(stderr, "edgeward: note: the workload exited with status %d; the policy covers what it did until then\n",
                 result->exit_status);
  }
  const policy::LearnedUsage used = result->learned.value_or(policy::LearnedUsage{});
  std::string learned = policy::WriteLearnedPolicy(*pol, *text, used);
  std::string out = o.out_path;
  if (out.empty()) {
    out = o.policy_path;
    if (out.size() > 5 && out.compare(out.size() - 5, 5, ".yaml") == 0) out.resize(out.size() - 5);
    out += ".learned.yaml";
  }
  Status s = WriteFileAtomic(out, AsBytes(learned), 0644);
  if (!s.ok()) return Fail(s);
  std::string diff = policy::UnifiedDiff(*text, learned, o.policy_path, out);
  std::fputs(diff.empty() ? "(no changes)\n" : diff.c_str(), stdout);
  std::fprintf(stderr, "edgeward: learned policy written to %s (%zu syscalls, %zu paths, %zu ports)\n", out.c_str(),
               used.syscalls.size(), used.paths_read.size() + used.paths_written.size(),
               used.tcp_bind.size() + used.tcp_connect.size());
  return kExitOk;
}

}  // namespace

void AddRunCommands(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<RunOptions>();
  CLI::App* run = app.add_subcommand("run", "run a command confined by a workload policy");
  run->add_option("--policy", opts->policy_path, "workload policy (YAML)")->required();
  run->add_option("--events", opts->events_path, "append events as JSON lines to FILE, or - for stdout");
  run->add_option("--name", opts->name, "workload name for events and the cgroup (default: metadata.name)");
  run->add_option("--node-id", opts->node_id, "node id carried in events as node.id");
  run->add_option("--cgroup-root", opts->cgroup_root, "cgroup filesystem root (default /sys/fs/cgroup)");
  // Note: CLI11 lets a vector option swallow the "--" that follows it, so
  // give --env before another option, not right before "-- CMD".
  run->add_option("--env", opts->env, "KEY=VALUE for the workload's environment (repeatable)");
  run->add_option("--start-gate-fd", opts->start_gate_fd,
                  "start nothing until a byte arrives on this fd; exit 3 on EOF (for a supervisor)");
  AddStateDirOption(run, g);
  run->add_option("command", opts->argv, "the command and its arguments, after --")->required();
  run->callback([opts, &g] { g.exit_code = RunMain(*opts, g); });

  CLI::App* pol = nullptr;
  try {
    pol = app.get_subcommand("policy");
  } catch (const CLI::Error&) {
    return;  // no `policy` command in this build
  }
  auto lopts = std::make_shared<LearnOptions>();
  CLI::App* learn = pol->add_subcommand("learn", "run a workload in learn mode and write the minimal policy");
  learn->add_option("--policy", lopts->policy_path, "the start policy (YAML)")->required();
  learn->add_option("-o,--output", lopts->out_path, "where to write the learned policy (default: <policy>.learned.yaml)");
  AddStateDirOption(learn, g);
  learn->add_option("command", lopts->argv, "the command and its arguments, after --")->required();
  learn->callback([lopts, &g] { g.exit_code = LearnMain(*lopts, g); });
}

}  // namespace edgeward::cli
