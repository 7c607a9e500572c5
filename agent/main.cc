// edgeward: the CLI. Exit codes: 0 ok, 1 verdict fail, 2 bad usage or input.
#include <CLI/CLI.hpp>

#include "edgeward/base/log.h"

int main(int argc, char** argv) {
  CLI::App app{"edgeward: edge security enforcement agent"};
  app.set_version_flag("--version", "edgeward 0.1.0");
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off");
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  edgeward::SetupLogging(log_level);
  return 0;
}
