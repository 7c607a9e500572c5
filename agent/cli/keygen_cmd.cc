// edgeward keygen --out DIR [--passphrase-file F | --no-passphrase]
//
// Makes an Ed25519 signing key pair (docs/keys.md). The passphrase comes from
// a file (first line) or, on a terminal, from a prompt with echo off — never
// from the command line or the environment, where other users can read it.
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <optional>

#include "cli/common.h"
#include "edgeward/base/file.h"
#include "edgeward/crypto/key_file.h"
#include "edgeward/crypto/secure_bytes.h"

namespace edgeward::cli {
namespace {

struct KeygenArgs {
  std::string out_dir;
  std::string passphrase_file;
  bool no_passphrase = false;
  bool interactive_cost = false;
};

// Reads one line from the terminal with echo off.
StatusOr<crypto::SecureBytes> PromptHidden(const char* prompt) {
  std::cerr << prompt << std::flush;
  termios old_mode{};
  if (::tcgetattr(STDIN_FILENO, &old_mode) != 0) return Internal("tcgetattr(stdin) failed");
  termios quiet = old_mode;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  if (::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) return Internal("tcsetattr(stdin) failed");
  crypto::SecureBytes line;
  line.reserve(1024);  // no reallocation: no stale copies of the passphrase
  char c = 0;
  while (line.size() < 1023) {
    ssize_t n = ::read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    line.push_back(static_cast<uint8_t>(c));
  }
  crypto::Cleanse(&c, 1);
  (void)::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old_mode);
  std::cerr << "\n";
  return line;
}

StatusOr<std::optional<crypto::SecureBytes>> GetPassphrase(const KeygenArgs& a) {
  if (a.no_passphrase && !a.passphrase_file.empty()) {
    return InvalidArgument("give either --passphrase-file or --no-passphrase, not both");
  }
  if (a.no_passphrase) return std::optional<crypto::SecureBytes>();
  if (!a.passphrase_file.empty()) {
    EW_ASSIGN_OR_RETURN(std::string text, ReadFileToString(a.passphrase_file, 4096));
    size_t end = text.find('\n');
    if (end == std::string::npos) end = text.size();
    crypto::SecureBytes pw(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(end));
    crypto::Cleanse(text.data(), text.size());
    if (pw.empty()) return InvalidArgument(a.passphrase_file + ":1: the passphrase is empty");
    return std::optional<crypto::SecureBytes>(std::move(pw));
  }
  if (!::isatty(STDIN_FILENO)) {
    return InvalidArgument("no passphrase source: give --passphrase-file FILE, or --no-passphrase to store "
                           "the secret key unencrypted");
  }
  EW_ASSIGN_OR_RETURN(crypto::SecureBytes first, PromptHidden("passphrase for the new key: "));
  EW_ASSIGN_OR_RETURN(crypto::SecureBytes second, PromptHidden("again: "));
  if (first.empty()) return InvalidArgument("empty passphrase; use --no-passphrase to store the key unencrypted");
  if (first != second) return InvalidArgument("the passphrases differ");
  return std::optional<crypto::SecureBytes>(std::move(first));
}

int RunKeygen(const KeygenArgs& a) {
  auto pw = GetPassphrase(a);
  if (!pw.ok()) return Fail(pw.status());
  auto key = crypto::Ed25519SigningKey::Generate();
  if (!key.ok()) return Fail(key.status());
  std::optional<ByteView> view;
  if (pw->has_value()) view = ByteView((*pw)->data(), (*pw)->size());
  crypto::PassphraseCost cost = a.interactive_cost ? crypto::InteractivePassphraseCost() : crypto::PassphraseCost{};
  auto paths = crypto::WriteKeyPair(a.out_dir, *key, view, cost);
  if (!paths.ok()) return Fail(paths.status());
  std::cout << "key id:      " << key->KeyId() << "\n"
            << "public key:  " << paths->public_path << "\n"
            << "secret key:  " << paths->secret_path << (view ? " (passphrase-protected)" : " (UNENCRYPTED)")
            << "\n";
  return kExitOk;
}

}  // namespace

void AddKeygenCommand(CLI::App& app, Globals& g) {
  auto args = std::make_shared<KeygenArgs>();
  CLI::App* cmd = app.add_subcommand("keygen", "make an Ed25519 signing key pair (root or policy key)");
  cmd->add_option("--out", args->out_dir, "directory for <key id>.pub and <key id>.key (created 0700)")->required();
  cmd->add_option("--passphrase-file", args->passphrase_file, "encrypt the secret key with the first line of FILE");
  cmd->add_flag("--no-passphrase", args->no_passphrase, "store the secret key unencrypted (0600)");
  cmd->add_flag("--interactive-cost", args->interactive_cost,
                "cheaper Argon2id cost (2 passes, 64 MiB) for small signing machines");
  cmd->callback([args, &g] { g.exit_code = RunKeygen(*args); });
}

}  // namespace edgeward::cli
