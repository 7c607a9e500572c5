#include "cli/common.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "edgeward/base/file.h"
#include "edgeward/base/log.h"

namespace edgeward::cli {

void AddTctiOption(CLI::App* cmd, Globals& g) {
  const char* env = std::getenv("EDGEWARD_TCTI");
  if (env != nullptr) g.tcti = env;
  cmd->add_option("--tcti", g.tcti,
                  "TPM transport: device:/dev/tpmrm0 | swtpm:host=H,port=P | mssim:... | tabrmd: "
                  "(default: $EDGEWARD_TCTI, else /dev/tpmrm0, then /dev/tpm0)");
}

void AddStateDirOption(CLI::App* cmd, Globals& g) {
  const char* env = std::getenv("EDGEWARD_STATE_DIR");
  g.state_dir = env != nullptr && *env != '\0' ? env : "/var/lib/edgeward";
  cmd->add_option("--state-dir", g.state_dir,
                  "agent state directory, mode 0700 (default: $EDGEWARD_STATE_DIR or /var/lib/edgeward)");
}

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return kExitOk;
    case StatusCode::kInvalidArgument:
    case StatusCode::kDataLoss:
    case StatusCode::kNotFound:
    case StatusCode::kOutOfRange:
    case StatusCode::kAlreadyExists: return kExitBadInput;
    default: return kExitOperationFailed;
  }
}

int RunMain(int argc, char** argv, const std::string& description, const std::string& version, bool quiet_tss,
            const std::function<void(CLI::App&, Globals&)>& add_commands) {
  CLI::App app{description};
  app.set_version_flag("--version", version);
  std::string log_level = "warn";
  bool log_json = false;
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off (default warn)");
  app.add_flag("--log-json", log_json, "log as JSON lines");
  app.require_subcommand(1);
  app.parse_complete_callback([&] {
    if (quiet_tss && log_level != "debug" && log_level != "trace") {
      ::setenv("TSS2_LOG", "all+none", /*overwrite=*/0);
    }
    SetupLogging(log_level, log_json ? LogFormat::kJson : LogFormat::kText);
  });
  Globals globals;
  add_commands(app, globals);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitBadInput;
  }
  return globals.exit_code;
}

int Fail(const Status& s) {
  if (s.ok()) return kExitOk;
  std::cerr << "edgeward: error: " << s.message() << " [" << StatusCodeName(s.code()) << "]\n";
  return ExitCodeFor(s);
}

Status Emit(const std::string& text, const std::string& path) {
  if (path.empty() || path == "-") {
    std::cout << text;
    if (!text.empty() && text.back() != '\n') std::cout << '\n';
    std::cout.flush();
    return std::cout ? Status::Ok() : Internal("writing to stdout failed");
  }
  return WriteFileAtomic(path, AsBytes(text), 0644);
}

}  // namespace edgeward::cli
