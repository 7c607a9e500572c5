// The verifier's node CA: issues short-lived TLS client certificates to
// nodes that passed attestation, and (for `edgeward-verifier init`) the CA
// itself, the server certificate and admin client certificates. EC P-256
// keys, SHA-256 signatures, random 128-bit serials.
//
// Certificate subjects: nodes get CN=<node id>; admins get CN=admin:<name>.
// Node ids can't contain ':', so no node can hold an admin name.
// NodeCa is move-only; Issue* are thread-safe (const, OpenSSL objects are
// only read).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"

namespace edgeward::cloud {

inline constexpr std::string_view kAdminCnPrefix = "admin:";

struct KeyAndCert {
  std::string key_pem;   // PKCS#8; secret: write 0600
  std::string cert_pem;
};

struct IssuedCert {
  std::string cert_pem;
  std::string serial_hex;
  int64_t not_after = 0;
};

// A fresh P-256 key, PKCS#8 PEM.
StatusOr<std::string> GenerateKeyPem();
// A self-signed CA certificate for a fresh key.
StatusOr<KeyAndCert> CreateCa(std::string_view common_name, std::chrono::seconds lifetime);
// A CSR (PEM) for `key_pem` with subject CN=common_name (node side and tests).
StatusOr<std::string> CreateCsr(std::string_view key_pem, std::string_view common_name);
// SubjectPublicKeyInfo DER of a private or public key PEM.
StatusOr<Bytes> SpkiDerOfKeyPem(std::string_view key_pem);

class NodeCa {
 public:
  static StatusOr<NodeCa> FromPem(std::string_view cert_pem, std::string_view key_pem);
  NodeCa(NodeCa&&) noexcept;
  NodeCa& operator=(NodeCa&&) noexcept;
  ~NodeCa();

  const std::string& cert_pem() const { return cert_pem_; }

  // The node's client certificate. The CSR's self-signature must verify and
  // its public key (SPKI DER) must equal `expected_spki_der` — the key the
  // quote bound — else kPermissionDenied naming which check failed. The
  // CSR's subject is ignored: the certificate says CN=<node_id>, EKU
  // clientAuth, valid from now-60 s for `lifetime`.
  StatusOr<IssuedCert> IssueNodeCert(std::string_view csr_pem, ByteView expected_spki_der, std::string_view node_id,
                                     std::chrono::seconds lifetime) const;
  // For `init`: a server certificate (EKU serverAuth, SAN DNS/IP = each of
  // `hostnames`) or an admin client certificate (CN=admin:<name>).
  StatusOr<KeyAndCert> IssueServerCert(const std::vector<std::string>& hostnames, std::chrono::seconds lifetime) const;
  StatusOr<KeyAndCert> IssueAdminCert(std::string_view name, std::chrono::seconds lifetime) const;
  // A client certificate for any CN with a fresh key (tests: a node cert
  // with no attestation behind it must still be refused where it matters).
  StatusOr<KeyAndCert> IssueClientCertForTest(std::string_view common_name, std::chrono::seconds lifetime) const;

 private:
  struct Impl;
  explicit NodeCa(std::unique_ptr<Impl> impl, std::string cert_pem);
  std::unique_ptr<Impl> impl_;
  std::string cert_pem_;
};

}  // namespace edgeward::cloud
