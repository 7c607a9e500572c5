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

int main(int argc, char** argv) {
  namespace cli = edgeward::cli;
  return cli::RunMain(argc, argv, "edgeward-run: run a workload confined by a policy (the agent's runner)",
                      "edgeward-run 0.1.0", /*quiet_tss=*/false, cli::AddRunCommands);
}
