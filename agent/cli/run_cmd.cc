// `edgeward run --policy FILE [--events FILE|-] [--name NAME] [--state-dir DIR] -- CMD [ARGS...]`
// runs CMD confined by the policy (edgeward::sandbox) and exits with the
// workload's status (or 128 + signal). A policy that doesn't validate exits
// 2 before anything is created or launched; a sandbox that can't be set up
// exits 2 (bad input, e.g. a missing path) or 3, naming the step and call.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "cli/common.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/file.h"
#include "edgeward/policy/parse.h"
#include "edgeward/sandbox/launcher.h"

namespace edgeward::cli {
namespace {

struct RunOptions {
  std::string policy_path;
  std::string events_path;  // "" none, "-" stdout
  std::string name;
  std::vector<std::string> argv;
};

// Appends JSON lines to a file (0600, O_APPEND) or stdout. One write(2) per
// line, so concurrent writers (several workloads, one file) never interleave
// inside a line.
class EventWriter {
 public:
  static StatusOr<std::unique_ptr<EventWriter>> Open(const std::string& path) {
    auto w = std::unique_ptr<EventWriter>(new EventWriter());
    if (path == "-") {
      w->fd_ = STDOUT_FILENO;
      return w;
    }
    w->owned_ = UniqueFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!w->owned_.valid()) return EW_ERRNO("open", path);
    w->fd_ = w->owned_.get();
    return w;
  }
  void Write(const std::string& json) {
    std::string line = json + "\n";
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (!failed_) std::fprintf(stderr, "edgeward: warning: writing events failed: %s\n", std::strerror(errno));
        failed_ = true;
        return;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
  }

 private:
  EventWriter() = default;
  UniqueFd owned_;
  int fd_ = -1;
  bool failed_ = false;
};

int RunMain(const RunOptions& o, const Globals& g) {
  // Parse, then validate, then use: nothing is created before this passes.
  auto pol = policy::ParsePolicyFile(o.policy_path);
  if (!pol.ok()) return Fail(pol.status());

  sandbox::LaunchSpec spec;
  spec.policy = std::move(*pol);
  spec.argv = o.argv;
  spec.name = o.name;
  if (!g.state_dir.empty()) {
    Status s = MakeDirs(g.state_dir, 0700);
    if (!s.ok()) return Fail(s);
    spec.state_dir = g.state_dir;
  }
  std::unique_ptr<EventWriter> events;
  if (!o.events_path.empty()) {
    auto w = EventWriter::Open(o.events_path);
    if (!w.ok()) return Fail(w.status());
    events = std::move(*w);
    spec.on_event = [&events](const std::string& line) { events->Write(line); };
  }
  spec.on_warning = [](const std::string& w) {
    std::fprintf(stderr, "edgeward: warning: degraded protection: %s\n", w.c_str());
  };
  auto result = sandbox::Run(spec);
  if (!result.ok()) return Fail(result.status());
  return result->exit_status;
}

}  // namespace

void AddRunCommands(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<RunOptions>();
  CLI::App* run = app.add_subcommand("run", "run a command confined by a workload policy");
  run->add_option("--policy", opts->policy_path, "workload policy (YAML)")->required();
  run->add_option("--events", opts->events_path, "append events as JSON lines to FILE, or - for stdout");
  run->add_option("--name", opts->name, "workload name for events and the cgroup (default: metadata.name)");
  AddStateDirOption(run, g);
  run->add_option("command", opts->argv, "the command and its arguments, after --")->required();
  run->callback([opts, &g] { g.exit_code = RunMain(*opts, g); });
}

}  // namespace edgeward::cli
