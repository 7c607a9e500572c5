// Signed bundles for the bundle_content tests: a root of trust with one
// root key and one policy key (real Ed25519), and bundles built, signed and
// encoded with the bundle library, as `edgeward policy bundle|sign` does.
#pragma once

#include <ctime>
#include <map>
#include <optional>
#include <string>

#include "edgeward/base/file.h"
#include "edgeward/bundle/bundle.h"
#include "edgeward/bundle/root.h"
#include "edgeward/crypto/ed25519.h"

namespace edgeward::testing::bundles {

inline int64_t WallNow() { return static_cast<int64_t>(::time(nullptr)); }

inline constexpr char kGoodPolicy[] = R"(apiVersion: edgeward/v1
kind: WorkloadPolicy
metadata: {name: sensor-reader}
spec:
  mode: enforce
  network: none
  filesystem:
    readOnly: [/usr]
  seccomp:
    profile: strict
)";

// spec.policy is on line 6, its value at column 11.
inline std::string WorkloadYaml(const std::string& name, const std::string& policy) {
  return "apiVersion: edgeward/v1\nkind: Workload\nmetadata: {name: " + name +
         "}\nspec:\n  command: [/bin/sleep, \"1000\"]\n  policy: " + policy + "\n  restart: {policy: always}\n";
}

class Signer {
 public:
  Signer() : root_key_(crypto::Ed25519SigningKey::Generate().value()), policy_key_(crypto::Ed25519SigningKey::Generate().value()) {
    bundle::RootContent rc;
    rc.version = 1;
    rc.expires = WallNow() + 86400;
    rc.root_threshold = 1;
    rc.root_keys = {root_key_.KeyId()};
    rc.policy_threshold = 1;
    rc.policy_keys = {{policy_key_.KeyId(), WallNow() + 86400}};
    rc.keys = {{root_key_.KeyId(), root_key_.public_key()}, {policy_key_.KeyId(), policy_key_.public_key()}};
    auto doc = bundle::MakeRootDocument(rc);
    root_.emplace(std::move(doc).value());
    (void)bundle::SignRootDocument(*root_, root_key_);
  }

  const bundle::RootDocument& root() const { return *root_; }
  Status WriteRoot(const std::string& path) const {
    return WriteFileAtomic(path, AsBytes(bundle::SerializeRootDocument(*root_)), 0600);
  }

  std::string Unsigned(uint64_t version, const std::map<std::string, std::string>& files,
                       const bundle::Targets* targets = nullptr) const {
    return Encode(Make(version, files, targets));
  }
  std::string Signed(uint64_t version, const std::map<std::string, std::string>& files,
                     const bundle::Targets* targets = nullptr) const {
    bundle::Bundle b = Make(version, files, targets);
    (void)bundle::SignBundle(b, policy_key_);
    return Encode(b);
  }

 private:
  static bundle::Bundle Make(uint64_t version, const std::map<std::string, std::string>& files,
                             const bundle::Targets* targets) {
    bundle::Targets all;
    all.all = true;
    return bundle::MakeBundle(version, WallNow() - 10, WallNow() + 3600, targets ? *targets : all, files).value();
  }
  static std::string Encode(const bundle::Bundle& b) {
    Bytes bytes = bundle::EncodeBundle(b);
    return std::string(bytes.begin(), bytes.end());
  }

  crypto::Ed25519SigningKey root_key_;
  crypto::Ed25519SigningKey policy_key_;
  std::optional<bundle::RootDocument> root_;
};

}  // namespace edgeward::testing::bundles
