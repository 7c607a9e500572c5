// Signed policy bundles and the root of trust (docs/bundles.md):
//   policy bundle|sign|verify|apply|show   root create|sign|update
//
// Exit codes for verify/apply/root update: 0 accepted, 1 rejected (the
// reason on stderr and in the event), 2 bad input (unreadable or malformed
// file, bad flag), 3 the operation failed (I/O, TPM).
#include <spdlog/spdlog.h>

#include <ctime>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/common.h"
#include "edgeward/base/file.h"
#include "edgeward/bundle/bundle.h"
#include "edgeward/bundle/root.h"
#include "edgeward/bundle/store.h"
#include "edgeward/bundle/time.h"
#include "edgeward/bundle/verify.h"
#include "edgeward/crypto/key_file.h"
#include "edgeward/daemon/bundle_content.h"
#include "edgeward/crypto/secure_bytes.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::cli {
namespace {

int64_t WallNow() { return static_cast<int64_t>(::time(nullptr)); }

// ---- helpers -------------------------------------------------------------

StatusOr<std::optional<crypto::SecureBytes>> ReadPassphrase(const std::string& key_path, const std::string& text,
                                                            const std::string& passphrase_file) {
  EW_ASSIGN_OR_RETURN(bool encrypted, crypto::SecretKeyFileIsEncrypted(text, key_path));
  if (!encrypted) return std::optional<crypto::SecureBytes>();
  if (passphrase_file.empty()) {
    return InvalidArgument(key_path + " is passphrase-protected: give --passphrase-file FILE");
  }
  EW_ASSIGN_OR_RETURN(std::string pw, ReadFileToString(passphrase_file, 4096));
  size_t end = pw.find('\n');
  crypto::SecureBytes out(pw.begin(), pw.begin() + static_cast<std::ptrdiff_t>(end == std::string::npos ? pw.size() : end));
  crypto::Cleanse(pw.data(), pw.size());
  return std::optional<crypto::SecureBytes>(std::move(out));
}

StatusOr<crypto::Ed25519SigningKey> LoadSigningKey(const std::string& key_path, const std::string& passphrase_file) {
  EW_ASSIGN_OR_RETURN(std::string text, ReadFileToString(key_path, 64 * 1024));
  auto pw = ReadPassphrase(key_path, text, passphrase_file);
  if (!pw.ok()) {
    crypto::Cleanse(text.data(), text.size());
    return pw.status();
  }
  std::optional<ByteView> view;
  if (pw->has_value()) view = ByteView((*pw)->data(), (*pw)->size());
  auto key = crypto::ParseSecretKeyFile(text, key_path, view);
  crypto::Cleanse(text.data(), text.size());
  return key;
}

StatusOr<bundle::NodeIdentity> Identity(const std::string& id, const std::vector<std::string>& labels) {
  bundle::NodeIdentity node;
  EW_RETURN_IF_ERROR(bundle::ValidateNodeId(id));
  node.id = id;
  for (const std::string& l : labels) {
    size_t eq = l.find('=');
    if (eq == std::string::npos) return InvalidArgument("--label '" + l + "': want KEY=VALUE");
    std::string k = l.substr(0, eq), v = l.substr(eq + 1);
    EW_RETURN_IF_ERROR(bundle::ValidateLabel(k, v));
    node.labels[k] = v;
  }
  return node;
}

StatusOr<std::string> ReadBundleFile(const std::string& path) {
  auto data = ReadFileToString(path, bundle::kMaxBundleBytes);
  if (!data.ok() && data.status().code() == StatusCode::kResourceExhausted) {
    return InvalidArgument(path + ": larger than any valid bundle (" + std::to_string(bundle::kMaxBundleBytes) + " bytes)");
  }
  return data;
}

// verify/apply verdict → output and exit code.
int Report(const bundle::Verdict& v, ByteView file, int64_t time, bool print_event) {
  if (print_event) std::cout << bundle::VerdictEvent(v, file, time) << "\n";
  if (v.accepted()) {
    if (!print_event) std::cout << "ok: " << v.message << " (sha256 " << v.bundle->digest << ")\n";
    return kExitOk;
  }
  spdlog::warn("bundle rejected: {}: {}", bundle::ReasonName(v.reason), v.message);
  std::cerr << "edgeward: rejected: " << bundle::ReasonName(v.reason) << ": " << v.message << "\n";
  return v.reason == bundle::Reason::kMalformed ? kExitBadInput : kExitVerdictFail;
}

// Root/rotation refusals are verdicts (1), not operational failures.
int FailRoot(const Status& s) {
  if (s.code() == StatusCode::kPermissionDenied || s.code() == StatusCode::kFailedPrecondition) {
    std::cerr << "edgeward: rejected: " << s.message() << "\n";
    return kExitVerdictFail;
  }
  return Fail(s);
}

// ---- policy bundle / sign ----------------------------------------------

struct BundleArgs {
  uint64_t version = 0;
  std::string expires, issued_at, targets, dir, out;
};

int RunBundle(const BundleArgs& a) {
  int64_t issued = WallNow();
  if (!a.issued_at.empty()) {
    auto t = bundle::ParseRfc3339(a.issued_at);
    if (!t.ok()) return Fail(t.status().WithContext("--issued-at"));
    issued = *t;
  }
  auto expires = bundle::ParseExpiry(a.expires, issued);
  if (!expires.ok()) return Fail(expires.status().WithContext("--expires"));
  auto targets = bundle::ParseTargetSelector(a.targets);
  if (!targets.ok()) return Fail(targets.status().WithContext("--targets"));
  auto b = bundle::MakeBundleFromDir(a.dir, a.version, issued, *expires, *targets);
  if (!b.ok()) return Fail(b.status());
  Bytes encoded = bundle::EncodeBundle(*b);
  if (Status s = WriteFileAtomic(a.out, encoded, 0644); !s.ok()) return Fail(s);
  std::cout << "bundle version " << a.version << ": " << b->manifest.files.size() << " files, "
            << encoded.size() << " bytes, sha256 " << b->digest << ", unsigned -> " << a.out << "\n";
  return kExitOk;
}

struct SignArgs {
  std::string key, passphrase_file, file;
};

int RunSign(const SignArgs& a) {
  auto data = ReadBundleFile(a.file);
  if (!data.ok()) return Fail(data.status());
  auto b = bundle::DecodeBundle(AsBytes(*data));
  if (!b.ok()) return Fail(b.status().WithContext(a.file));
  auto key = LoadSigningKey(a.key, a.passphrase_file);
  if (!key.ok()) return Fail(key.status());
  if (Status s = bundle::SignBundle(*b, *key); !s.ok()) return Fail(s);
  if (Status s = WriteFileAtomic(a.file, bundle::EncodeBundle(*b), 0644); !s.ok()) return Fail(s);
  std::cout << "signed " << a.file << " with key " << key->KeyId() << " (" << b->signatures.size()
            << " signature(s))\n";
  return kExitOk;
}

// ---- policy verify / apply / show --------------------------------------

struct VerifyArgs {
  std::string root, node_id, state_dir, file;
  std::vector<std::string> labels;
  bool no_validate = false;
};

int RunVerify(const VerifyArgs& a) {
  auto root_text = ReadFileToString(a.root, bundle::kMaxRootBytes + 1);
  if (!root_text.ok()) return Fail(root_text.status());
  auto root = bundle::LoadRootDocument(*root_text, a.root);
  if (!root.ok()) return root.status().code() == StatusCode::kInvalidArgument ? Fail(root.status()) : FailRoot(root.status());
  auto data = ReadBundleFile(a.file);
  if (!data.ok()) return Fail(data.status());
  bundle::VerifyOptions o;
  o.trusted_now = WallNow();
  if (!a.node_id.empty()) {
    auto node = Identity(a.node_id, a.labels);
    if (!node.ok()) return Fail(node.status());
    o.node = *node;
  } else if (!a.labels.empty()) {
    return Fail(InvalidArgument("--label needs --node-id"));
  }
  if (!a.state_dir.empty()) {
    // Read-only: the disk record (highest version, time floor); `apply`
    // is what consults and advances the TPM.
    auto guard = bundle::RollbackGuard::Open(a.state_dir, nullptr);
    if (!guard.ok()) return Fail(guard.status());
    auto now = guard->TrustedNow(o.trusted_now);
    if (!now.ok()) return Fail(now.status());
    o.trusted_now = *now;
    o.highest_accepted = guard->EffectiveHighest();
  }
  if (!a.no_validate) o.validate = daemon::MakeBundleContentValidator();
  bundle::Verdict v = bundle::VerifyBundle(AsBytes(*data), *root, o);
  return Report(v, AsBytes(*data), o.trusted_now, /*print_event=*/false);
}

struct ApplyArgs {
  std::string root, node_id, file;
  std::vector<std::string> labels;
  bool no_tpm = false;
};

int RunApply(const ApplyArgs& a, const Globals& g) {
  auto node = Identity(a.node_id, a.labels);
  if (!node.ok()) return Fail(node.status());
  auto root_text = ReadFileToString(a.root, bundle::kMaxRootBytes + 1);
  if (!root_text.ok()) return Fail(root_text.status());
  auto data = ReadBundleFile(a.file);
  if (!data.ok()) return Fail(data.status());

  std::optional<tpm::Tpm> tpm;
  if (!a.no_tpm) {
    auto t = tpm::Tpm::Open(g.tcti);
    if (!t.ok()) return Fail(t.status().WithContext("anti-rollback needs the TPM (or --no-tpm, disk record only)"));
    tpm.emplace(std::move(*t));
  }
  auto store = bundle::BundleStore::Open(g.state_dir);
  if (!store.ok()) return Fail(store.status());
  auto guard = bundle::RollbackGuard::Open(g.state_dir, tpm ? &*tpm : nullptr);
  if (!guard.ok()) return Fail(guard.status());
  auto now = guard->TrustedNow(WallNow());
  if (!now.ok()) return Fail(now.status());
  auto root = bundle::InstallRoot(g.state_dir, *root_text, a.root, *now);
  if (!root.ok()) return root.status().code() == StatusCode::kInvalidArgument ? Fail(root.status()) : FailRoot(root.status());

  // Finish or clean up after an earlier interrupted apply. A refused
  // (rolled-back) active bundle does not block installing a newer one.
  auto recovered = store->Recover(*guard, *now);
  if (!recovered.ok()) {
    if (recovered.status().code() != StatusCode::kFailedPrecondition) return Fail(recovered.status());
    spdlog::warn("{}", recovered.status().message());
  }
  std::optional<bundle::Bundle> previous;
  if (auto active = store->Active(); active.ok() && *active) previous = std::move(**active);

  bundle::VerifyOptions o;
  o.node = *node;
  o.validate = daemon::MakeBundleContentValidator();
  auto verdict = store->Apply(AsBytes(*data), *root, *guard, o, WallNow());
  if (!verdict.ok()) return Fail(verdict.status());
  int rc = Report(*verdict, AsBytes(*data), *now, /*print_event=*/true);
  if (verdict->accepted()) {
    spdlog::info("bundle version {} active", verdict->version());
    if (previous) {
      bundle::ChangeSet changes = bundle::ChangedFiles(*previous, *verdict->bundle);
      for (const auto& [kind, c] : changes.by_kind) {
        std::cerr << bundle::FileKindName(kind) << ": " << c.added.size() << " added, " << c.removed.size()
                  << " removed, " << c.changed.size() << " changed\n";
      }
    }
  }
  return rc;
}

std::string Describe(const bundle::Bundle& b) {
  return "version " + std::to_string(b.manifest.version) + " (sha256 " + b.digest + ", issued " +
         bundle::FormatRfc3339(b.manifest.issued_at) + ", expires " + bundle::FormatRfc3339(b.manifest.expires_at) +
         ", " + std::to_string(b.manifest.files.size()) + " files, targets " + bundle::FormatTargets(b.manifest.targets) + ")";
}

int RunShow(const Globals& g) {
  auto store = bundle::BundleStore::Open(g.state_dir);
  if (!store.ok()) return Fail(store.status());
  auto guard = bundle::RollbackGuard::Open(g.state_dir, nullptr);
  if (!guard.ok()) return Fail(guard.status());
  auto active = store->Active();
  if (!active.ok()) return Fail(active.status());
  auto lkg = store->LastKnownGood();
  if (!lkg.ok()) return Fail(lkg.status());
  std::cout << "active:           " << (*active ? Describe(**active) : "none") << "\n"
            << "last-known-good:  " << (*lkg ? Describe(**lkg) : "none") << "\n"
            << "highest accepted: " << guard->disk_highest() << " (state.json)\n"
            << "time floor:       " << bundle::FormatRfc3339(guard->time_floor()) << "\n";
  if (auto root = bundle::LoadInstalledRoot(g.state_dir); root.ok()) {
    std::cout << "trusted root:     version " << root->content.version << ", expires "
              << bundle::FormatRfc3339(root->content.expires) << "\n";
  }
  return kExitOk;
}

// ---- root create / sign / update ----------------------------------------

struct RootCreateArgs {
  uint64_t version = 0;
  std::string expires, out;
  std::vector<std::string> root_keys, policy_keys;
  uint32_t threshold = 0, policy_threshold = 0;
};

int RunRootCreate(const RootCreateArgs& a) {
  bundle::RootContent c;
  c.version = a.version;
  auto expires = bundle::ParseExpiry(a.expires, WallNow());
  if (!expires.ok()) return Fail(expires.status().WithContext("--expires"));
  c.expires = *expires;
  c.root_threshold = a.threshold;
  c.policy_threshold = a.policy_threshold;
  for (const std::string& path : a.root_keys) {
    auto key = crypto::ReadPublicKeyFile(path);
    if (!key.ok()) return Fail(key.status());
    c.root_keys.push_back(key->KeyId());
    c.keys[key->KeyId()] = *key;
  }
  for (const std::string& spec : a.policy_keys) {
    size_t at = spec.rfind('@');
    std::string path = at == std::string::npos ? spec : spec.substr(0, at);
    int64_t key_expires = c.expires;
    if (at != std::string::npos) {
      auto t = bundle::ParseExpiry(spec.substr(at + 1), WallNow());
      if (!t.ok()) return Fail(t.status().WithContext("--policy-key " + spec));
      key_expires = *t;
    }
    auto key = crypto::ReadPublicKeyFile(path);
    if (!key.ok()) return Fail(key.status());
    c.policy_keys.push_back(bundle::PolicyKey{key->KeyId(), key_expires});
    c.keys[key->KeyId()] = *key;
  }
  auto doc = bundle::MakeRootDocument(c);
  if (!doc.ok()) return Fail(doc.status());
  if (Status s = Emit(bundle::SerializeRootDocument(*doc), a.out); !s.ok()) return Fail(s);
  std::cerr << "root version " << c.version << " (unsigned): sign it with " << c.root_threshold
            << " root keys: edgeward root sign --key K.key " << a.out << "\n";
  return kExitOk;
}

struct RootSignArgs {
  std::string key, passphrase_file, file;
};

int RunRootSign(const RootSignArgs& a) {
  auto text = ReadFileToString(a.file, bundle::kMaxRootBytes + 1);
  if (!text.ok()) return Fail(text.status());
  auto doc = bundle::ParseRootDocument(*text, a.file);
  if (!doc.ok()) return Fail(doc.status());
  auto key = LoadSigningKey(a.key, a.passphrase_file);
  if (!key.ok()) return Fail(key.status());
  if (Status s = bundle::SignRootDocument(*doc, *key); !s.ok()) return Fail(s);
  std::string out = bundle::SerializeRootDocument(*doc);
  if (Status s = WriteFileAtomic(a.file, AsBytes(out), 0644); !s.ok()) return Fail(s);
  std::cout << "signed " << a.file << " with root key " << key->KeyId() << " (" << doc->signatures.size() << " of "
            << doc->content.root_threshold << " required)\n";
  return kExitOk;
}

int RunRootUpdate(const std::string& file, const Globals& g) {
  auto text = ReadFileToString(file, bundle::kMaxRootBytes + 1);
  if (!text.ok()) return Fail(text.status());
  auto current = bundle::LoadInstalledRoot(g.state_dir);
  if (!current.ok()) {
    if (current.status().code() == StatusCode::kNotFound) {
      return Fail(InvalidArgument(g.state_dir + " has no trusted root yet: install one with `policy apply --root`"));
    }
    return Fail(current.status());
  }
  auto guard = bundle::RollbackGuard::Open(g.state_dir, nullptr);
  if (!guard.ok()) return Fail(guard.status());
  auto now = guard->TrustedNow(WallNow());
  if (!now.ok()) return Fail(now.status());
  auto next = bundle::InstallRoot(g.state_dir, *text, file, *now);
  if (!next.ok()) return next.status().code() == StatusCode::kInvalidArgument ? Fail(next.status()) : FailRoot(next.status());
  std::cout << "trusted root: version " << current->content.version << " -> " << next->content.version << "\n";
  return kExitOk;
}

CLI::App* PolicyCommand(CLI::App& app) {
  auto found = app.get_subcommands([](CLI::App* sub) { return sub->get_name() == "policy"; });
  if (!found.empty()) return found.front();
  return app.add_subcommand("policy", "policies: check, explain, bundle, sign, verify, apply");
}

}  // namespace

void AddBundleCommands(CLI::App& app, Globals& g) {
  CLI::App* policy = PolicyCommand(app);

  auto ba = std::make_shared<BundleArgs>();
  CLI::App* b = policy->add_subcommand("bundle", "pack DIR/{policies,rules,reference} into an unsigned bundle");
  b->add_option("--version", ba->version, "bundle version (a sequence number, >= 1)")->required();
  b->add_option("--expires", ba->expires, "expiry: YYYY-MM-DDTHH:MM:SSZ or +Nd/+Nh/+Nm")->required();
  b->add_option("--issued-at", ba->issued_at, "issue time (default: now)");
  b->add_option("--targets", ba->targets, "'all' or a comma list of node=ID and label.KEY=VALUE")->required();
  b->add_option("DIR", ba->dir, "directory with policies/, rules/, reference/")->required();
  b->add_option("-o,--out", ba->out, "bundle file to write")->required();
  b->callback([ba, &g] { g.exit_code = RunBundle(*ba); });

  auto sa = std::make_shared<SignArgs>();
  CLI::App* s = policy->add_subcommand("sign", "append a policy-key signature to a bundle (in place, atomically)");
  s->add_option("--key", sa->key, "secret key file (edgeward keygen)")->required();
  s->add_option("--passphrase-file", sa->passphrase_file, "passphrase for an encrypted key (first line)");
  s->add_option("FILE", sa->file, "bundle file")->required();
  s->callback([sa, &g] { g.exit_code = RunSign(*sa); });

  auto va = std::make_shared<VerifyArgs>();
  CLI::App* v = policy->add_subcommand("verify", "check a bundle against a root document (0 valid, 1 rejected, 2 bad input)");
  v->add_option("--root", va->root, "trusted root document (root.json)")->required();
  v->add_option("--node-id", va->node_id, "check targeting for this node");
  v->add_option("--label", va->labels, "node label KEY=VALUE (repeatable)");
  v->add_option("--state-dir", va->state_dir, "also check version and time against this node's record");
  v->add_flag("--no-validate", va->no_validate, "skip validating the policies inside");
  v->add_option("FILE", va->file, "bundle file")->required();
  v->callback([va, &g] { g.exit_code = RunVerify(*va); });

  auto aa = std::make_shared<ApplyArgs>();
  CLI::App* ap = policy->add_subcommand("apply", "verify a bundle and make it this node's active bundle");
  ap->add_option("--root", aa->root, "root document to trust (installed on first use; a newer one is a rotation)")->required();
  ap->add_option("--node-id", aa->node_id, "this node's id")->required();
  ap->add_option("--label", aa->labels, "this node's labels KEY=VALUE (repeatable)");
  AddStateDirOption(ap, g);
  AddTctiOption(ap, g);
  ap->add_flag("--no-tpm", aa->no_tpm, "no TPM: the anti-rollback record is on disk only");
  ap->add_option("FILE", aa->file, "bundle file")->required();
  ap->callback([aa, &g] { g.exit_code = RunApply(*aa, g); });

  CLI::App* sh = policy->add_subcommand("show", "active and last-known-good bundles, highest version, time floor");
  AddStateDirOption(sh, g);
  sh->callback([&g] { g.exit_code = RunShow(g); });

  CLI::App* root = app.add_subcommand("root", "root of trust: create, sign and rotate root documents");
  root->require_subcommand(1);
  auto ca = std::make_shared<RootCreateArgs>();
  CLI::App* c = root->add_subcommand("create", "write an unsigned root document");
  c->add_option("--version", ca->version, "root version (>= 1; rotations increase it)")->required();
  c->add_option("--expires", ca->expires, "expiry: YYYY-MM-DDTHH:MM:SSZ or +Nd")->required();
  c->add_option("--root-key", ca->root_keys, "root public key file (repeatable)")->required();
  c->add_option("--threshold", ca->threshold, "root signatures required")->required();
  c->add_option("--policy-key", ca->policy_keys, "policy public key file, optionally @EXPIRY (repeatable)")->required();
  c->add_option("--policy-threshold", ca->policy_threshold, "policy signatures required on a bundle")->required();
  c->add_option("-o,--out", ca->out, "root document to write (default: stdout)");
  c->callback([ca, &g] { g.exit_code = RunRootCreate(*ca); });

  auto ra = std::make_shared<RootSignArgs>();
  CLI::App* rs = root->add_subcommand("sign", "add a root-key signature to a root document (in place)");
  rs->add_option("--key", ra->key, "root secret key file")->required();
  rs->add_option("--passphrase-file", ra->passphrase_file, "passphrase for an encrypted key (first line)");
  rs->add_option("FILE", ra->file, "root document")->required();
  rs->callback([ra, &g] { g.exit_code = RunRootSign(*ra); });

  auto ua = std::make_shared<std::string>();
  CLI::App* ru = root->add_subcommand("update", "rotate this node's trusted root (threshold of current AND new root keys)");
  AddStateDirOption(ru, g);
  ru->add_option("FILE", *ua, "new root document")->required();
  ru->callback([ua, &g] { g.exit_code = RunRootUpdate(*ua, g); });
}

}  // namespace edgeward::cli
