// The attestation key (AK): a restricted signing key created under the EK,
// kept as a key blob in the agent's state directory and reloaded across
// restarts. No persistent handle is used.
//
// AK blob file format (all integers big-endian):
//   4 bytes  magic "EWAK"
//   4 bytes  format version, 1
//   TPM2B_NAME     name of the parent EK (size-prefixed)
//   TPM2B_PUBLIC   the AK public area (size-prefixed)
//   TPM2B_PRIVATE  the AK private blob, wrapped by the EK (size-prefixed)
//   nothing after.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/hash.h"
#include "edgeward/tpm/ek.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::tpm {

enum class AkAlgorithm {
  kEccP256,  // ECDSA with SHA-256 (TPM_ALG_ECDSA)
  kRsa2048,  // RSASSA-PKCS1-v1_5 with SHA-256 (TPM_ALG_RSASSA)
};
std::string_view AkAlgorithmName(AkAlgorithm alg);  // "ecc-p256-ecdsa-sha256", "rsa2048-rsassa-sha256"

struct AkOptions {
  // nullopt: ECC P-256 when the TPM supports it, else RSA-2048.
  std::optional<AkAlgorithm> algorithm;
};

// An AK as stored: its public and wrapped private parts and what follows from
// them. A plain value (copyable); holds no TPM resources. Attributes:
// fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth, restricted,
// sign; nameAlg SHA-256; empty authValue.
class Ak {
 public:
  // Parses an AK blob (format above). Anything malformed → kDataLoss whose
  // message starts with `source` (the file name).
  static StatusOr<Ak> Parse(ByteView blob, std::string_view source);
  // The blob in the format above.
  Bytes Serialize() const;

  AkAlgorithm algorithm() const { return algorithm_; }
  crypto::HashAlg signing_hash() const { return crypto::HashAlg::kSha256; }
  const Bytes& public_area() const { return public_area_; }    // marshalled TPM2B_PUBLIC
  const Bytes& private_area() const { return private_area_; }  // marshalled TPM2B_PRIVATE
  const Bytes& name() const { return name_; }                  // nameAlg || SHA-256(TPMT_PUBLIC)
  const Bytes& parent_name() const { return parent_name_; }    // the EK's name
  const std::string& public_pem() const { return public_pem_; }

 private:
  Ak() = default;
  AkAlgorithm algorithm_ = AkAlgorithm::kEccP256;
  Bytes public_area_;
  Bytes private_area_;
  Bytes name_;
  Bytes parent_name_;
  std::string public_pem_;
};

// Creates a new AK under `ek` (TPM2_Create; the TPM's name for it is checked
// by loading it once).
StatusOr<Ak> CreateAk(const Ek& ek, const AkOptions& options = {});

// The AK blob's path in `state_dir`: state_dir + "/ak.blob".
std::string AkBlobPath(const std::string& state_dir);

// Loads the AK from AkBlobPath(state_dir), or creates one and saves it there
// (directory created 0700, file 0600, written atomically) when the file does
// not exist. An existing blob is never replaced: a corrupt one → kDataLoss
// naming the file; one made under a different EK → kFailedPrecondition.
// `options` only matter when creating. Concurrent callers on one state
// directory are serialized with a lock file (state_dir/ak.lock).
StatusOr<Ak> LoadOrCreateAk(const Ek& ek, const std::string& state_dir, const AkOptions& options = {});

// An AK loaded into the TPM (a transient object, flushed in the destructor).
// Move-only; not thread-safe (see tpm.h). Load it once and quote many times,
// or load per quote: either way nothing stays behind in the TPM.
class LoadedAk {
 public:
  // TPM2_Load under `ek` (authorized as EkUserAuth describes). Checks that
  // the name the TPM reports equals ak.name() → kDataLoss if not. An AK not
  // made under this EK → kFailedPrecondition.
  static StatusOr<LoadedAk> Load(const Ek& ek, const Ak& ak);

  LoadedAk(LoadedAk&&) noexcept;
  LoadedAk& operator=(LoadedAk&&) noexcept;
  LoadedAk(const LoadedAk&) = delete;
  LoadedAk& operator=(const LoadedAk&) = delete;
  ~LoadedAk();

  const Ak& ak() const;

  struct Impl;  // defined in src/internal/ak_impl.h
  const Impl& impl() const { return *impl_; }

 private:
  explicit LoadedAk(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgeward::tpm
