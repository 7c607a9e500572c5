// The agent daemon (`edgeward agent --config FILE`): ties the event loop, the
// config, the workload supervisor, the cloud worker, the rules engine, the
// control socket, metrics and systemd notification into one process.
//
// Start-up: config (located errors → exit 2) → logging → signals → state
// directory (0700) → control socket → rules → supervisor (reattach) → cloud
// worker (TPM, spool, registration; skipped with tpm.tcti "none" and no
// verifier) → local bundle (bundles.localFile) → metrics → READY=1 → run.
//
// Signals: SIGHUP reloads the config (log level/format, stop timeout, rules
// files, commands; re-reads bundles.localFile; other changes are logged as
// needing a restart). SIGTERM/SIGINT: STOPPING=1, every workload stopped
// (SIGTERM, SIGKILL after workloads.stopTimeout), the cloud worker flushed
// and joined, exit 0.
//
// Every event (from workloads and the cloud worker) goes through the rules
// engine, into the control socket's history (`edgeward events`), the metrics
// and, with a verifier, to the cloud through the spool. Rule actions act on
// the supervisor and the cloud worker (docs/agent.md).
#pragma once

#include <string>

namespace edgeward::daemon {

// Runs the agent until SIGTERM/SIGINT. Returns the process exit code: 0
// after a clean stop, 2 for a bad config, 3 when start-up fails (e.g. the
// control socket is in use) or the stop missed its deadline.
int RunAgent(const std::string& config_path);

}  // namespace edgeward::daemon
