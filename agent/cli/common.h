// Shared plumbing of the edgeward CLI: options every command understands,
// and how a Status becomes an exit code and a message.
//
// Exit codes: 0 ok; 1 verdict fail (appraisal said no); 2 bad usage or bad
// input (a file that doesn't parse, a wrong flag); 3 the operation could not
// be carried out (TPM unreachable, I/O error, internal error).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "edgeward/base/status.h"

namespace edgeward::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitVerdictFail = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitOperationFailed = 3;

struct Globals {
  std::string tcti;       // --tcti, default $EDGEWARD_TCTI, else auto-detect
  std::string state_dir;  // --state-dir, default $EDGEWARD_STATE_DIR or /var/lib/edgeward
  int exit_code = kExitOk;
};

// The main() of every edgeward binary around its own commands: --version,
// --log-level and --log-json (logging set up once parsing is complete), one
// subcommand required, then parse and run; usage errors exit 2. With
// `quiet_tss` the TSS's own stderr lines are kept for debug/trace logging
// only (an explicit TSS2_LOG from the user wins): our errors already name
// the failing call and its decoded response code.
int RunMain(int argc, char** argv, const std::string& description, const std::string& version, bool quiet_tss,
            const std::function<void(CLI::App&, Globals&)>& add_commands);

// Adds --tcti to a TPM command.
void AddTctiOption(CLI::App* cmd, Globals& g);
// Adds --state-dir to a command that keeps state.
void AddStateDirOption(CLI::App* cmd, Globals& g);

// kInvalidArgument, kDataLoss, kNotFound (of an input file), kOutOfRange,
// kAlreadyExists → 2; anything else → 3.
int ExitCodeFor(const Status& s);
// Prints "edgeward: error: <message>" to stderr, returns ExitCodeFor(s);
// an OK status prints nothing and gives 0.
int Fail(const Status& s);

// Prints `text` to stdout, or writes it to `path` (0644) when given.
Status Emit(const std::string& text, const std::string& path);

void AddTpmCommands(CLI::App& app, Globals& g);
void AddMeasureCommand(CLI::App& app, Globals& g);
void AddAttestCommands(CLI::App& app, Globals& g);
// `policy check|explain` (policy_cmd.cc); `run` and `policy learn` (run_cmd.cc,
// after AddPolicyCommands); `rules check|test` (rules_cmd.cc).
void AddPolicyCommands(CLI::App& app, Globals& g);
void AddRunCommands(CLI::App& app, Globals& g);
void AddRulesCommands(CLI::App& app, Globals& g);
// `keygen` (keygen_cmd.cc).
void AddKeygenCommand(CLI::App& app, Globals& g);
// `policy bundle|sign|verify|apply|show` and `root create|sign|update` (bundle_cmd.cc).
void AddBundleCommands(CLI::App& app, Globals& g);
// `agent`, `status`, `workloads`, `events`, `attest now` and (after
// AddBundleCommands) `policy show` through the running agent (agent_cmd.cc).
void AddAgentCommands(CLI::App& app, Globals& g);
void AddPolicyShowCommand(CLI::App& app, Globals& g);

}  // namespace edgeward::cli
