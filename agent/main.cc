// edgeward: the command-line interface of the edge security agent.
// Exit codes: 0 ok, 1 verdict fail, 2 bad usage or input, 3 operation failed.
#include <CLI/CLI.hpp>

#include <limits.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "cli/common.h"
#include "edgeward/base/log.h"

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
  CLI::App app{"edgeward: edge security enforcement agent"};
  app.set_version_flag("--version", "edgeward 0.1.0");
  std::string log_level = "warn";
  bool log_json = false;
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off (default warn)");
  app.add_flag("--log-json", log_json, "log as JSON lines");
  app.require_subcommand(1);
  app.parse_complete_callback([&] {
    // The TSS prints its own error lines to stderr; our errors already name
    // the failing call and its decoded response code. Keep its chatter for
    // debugging only (an explicit TSS2_LOG from the user wins).
    if (log_level != "debug" && log_level != "trace") ::setenv("TSS2_LOG", "all+none", /*overwrite=*/0);
    edgeward::SetupLogging(log_level, log_json ? edgeward::LogFormat::kJson : edgeward::LogFormat::kText);
  });

  cli::Globals globals;
  cli::AddTpmCommands(app, globals);
  cli::AddMeasureCommand(app, globals);
  cli::AddAttestCommands(app, globals);
  cli::AddPolicyCommands(app, globals);
  cli::AddBundleCommands(app, globals);
  cli::AddRunCommands(app, globals);
  cli::AddRulesCommands(app, globals);
  cli::AddKeygenCommand(app, globals);
  cli::AddAgentCommands(app, globals);
  cli::AddPolicyShowCommand(app, globals);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? cli::kExitOk : cli::kExitBadInput;
  }
  return globals.exit_code;
}
