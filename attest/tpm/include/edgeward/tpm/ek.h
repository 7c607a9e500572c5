// The endorsement key (EK) and its certificate, per the TCG EK Credential
// Profile for TPM 2.0: default templates L-1 (RSA-2048), L-2 (ECC P-256)
// in the low range, H-1 (RSA-2048), H-2 (ECC P-256), H-3 (ECC P-384) in the
// high range, and the certificate NV indices that go with them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::tpm {

enum class EkKind {
  kRsa2048Low,   // template L-1, certificate NV 0x01c00002
  kEccP256Low,   // template L-2, certificate NV 0x01c0000a
  kRsa2048High,  // template H-1, certificate NV 0x01c00012
  kEccP256High,  // template H-2, certificate NV 0x01c00014
  kEccP384High,  // template H-3, certificate NV 0x01c00016
};

// "RSA-2048 (L-1)", "ECC P-384 (H-3)", ...
std::string_view EkKindName(EkKind kind);
uint32_t EkCertificateNvIndex(EkKind kind);
bool EkKindIsRsa(EkKind kind);

// An EK certificate found in NV, as DER (NV padding after the certificate
// is removed).
struct EkCertificate {
  EkKind kind;
  uint32_t nv_index = 0;
  Bytes der;
};

// Reads every EK certificate present at the indices above, in EkKind order.
// None present → an empty vector. A certificate that is not DER X.509 →
// kDataLoss naming the index. Indices of kinds edgeward cannot use (P-521,
// SM2, RSA-3072/4096) are not read.
StatusOr<std::vector<EkCertificate>> ReadEkCertificates(Tpm& tpm);

enum class EkPreference {
  kAuto,  // RSA-2048 if its certificate exists, else ECC (P-256, then P-384)
  kRsa,   // RSA-2048 only (low range, then high)
  kEcc,   // ECC only: P-256 (low, high), then P-384
};

struct EkOptions {
  EkPreference preference = EkPreference::kAuto;
  // Use a persistent EK (0x81010000-0x810100ff) whose public area matches
  // the chosen template, instead of recreating it with TPM2_CreatePrimary.
  bool use_persistent = true;
};

// The EK, ready to be a parent (of the AK) and to activate credentials.
// Move-only. Holds one TPM object: either an ESAPI reference to the
// persistent EK or a transient EK created from the template, flushed in the
// destructor. Not thread-safe (see tpm.h).
class Ek {
 public:
  // Chooses the EK kind: the first kind in preference order whose
  // certificate is in NV; when no such certificate exists, the first kind of
  // the preference the TPM supports (without a certificate). Then loads it
  // (persistent or created) and, when there is a certificate, checks that
  // the certificate's public key equals the EK's → kFailedPrecondition if
  // not. A TPM supporting none of the kinds → kNotFound.
  static StatusOr<Ek> Open(Tpm& tpm, const EkOptions& options = {});

  Ek(Ek&&) noexcept;
  Ek& operator=(Ek&&) noexcept;
  Ek(const Ek&) = delete;
  Ek& operator=(const Ek&) = delete;
  ~Ek();

  EkKind kind() const;
  // Marshalled TPM2B_PUBLIC (the form tpm2_readpublic -o writes, and
  // tpm2_makecredential -u reads).
  const Bytes& public_area() const;
  // SubjectPublicKeyInfo PEM.
  const std::string& public_pem() const;
  // nameAlg || H(TPMT_PUBLIC).
  const Bytes& name() const;
  // The certificate (DER) when the TPM has one for this EK.
  const std::optional<EkCertificate>& certificate() const;
  // The persistent handle when the EK was not created by us.
  std::optional<uint32_t> persistent_handle() const;

  struct Impl;  // defined in src/internal/ek_impl.h
  const Impl& impl() const { return *impl_; }

 private:
  explicit Ek(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgeward::tpm
