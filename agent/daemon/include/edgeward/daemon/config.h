// AgentConfig: the agent daemon's configuration (`edgeward agent --config
// FILE`, usually /etc/edgeward/agent.yaml), parsed and validated once. The
// rest of the daemon only sees this typed value, never the YAML.
//
// Every field and its default is documented in docs/agent.md. Errors are
// located: each one reads "FILE:LINE:COL: field PATH: message", unknown keys
// come with a "did you mean" suggestion, and all errors of a file are reported
// together (one per line of the Status message, sorted by position).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/base/status.h"

namespace edgeward::daemon {

// Largest config file accepted (it is outside input; bounded memory).
inline constexpr size_t kMaxConfigBytes = 1024 * 1024;

enum class LogFormat { kText, kJson };
enum class LogTarget { kStderr, kJournald };

struct AgentConfig {
  std::string source;  // the file it came from (labels later messages)

  std::string node_id;  // node.id; default: the host name
  std::string state_dir = "/var/lib/edgeward";
  std::string tpm_tcti = "auto";  // auto | device:PATH | swtpm:... | mssim:... | none

  // Without a verifier the agent runs local-only: no registration, no
  // attestation round trips, no bundle fetch; workloads come from
  // bundles.localFile.
  struct Verifier {
    std::string url;      // https://host:port
    std::string ca_file;  // PEM bundle the verifier's certificate must chain to
  };
  std::optional<Verifier> verifier;

  std::chrono::milliseconds attestation_interval = std::chrono::minutes(10);

  struct Bundles {
    std::string root_file = "/etc/edgeward/root.json";
    std::chrono::milliseconds fetch_interval = std::chrono::minutes(5);
    std::chrono::milliseconds jitter = std::chrono::seconds(30);
    // A signed bundle file (verified against root_file) or a directory laid
    // out like a bundle's content (workloads/, policies/, rules/); "" = none.
    std::string local_file;
  } bundles;

  struct Workloads {
    std::string edgeward_binary;  // "" = this binary (/proc/self/exe at start-up)
    std::string cgroup_root = "/sys/fs/cgroup";
    std::chrono::milliseconds stop_timeout = std::chrono::seconds(10);
  } workloads;

  struct Control {
    std::string socket = "/run/edgeward/control.sock";
    std::string group = "edgeward";  // members may use the socket; "" = root only
  } control;

  struct Metrics {
    std::string listen = "127.0.0.1:9464";  // "" disables the endpoint
    std::string host;                       // split from listen
    uint16_t port = 0;
  } metrics;

  struct Log {
    LogFormat format = LogFormat::kText;
    std::string level = "info";  // trace|debug|info|warn|error|off
    LogTarget target = LogTarget::kStderr;
  } log;

  std::vector<std::string> rule_files;  // rules.files, after the bundle's rules/
  // actions.commands: run_command targets, name → argv (argv[0] absolute).
  std::map<std::string, std::vector<std::string>> commands;
};

// Parses `text`; `file_name` labels the errors. kInvalidArgument with every
// located error, or kOutOfRange when the text exceeds kMaxConfigBytes.
StatusOr<AgentConfig> ParseAgentConfig(std::string_view text, const std::string& file_name);
// Reads and parses `path` (kNotFound when it does not exist).
StatusOr<AgentConfig> LoadAgentConfig(const std::string& path);

// "90s", "10m", "1h30m", "250ms", "2h" → duration. false when malformed or
// larger than 30 days.
bool ParseDuration(std::string_view text, std::chrono::milliseconds* out);
// The inverse, shortest exact form ("1h30m", "250ms", "0s").
std::string FormatDuration(std::chrono::milliseconds d);

// Field paths (as in the YAML, e.g. "control.socket") whose value differs
// between `before` and `after` and that a SIGHUP cannot apply: they need a
// restart. The reloadable ones are log.level, log.format,
// workloads.stopTimeout, rules.files and actions.commands (and a SIGHUP also
// re-reads bundles.localFile).
std::vector<std::string> RestartRequiredChanges(const AgentConfig& before, const AgentConfig& after);

}  // namespace edgeward::daemon
