// `edgeward-verifier init`: a ready-to-run state directory.
#include <sys/stat.h>

#include "edgeward/base/errno_status.h"
#include "edgeward/base/file.h"
#include "edgeward/cloud/verifier.h"
#include "edgeward/crypto/secure_bytes.h"

namespace edgeward::cloud {

namespace {
constexpr std::chrono::seconds kCaLifetime{10 * 365 * 86400};
constexpr std::chrono::seconds kServerLifetime{825 * 86400};
constexpr std::chrono::seconds kAdminLifetime{365 * 86400};

Status WriteSecret(const std::string& path, std::string& text) {
  Status s = WriteFileAtomic(path, AsBytes(text), 0600);
  crypto::Cleanse(text.data(), text.size());
  return s;
}
}  // namespace

Status InitVerifierDir(const std::string& dir, const std::vector<std::string>& hostnames) {
  EW_RETURN_IF_ERROR(MakeDirs(dir, 0700, /*enforce_mode=*/true));
  const std::string config_path = dir + "/config.yaml";
  struct stat st {};
  if (stat(config_path.c_str(), &st) == 0) return AlreadyExists(config_path + " exists; not overwriting a verifier");
  if (errno != ENOENT) return EW_ERRNO("stat", config_path);

  EW_ASSIGN_OR_RETURN(KeyAndCert ca_pair, CreateCa("edgeward node CA", kCaLifetime));
  EW_ASSIGN_OR_RETURN(NodeCa ca, NodeCa::FromPem(ca_pair.cert_pem, ca_pair.key_pem));
  EW_RETURN_IF_ERROR(WriteSecret(dir + "/node-ca.key", ca_pair.key_pem));
  EW_RETURN_IF_ERROR(WriteFileAtomic(dir + "/node-ca.crt", AsBytes(ca_pair.cert_pem), 0644));
  EW_ASSIGN_OR_RETURN(KeyAndCert server, ca.IssueServerCert(hostnames, kServerLifetime));
  EW_RETURN_IF_ERROR(WriteSecret(dir + "/server.key", server.key_pem));
  EW_RETURN_IF_ERROR(WriteFileAtomic(dir + "/server.crt", AsBytes(server.cert_pem), 0644));
  EW_ASSIGN_OR_RETURN(KeyAndCert admin, ca.IssueAdminCert("admin", kAdminLifetime));
  EW_RETURN_IF_ERROR(WriteSecret(dir + "/admin.key", admin.key_pem));
  EW_RETURN_IF_ERROR(WriteFileAtomic(dir + "/admin.crt", AsBytes(admin.cert_pem), 0644));
  EW_ASSIGN_OR_RETURN(X25519KeyPair seal, X25519KeyPair::Generate());
  EW_RETURN_IF_ERROR(WriteFileAtomic(dir + "/seal.key", seal.secret(), 0600));
  EW_RETURN_IF_ERROR(WriteFileAtomic(dir + "/seal.pub", seal.public_key(), 0644));

  std::string hosts;
  for (const auto& h : hostnames) hosts += (hosts.empty() ? "" : ", ") + h;
  const std::string config = R"(# edgeward-verifier configuration (docs/verifier.md).
# Relative paths are relative to state_dir (default: this file's directory).

# Where to listen. Nodes reach the verifier as: )" + hosts + R"(
listen: 0.0.0.0
port: 8443

# TLS server certificate, issued by the node CA for the names above.
tls_cert: server.crt
tls_key: server.key          # 0600

# The CA that issues node client certificates (after a passing attestation)
# and admin certificates (CN=admin:<name>; admin.crt/admin.key were made now).
node_ca_cert: node-ca.crt
node_ca_key: node-ca.key     # 0600; keep offline copies

# TPM-manufacturer CA certificates (PEM bundle) that EK certificates must
# chain to. REQUIRED: set it to your vendors' CAs (swtpm: its local CA).
ek_ca_bundle: /etc/edgeward/ek-ca.pem

# State.
database: verifier.db        # SQLite, WAL
sync: full                   # full: every commit fsynced (see docs); normal: faster, may lose the last commits on power loss
seal_key: seal.key           # X25519: nodes seal events to seal.pub

# Signed policy bundles: the root.json that published bundles must verify
# against. Leave out to disable publishing.
# bundle_root: /etc/edgeward/root.json

# Reference values per node group, imported at start: <group>.yaml
# (nodes choose their group with the label "group"; default "default").
# reference_dir: reference

cert_lifetime_seconds: 86400       # node client certificates
nonce_lifetime_seconds: 60         # challenges
registration_lifetime_seconds: 300 # MakeCredential challenges
max_body_bytes: 33554432
read_timeout_seconds: 10
write_timeout_seconds: 10
keep_alive_timeout_seconds: 5
keep_alive_max_requests: 1000
threads: 0                         # 0: one per core, at least 4
)";
  return WriteFileAtomic(config_path, AsBytes(config), 0600);
}

}  // namespace edgeward::cloud
