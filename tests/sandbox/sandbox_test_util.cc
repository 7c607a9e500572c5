#include "sandbox_test_util.h"

#include <fcntl.h>
#include <unistd.h>

#include "edgeward/base/fd.h"
#include "edgeward/base/file.h"
#include "swtpm.h"

namespace edgeward::sandbox::testing {

policy::WorkloadPolicy ShellPolicy(const std::string& name) {
  policy::WorkloadPolicy p;
  p.name = name;
  p.mode = policy::Mode::kEnforce;
  p.namespaces = {policy::Namespace::kPid, policy::Namespace::kMount, policy::Namespace::kIpc,
                  policy::Namespace::kUts, policy::Namespace::kNet};
  p.network.mode = policy::NetworkMode::kNone;
  p.filesystem.read_only = {"/bin", "/etc", "/lib", "/lib64", "/usr"};
  return p;
}

Outcome RunArgv(const policy::WorkloadPolicy& policy, const std::vector<std::string>& argv) {
  edgeward::testing::TempDir dir;
  std::string out_path = dir.File("out");
  UniqueFd out(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  Outcome o;
  LaunchSpec spec;
  spec.policy = policy;
  spec.argv = argv;
  spec.state_dir = dir.path();
  spec.stdout_fd = out.get();
  spec.stderr_fd = out.get();
  spec.on_event = [&](const std::string& line) { o.events.push_back(line); };
  spec.on_warning = [](const std::string&) {};
  o.result = Run(spec);
  out.Reset();
  auto text = ReadFileToString(out_path, 1 << 20);
  if (text.ok()) o.output = *text;
  return o;
}

Outcome RunScript(const policy::WorkloadPolicy& policy, const std::string& script,
                  const std::string& shell) {
  return RunArgv(policy, {shell, "-c", script});
}

std::vector<std::string> CgroupDirsFor(const std::string& name) {
  std::string leaf = "edgeward/" + name + "-" + std::to_string(::getpid());
  return {"/sys/fs/cgroup/pids/" + leaf, "/sys/fs/cgroup/memory/" + leaf, "/sys/fs/cgroup/cpu/" + leaf};
}

}  // namespace edgeward::sandbox::testing
