// edgeward-run: the workload runner on its own. `edgeward-run run --policy
// FILE -- CMD...` is exactly `edgeward run` (agent/cli/run_cmd.cc), linked
// against the sandbox, seccomp and policy modules only: no TPM stack, TLS
// client, HTTP server or SQLite. The agent starts one runner per supervised
// workload and each stays resident for the workload's lifetime, so a
// runner that loads a fraction of the libraries starts faster and costs
// less memory (docs/workloads.md). The agent uses it when it is installed
// next to the `edgeward` binary.
#include <CLI/CLI.hpp>

#include "cli/common.h"
#include "edgeward/base/log.h"

int main(int argc, char** argv) {
  namespace cli = edgeward::cli;
  CLI::App app{"edgeward-run: run a workload confined by a policy (the agent's runner)"};
  app.set_version_flag("--version", "edgeward-run 0.1.0");
  std::string log_level = "warn";
  bool log_json = false;
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off (default warn)");
  app.add_flag("--log-json", log_json, "log as JSON lines");
  app.require_subcommand(1);
  app.parse_complete_callback([&] {
    edgeward::SetupLogging(log_level, log_json ? edgeward::LogFormat::kJson : edgeward::LogFormat::kText);
  });
  cli::Globals globals;
  cli::AddRunCommands(app, globals);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? cli::kExitOk : cli::kExitBadInput;
  }
  return globals.exit_code;
}
