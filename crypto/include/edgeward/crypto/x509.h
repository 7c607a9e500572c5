// X.509 certificates (an owned X509) and chain verification, with the
// allowances TPM endorsement-key certificates need (see ChainOptions).
//
// Certificate is move-only and immutable; const methods are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/public_key.h"

struct x509_st;  // X509, kept out of this header

namespace edgeward::crypto {

// Inputs larger than this are rejected before parsing (kInvalidArgument).
inline constexpr size_t kMaxCertificateBytes = 64 * 1024;
inline constexpr size_t kMaxCertificateBundleBytes = 4 * 1024 * 1024;

class Certificate {
 public:
  // One certificate. DER must be exactly one Certificate with no trailing
  // bytes; PEM must hold one "CERTIFICATE" block (text around it is
  // ignored). Errors → kInvalidArgument: "X.509 certificate (DER): ...".
  static StatusOr<Certificate> FromDer(ByteView der);
  static StatusOr<Certificate> FromPem(std::string_view pem);
  // PEM if the input starts with "-----BEGIN" (after whitespace), else DER.
  static StatusOr<Certificate> Parse(ByteView data);
  // Takes ownership of `cert` (non-null).
  static Certificate FromX509(x509_st* cert);

  Certificate(Certificate&&) noexcept;
  Certificate& operator=(Certificate&&) noexcept;
  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;
  ~Certificate();

  // RFC 2253 form ("CN=swtpm-localca"); "" for an empty name (TPM EK
  // certificates often have an empty subject).
  std::string Subject() const;
  std::string Issuer() const;
  // Serial number as lower-case hex without leading zeros ("0b" → "b");
  // a negative serial (seen in the wild) gets a leading "-".
  std::string SerialHex() const;
  // ISO 8601 UTC, e.g. "2026-11-23T20:37:41Z".
  std::string NotBefore() const;
  std::string NotAfter() const;

  StatusOr<PublicKey> GetPublicKey() const;
  // True if the certificate has an extendedKeyUsage extension containing
  // the dotted OID `oid` (e.g. "2.23.133.8.1", tcg-kp-EKCertificate).
  bool HasExtendedKeyUsage(std::string_view oid) const;

  StatusOr<Bytes> ToDer() const;
  StatusOr<std::string> ToPem() const;

  // Borrowed; valid as long as this Certificate.
  x509_st* get() const { return cert_; }

 private:
  explicit Certificate(x509_st* cert) : cert_(cert) {}
  x509_st* cert_ = nullptr;  // owned
};

// All CERTIFICATE blocks in a PEM bundle, in order. No block, or a block that
// does not parse → kInvalidArgument naming the block's index.
StatusOr<std::vector<Certificate>> ParseCertificateBundle(std::string_view pem);
// Reads `path` (at most kMaxCertificateBundleBytes) and parses it; errors
// name the path.
StatusOr<std::vector<Certificate>> LoadCertificateBundle(const std::string& path);

struct ChainOptions {
  // The leaf is a TPM endorsement-key certificate (TCG EK Credential
  // Profile). Then, for the leaf only:
  //  - critical extensions OpenSSL doesn't process are accepted when they
  //    are ones the profile defines (subjectAltName with a directoryName,
  //    subjectDirectoryAttributes 2.5.29.9, with TPM security assertions);
  //    any other unhandled critical extension still fails;
  //  - if the leaf has extendedKeyUsage, it must contain 2.23.133.8.1.
  // Signature, validity period and chain checks are never relaxed.
  bool tpm_endorsement_key = false;
};

// Builds a chain from `leaf` through `intermediates` (untrusted) to one of
// `trusted` (trust anchors) and checks it at `at`. Failure →
// kPermissionDenied "certificate chain: <OpenSSL reason> at depth N
// (subject "...", issuer "...")"; empty `trusted` → kInvalidArgument.
Status VerifyCertificateChain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                              const std::vector<Certificate>& trusted,
                              std::chrono::system_clock::time_point at, const ChainOptions& options = {});

}  // namespace edgeward::crypto
