// What the agent checks in a bundle beyond its signature, and where its
// bundles and rules come from when they don't come from the verifier
// (docs/agent.md "Bundles", docs/bundles.md):
//
//   * MakeBundleContentValidator(): the content check every bundle passes
//     before it is accepted — fetched from the verifier (the daemon sets it
//     as CloudAgentOptions::make_content_validator), a signed
//     bundles.localFile, and `edgeward policy verify|apply`. A bundle whose
//     policies, workloads or rules don't check is rejected as a whole
//     (bundle::Reason::kInvalidContent) and the running bundle stays.
//   * VerifyLocalBundleFile(): bundles.localFile as a signed bundle file,
//     verified like a fetched one (root of trust, expiry, targeting,
//     anti-rollback record, content).
//   * FindDefaultRulesDir(): the shipped rules (rules/default/*.yaml,
//     installed to <prefix>/share/edgeward/rules) that the agent loads when
//     its bundle carries no rules/ files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "edgeward/base/status.h"
#include "edgeward/bundle/bundle.h"
#include "edgeward/bundle/verify.h"

namespace edgeward::daemon {

// A validator for ONE bundle verification (it keeps state across the
// bundle's files; make a new one per bundle). Files arrive in manifest
// (path) order, so policies/ comes before rules/ and workloads/:
//   * policies/: policy::ParsePolicy; two policies with one metadata.name
//     are an error;
//   * workloads/: ParseWorkloadSpec, and spec.policy must name a policy of
//     this bundle (the error, from LoadWorkloads, names file, line and the
//     closest policy name); two workloads with one name are an error;
//   * rules/: cumulatively — each file compiled together with the rules
//     files before it, since a list or macro must be defined before a
//     later file uses it; the message lists every diagnostic
//     (FILE:LINE:COL: ...);
//   * reference/: attest::ParseReferenceValues.
// Errors are kInvalidArgument naming the file (and line where the parser
// knows it).
bundle::ContentValidator MakeBundleContentValidator();

struct LocalBundleOptions {
  std::string file;       // the signed bundle file (bundles.localFile)
  std::string state_dir;  // <state>/root.json, <state>/state.json, the local record
  // bundles.rootFile. When it exists: with install_root it is installed as
  // the node's trusted root (bundle::InstallRoot: the first root, or a
  // valid rotation of the installed one); without, the installed root is
  // used and root_file only when none is installed yet. When it doesn't
  // exist: the installed root.
  std::string root_file;
  // Only when nothing else (the cloud worker) writes the state directory.
  bool install_root = false;
  bundle::NodeIdentity node;  // targeting
};

// Reads, decodes and verifies bundles.localFile against the trusted root,
// the node's anti-rollback record and MakeBundleContentValidator(), and on
// success returns the bundle and records its version and digest in
// <state>/local-bundle.json (0600).
//
// Anti-rollback: the version must be above both the node's record
// (<state>/state.json, read only: the verifier path and `policy apply`
// advance it) and the last local file accepted (local-bundle.json) — or be
// exactly that last accepted local bundle again (same version and digest),
// so a restart or SIGHUP with an unchanged file is not a rollback.
//
// Errors name the file: unreadable → its errno status; not a bundle or
// damaged → kInvalidArgument; no trusted root → kFailedPrecondition;
// rejected (signature, threshold, expired, not for this node, rollback,
// content) → kPermissionDenied with "rejected (<reason name>): <message>".
StatusOr<bundle::Bundle> VerifyLocalBundleFile(const LocalBundleOptions& options, int64_t wall_now);

// The shipped default rules directory, the first that exists of:
//   $EDGEWARD_RULES_DIR (when set and non-empty: only it — tests and
//   unusual layouts), <dir of exe_path>/../share/edgeward/rules (the
//   installed layout: /usr/bin/edgeward → /usr/share/edgeward/rules).
// nullopt when none exists.
std::optional<std::string> FindDefaultRulesDir(const std::string& exe_path);

// The *.yaml / *.yml files of `dir`, sorted by name (the order they are
// loaded in); errno status naming the directory.
StatusOr<std::vector<std::string>> ListRuleFiles(const std::string& dir);

}  // namespace edgeward::daemon
