// The verifier service (docs/verifier.md): configuration, the
// transport-independent request handlers (Service), and the HTTPS server
// around them (VerifierServer).
//
// Service methods take a request body and the caller's verified TLS
// identity and return the HTTP reply; they never throw and never crash on
// malformed input (4xx with {"error": reason}). Service is thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/base/status.h"
#include "edgeward/cloud/api.h"
#include "edgeward/cloud/ca.h"
#include "edgeward/cloud/events.h"
#include "edgeward/cloud/storage.h"

namespace edgeward::cloud {

struct VerifierConfig {
  std::string listen_address = "127.0.0.1";
  int port = 8443;                      // 0: an ephemeral port (tests)
  std::string state_dir;                // where relative paths point; 0700
  std::string tls_cert_path;            // server certificate (PEM) + key
  std::string tls_key_path;
  std::string node_ca_cert_path;        // the CA that issues node/admin client certificates
  std::string node_ca_key_path;
  std::string ek_ca_bundle_path;        // TPM-manufacturer CAs (PEM bundle)
  std::string database_path;
  std::string x25519_key_path;          // 32-byte raw secret, 0600
  std::string bundle_root_path;         // root.json checking published bundles; empty: publishing off
  std::string reference_dir;            // <group>.yaml imported at start; empty: none
  bool sync_full = true;                // SQLite synchronous=FULL (see storage.h)
  std::chrono::seconds cert_lifetime{24 * 3600};
  std::chrono::seconds nonce_lifetime{60};
  std::chrono::seconds registration_lifetime{300};
  size_t max_body_bytes = kMaxBodyBytes;
  int threads = 0;                      // 0: hardware threads, at least 4
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  std::chrono::seconds keep_alive_timeout{5};
  size_t keep_alive_max_requests = 1000;
};

// YAML → config. Unknown keys, wrong types and bad values are
// kInvalidArgument "<source>:<line>:<col>: <field>: <problem>". Relative
// paths are resolved against state_dir (or the config file's directory).
StatusOr<VerifierConfig> ParseVerifierConfig(std::string_view yaml, std::string_view source,
                                             const std::string& base_dir);
StatusOr<VerifierConfig> LoadVerifierConfig(const std::string& path);

// `edgeward-verifier init`: creates DIR (0700) with a node CA, a server
// certificate for `hostnames`, an admin client certificate (CN=admin:admin),
// the X25519 sealing key, an empty database and a commented config.yaml.
// Keys are 0600. An existing config.yaml in DIR → kAlreadyExists.
Status InitVerifierDir(const std::string& dir, const std::vector<std::string>& hostnames);

struct HttpReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
};

// Who is calling, as TLS established it.
struct Caller {
  // CN of a client certificate that verified against the node CA; nullopt
  // when the client sent none.
  std::optional<std::string> cert_cn;
  bool is_admin() const;
  bool is_node(std::string_view node_id) const { return cert_cn && *cert_cn == node_id; }
};

class Service {
 public:
  // Opens the database, loads the node CA, EK CA bundle, X25519 key and
  // bundle root, and imports reference_dir. Errors name the file.
  static StatusOr<std::unique_ptr<Service>> Create(const VerifierConfig& config);
  ~Service();

  HttpReply VerifierInfo() const;
  HttpReply Register(std::string_view body);
  HttpReply Activate(std::string_view body);
  HttpReply IssueChallenge(std::string_view body, const Caller& caller);
  HttpReply SubmitEvidence(std::string_view body, const Caller& caller);
  HttpReply GetNode(std::string_view node_id, const Caller& caller);
  HttpReply ListVerdicts(std::string_view node_id, const Caller& caller);
  HttpReply IngestEvents(std::string_view body, const Caller& caller);
  HttpReply FetchBundle(const Caller& caller, std::string_view if_none_match);
  // Admin.
  HttpReply ListNodes(const Caller& caller);
  HttpReply PutReference(std::string_view group, std::string_view yaml, const Caller& caller);
  HttpReply PublishBundle(std::string_view bundle_bytes, const Caller& caller);
  HttpReply RevokeNode(std::string_view node_id, const Caller& caller);

  Storage& storage();
  const VerifierConfig& config() const;

  struct Impl;  // opaque; defined in the implementation

 private:
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The HTTPS front: TLS 1.3 only, client certificates requested and
// verified against the node CA but not required (registration and the
// first attestation come before a node has one); per-endpoint checks in
// Service decide. Bounded bodies, read/write timeouts, keep-alive limits.
class VerifierServer {
 public:
  // Binds and starts serving on background threads.
  static StatusOr<std::unique_ptr<VerifierServer>> Start(const VerifierConfig& config);
  ~VerifierServer();  // Stop()
  int port() const;
  void Stop();
  // Blocks until Stop() is called from another thread (or a signal handler
  // thread) — for the binary.
  void Wait();
  Service& service();

 private:
  struct Impl;
  explicit VerifierServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgeward::cloud
