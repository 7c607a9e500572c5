// edgeward: the command-line interface of the edge security agent.
// Exit codes: 0 ok, 1 verdict fail, 2 bad usage or input, 3 operation failed.
#include <CLI/CLI.hpp>

#include <limits.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "cli/common.h"

namespace {

// `edgeward [--log-level L] [--log-json] agent …` runs the daemon. When the
// lean daemon binary (agent_main.cc) is installed next to this one, exec it
// with the same arguments: the daemon keeps this PID and command line but
// loads and keeps resident only what it uses. Without it (a partial
// install), the daemon runs in this process, the same code.
void ExecLeanAgentIfAsked(char** argv) {
  int i = 1;
  for (; argv[i] != nullptr; ++i) {
    if (std::strcmp(argv[i], "--log-level") == 0 && argv[i + 1] != nullptr) {
      ++i;
    } else if (std::strncmp(argv[i], "--log-", 6) != 0) {
      break;
    }
  }
  if (argv[i] == nullptr || std::strcmp(argv[i], "agent") != 0) return;
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return;  // can't tell where we are: run in-process
  std::string lean(self, static_cast<size_t>(n));
  lean = lean.substr(0, lean.rfind('/') + 1) + "edgeward-agent";
  if (::access(lean.c_str(), X_OK) != 0) return;
  ::execv(lean.c_str(), argv);
  // execv returned: it failed; the in-process daemon is as good.
}

}  // namespace

int main(int argc, char** argv) {
  namespace cli = edgeward::cli;
  ExecLeanAgentIfAsked(argv);
  return cli::RunMain(argc, argv, "edgeward: edge security enforcement agent", "edgeward 0.1.0", /*quiet_tss=*/true,
                      [](CLI::App& app, cli::Globals& g) {
                        cli::AddTpmCommands(app, g);
                        cli::AddMeasureCommand(app, g);
                        cli::AddAttestCommands(app, g);
                        cli::AddPolicyCommands(app, g);
                        cli::AddBundleCommands(app, g);
                        cli::AddRunCommands(app, g);
                        cli::AddRulesCommands(app, g);
                        cli::AddKeygenCommand(app, g);
                        cli::AddAgentCommands(app, g);
                        cli::AddPolicyShowCommand(app, g);
                      });
}
