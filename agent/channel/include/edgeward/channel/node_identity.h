// The node's TLS identity: a software EC P-256 key (kept off the TPM so TLS
// stays off the TPM's hot path), generated on first start and stored
// encrypted at rest under the spool data key (spool_key.h: TPM-sealed, or
// the degraded clear key file), plus the client certificate the verifier
// issued for it after a passing attestation.
//
// Files in `dir` (0700): tls-key.enc (0600: "EWTK" | u8 version 1 | 24-byte
// nonce | XChaCha20-Poly1305 of the PKCS#8 DER key, header as AD, under a
// subkey derived from the data key) and tls-cert.pem (0600).
//
// Renewal: RenewalSchedule turns a certificate's validity into a deadline
// on the monotonic (boot-time) clock, taken once when the certificate is
// stored; later wall-clock jumps don't move it. RenewalTimer waits for it
// with a timerfd on CLOCK_BOOTTIME (keeps counting across suspend).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "edgeward/base/bytes.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/secure_bytes.h"

namespace edgeward::channel {

class NodeIdentity {
 public:
  // Loads the key from dir/tls-key.enc, or generates and stores one. A file
  // that does not decrypt with `data_key` (32 bytes) → kDataLoss naming it.
  // Also loads dir/tls-cert.pem when present and its key matches (a
  // certificate for another key is ignored: renewal will replace it).
  static StatusOr<NodeIdentity> LoadOrCreate(const std::string& dir, ByteView data_key);
  NodeIdentity(NodeIdentity&&) noexcept;
  NodeIdentity& operator=(NodeIdentity&&) noexcept;
  ~NodeIdentity();

  // DER SubjectPublicKeyInfo: what the quote binds (cloud/api.h).
  const Bytes& spki_der() const { return spki_der_; }
  // PKCS#10 CSR (PEM), subject CN = node_id, signed with the key (SHA-256).
  StatusOr<std::string> CreateCsr(const std::string& node_id) const;
  // The private key as PKCS#8 PEM, for HttpsClient::SetClientCertificate.
  StatusOr<crypto::SecureBytes> PrivateKeyPem() const;

  // Checks that `cert_pem` certifies this key (else kInvalidArgument) and
  // stores it (atomic, 0600).
  Status StoreCertificate(const std::string& cert_pem);
  const std::optional<std::string>& certificate_pem() const { return cert_pem_; }
  // Validity of the stored certificate (seconds since the epoch).
  int64_t cert_not_before() const { return not_before_; }
  int64_t cert_not_after() const { return not_after_; }

  struct Key;

 private:
  NodeIdentity() = default;
  std::string dir_;
  std::unique_ptr<Key> key_;
  Bytes spki_der_;
  std::optional<std::string> cert_pem_;
  int64_t not_before_ = 0;
  int64_t not_after_ = 0;
};

// CLOCK_BOOTTIME now, as a duration since boot.
std::chrono::nanoseconds BootTimeNow();

// When to renew: at `fraction` (default 2/3) of the certificate's lifetime.
// Computed once from one (wall, boot-time) reading pair; afterwards only the
// boot-time deadline is used.
class RenewalSchedule {
 public:
  static RenewalSchedule Compute(int64_t not_before, int64_t not_after, std::chrono::system_clock::time_point wall_now,
                                 std::chrono::nanoseconds boot_now, double fraction = 2.0 / 3.0);
  std::chrono::nanoseconds deadline() const { return deadline_; }  // boot-time clock
  // Time left at boot-time `boot_now` (0 when due).
  std::chrono::nanoseconds RemainingAt(std::chrono::nanoseconds boot_now) const;

 private:
  std::chrono::nanoseconds deadline_{0};
};

// A timerfd on CLOCK_BOOTTIME armed at an absolute deadline; poll fd() for
// readability, or Wait(). Move-only.
class RenewalTimer {
 public:
  static StatusOr<RenewalTimer> Arm(const RenewalSchedule& schedule);
  int fd() const { return fd_.get(); }
  // Blocks up to `timeout`; true when the deadline has passed.
  StatusOr<bool> Wait(std::chrono::milliseconds timeout);

 private:
  explicit RenewalTimer(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace edgeward::channel
