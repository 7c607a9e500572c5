// edgeward-agent: the agent daemon's process image. `edgeward agent …`
// execs it when it is installed next to `edgeward` (main.cc), with the same
// arguments, so the daemon keeps its PID (systemd's MAINPID, sd_notify) and
// its command line, but is linked against only what the daemon uses (no
// sandbox launcher, seccomp compiler, bundle signing, TPM provisioning or
// the other CLI commands): fewer pages to load and keep resident for a
// process that runs for months (docs/agent.md, "Footprint").
// It also answers the agent's client commands (status, workloads, …).
#include <CLI/CLI.hpp>

#include "cli/common.h"

int main(int argc, char** argv) {
  namespace cli = edgeward::cli;
  return cli::RunMain(argc, argv, "edgeward-agent: the edgeward agent daemon", "edgeward-agent 0.1.0",
                      /*quiet_tss=*/true, cli::AddAgentCommands);
}
