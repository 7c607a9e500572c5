// edgeward: the command-line interface of the edge security agent.
// Exit codes: 0 ok, 1 verdict fail, 2 bad usage or input, 3 operation failed.
#include <CLI/CLI.hpp>

#include <cstdlib>

#include "cli/common.h"
#include "edgeward/base/log.h"

int main(int argc, char** argv) {
  namespace cli = edgeward::cli;
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
