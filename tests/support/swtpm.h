// A private software TPM for tests: one swtpm process per instance, state in
// its own temp directory, on a free TCP port pair, always stopped.
//
// The TPM is provisioned (EK, EK certificate, platform certificate, via
// swtpm_setup) once into a template directory shared by the whole test run;
// each instance starts from a copy of that state, so instances are cheap and
// independent. No mocks: this is a real TPM 2.0 simulator.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "edgeward/base/status.h"

namespace edgeward::testing {

class Swtpm {
 public:
  // Copies the provisioned template state and starts swtpm on it.
  static StatusOr<std::unique_ptr<Swtpm>> Start();
  ~Swtpm();  // stops swtpm (SIGTERM, then SIGKILL) and removes the state dir
  Swtpm(const Swtpm&) = delete;
  Swtpm& operator=(const Swtpm&) = delete;

  // TCTI config string for edgeward's TPM layer and for tpm2-tools:
  // "swtpm:host=127.0.0.1,port=N".
  std::string tcti() const;
  int port() const { return port_; }
  const std::string& state_dir() const { return dir_; }

  // Stops the process, keeping the state (models a TPM that went away).
  Status Stop();
  // Starts again on the same state and port (a power cycle: TPM2_Startup
  // with CLEAR, so PCRs reset and resetCount increments).
  Status Restart();

 private:
  Swtpm() = default;
  Status Launch();

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// The swtpm local CA certificates (root and intermediate) concatenated into
// one PEM bundle: what EK certificate chains are checked against in tests.
StatusOr<std::string> SwtpmCaBundlePath();

// A fresh temporary directory (mode 0700) removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs a shell command, returns its exit status and combined output.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult RunCommand(const std::string& command);

}  // namespace edgeward::testing
