#include "harness.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace edgeward::escapes {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "escapes harness: %s\n", why.c_str());
  std::abort();
}

}  // namespace

std::string EdgewardBinary() { return std::string(EDGEWARD_BINARY_DIR) + "/agent/edgeward"; }
std::string ProgsDir() { return EDGEWARD_ESCAPE_PROGS_DIR; }
std::string ProgPath(const std::string& name) { return ProgsDir() + "/" + name; }

std::string DefaultPolicyTemplate() {
  std::string path = std::string(EDGEWARD_ESCAPES_SOURCE_DIR) + "/default-policy.yaml";
  std::string text = ReadAll(path);
  if (text.empty()) Die("can't read " + path);
  return text;
}

WorkDir::WorkDir(uid_t uid) {
  std::string tmpl = "/var/tmp/edgeward-escapes-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) Die(std::string("mkdtemp: ") + strerror(errno));
  path_ = tmpl;
  if (chmod(path_.c_str(), 0755) != 0) Die(std::string("chmod: ") + strerror(errno));
  if (chown(path_.c_str(), uid, uid) != 0) Die(std::string("chown: ") + strerror(errno));
}

WorkDir::~WorkDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string DefaultPolicy(const std::map<std::string, std::string>& vars) {
  std::string text = DefaultPolicyTemplate();
  for (const auto& [key, value] : vars) {
    std::string needle = "@" + key + "@";
    size_t pos = text.find(needle);
    if (pos == std::string::npos) Die("default-policy.yaml has no " + needle);
    for (; pos != std::string::npos; pos = text.find(needle, pos + value.size())) {
      text.replace(pos, needle.size(), value);
    }
  }
  // Only comment lines may still mention a placeholder.
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    size_t hash = line.find('#');
    size_t at = line.find('@');
    if (at != std::string::npos && (hash == std::string::npos || at < hash) &&
        line.find('@', at + 1) != std::string::npos) {
      Die("unreplaced placeholder in policy line: " + line);
    }
  }
  return text;
}

std::vector<nlohmann::json> SandboxRun::Violations(const std::string& syscall) const {
  std::vector<nlohmann::json> out;
  for (const auto& e : events) {
    if (e.value("type", "") == "sandbox.violation" && e.contains("syscall") &&
        e["syscall"].is_object() && e["syscall"].value("name", "") == syscall) {
      out.push_back(e);
    }
  }
  return out;
}

std::string SandboxRun::ExitSignal() const {
  for (const auto& e : events) {
    if (e.value("type", "") == "workload.exit" && e.contains("exit") && e["exit"].is_object() &&
        e["exit"].contains("signal") && e["exit"]["signal"].is_string()) {
      return e["exit"]["signal"].get<std::string>();
    }
  }
  return "";
}

std::string SandboxRun::Describe() const {
  return "exit " + std::to_string(exit_code) + (timed_out ? " (timed out)" : "") +
         "\n--- output ---\n" + output + "--- events ---\n" + events_text;
}

SandboxRun RunSandboxed(const std::string& run_dir, const std::string& policy_yaml,
                        const std::vector<std::string>& argv, int timeout_seconds) {
  const std::string policy_path = run_dir + "/policy.yaml";
  const std::string events_path = run_dir + "/events.jsonl";
  const std::string output_path = run_dir + "/output.txt";
  {
    std::ofstream out(policy_path);
    out << policy_yaml;
    if (!out) Die("can't write " + policy_path);
  }
  std::vector<std::string> args = {EdgewardBinary(), "run",         "--policy", policy_path,
                                   "--events",       events_path, "--"};
  args.insert(args.end(), argv.begin(), argv.end());
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) Die(std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int out = open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(126);
    execv(cargs[0], cargs.data());
    _exit(127);
  }
  SandboxRun run;
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) Die(std::string("waitpid: ") + strerror(errno));
    if (std::chrono::steady_clock::now() > deadline) {
      run.timed_out = true;
      kill(pid, SIGKILL);  // our own child, by its pid
      if (waitpid(pid, &status, 0) != pid) Die("waitpid after kill");
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.output = ReadAll(output_path);
  run.events_text = ReadAll(events_path);
  std::istringstream lines(run.events_text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      run.output += "\n[harness: event line is not JSON: " + line + "]\n";
      continue;
    }
    run.events.push_back(std::move(j));
  }
  return run;
}

}  // namespace edgeward::escapes
