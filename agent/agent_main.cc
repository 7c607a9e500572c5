// edgeward-agent: the agent daemon's process image. `edgeward agent …`
// execs it when it is installed next to `edgeward` (main.cc), with the same
// arguments, so the daemon keeps its PID (systemd's MAINPID, sd_notify) and
// its command line, but is linked against only what the daemon uses (no
// sandbox launcher, seccomp compiler, bundle signing, TPM provisioning or
// the other CLI commands): fewer pages to load and keep resident for a
// process that runs for months (docs/agent.md, "Footprint").
// It also answers the agent's client commands (status, workloads, …).
#include <CLI/CLI.hpp>

#include <cstdlib>

#include "cli/common.h"
#include "edgeward/base/log.h"

int main(int argc, char** argv) {
  namespace cli = edgeward::cli;
  CLI::App app{"edgeward-agent: the edgeward agent daemon"};
  app.set_version_flag("--version", "edgeward-agent 0.1.0");
  std::string log_level = "warn";
  bool log_json = false;
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off (default warn)");
  app.add_flag("--log-json", log_json, "log as JSON lines");
  app.require_subcommand(1);
  app.parse_complete_callback([&] {
    // As in main.cc: the TSS's own stderr chatter only when debugging.
    if (log_level != "debug" && log_level != "trace") ::setenv("TSS2_LOG", "all+none", /*overwrite=*/0);
    edgeward::SetupLogging(log_level, log_json ? edgeward::LogFormat::kJson : edgeward::LogFormat::kText);
  });
  cli::Globals globals;
  cli::AddAgentCommands(app, globals);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? cli::kExitOk : cli::kExitBadInput;
  }
  return globals.exit_code;
}
