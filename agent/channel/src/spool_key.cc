#include "edgeward/channel/spool_key.h"

#include <sodium.h>
#include <sys/stat.h>

#include "edgeward/base/errno_status.h"
#include "edgeward/base/file.h"
#include "edgeward/channel/spool_segment.h"
#include "edgeward/crypto/secure_bytes.h"
#include "edgeward/tpm/seal.h"

namespace edgeward::channel {
namespace {

StatusOr<bool> Exists(const std::string& path) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  return EW_ERRNO("lstat", path);
}

}  // namespace

StatusOr<SpoolKey> LoadOrCreateSpoolKey(const std::string& dir, tpm::Tpm* tpm) {
  EW_RETURN_IF_ERROR(crypto::EnsureSodium());
  EW_RETURN_IF_ERROR(MakeDirs(dir, 0700, /*enforce_mode=*/true));
  const std::string sealed_path = dir + "/key.sealed";
  const std::string clear_path = dir + "/key";
  EW_ASSIGN_OR_RETURN(bool have_sealed, Exists(sealed_path));
  EW_ASSIGN_OR_RETURN(bool have_clear, Exists(clear_path));
  SpoolKey out;
  if (tpm != nullptr) {
    if (have_clear) {
      return FailedPrecondition(clear_path + ": a spool key in the clear exists but a TPM is present; "
                                "remove the spool to re-key it under the TPM");
    }
    if (have_sealed) {
      EW_ASSIGN_OR_RETURN(std::string blob, ReadFileToString(sealed_path, 64 * 1024));
      auto secret = tpm::UnsealSecret(*tpm, AsBytes(blob));
      if (!secret.ok()) return secret.status().WithContext(sealed_path);
      if (secret->size() != kSpoolKeyBytes) return DataLoss(sealed_path + ": unsealed key is not 32 bytes");
      EW_ASSIGN_OR_RETURN(out.key, crypto::GuardedBytes::CopyOf(*secret));
    } else {
      EW_ASSIGN_OR_RETURN(out.key, crypto::GuardedBytes::Allocate(kSpoolKeyBytes));
      randombytes_buf(out.key.data(), out.key.size());
      EW_ASSIGN_OR_RETURN(Bytes blob, tpm::SealSecret(*tpm, out.key.view()));
      EW_RETURN_IF_ERROR(WriteFileAtomic(sealed_path, blob, 0600));
    }
    out.tpm_sealed = true;
    return out;
  }
  if (have_sealed) {
    return FailedPrecondition(sealed_path + ": the spool key is sealed to a TPM, but no TPM is available");
  }
  if (have_clear) {
    struct stat st{};
    if (::lstat(clear_path.c_str(), &st) != 0) return EW_ERRNO("lstat", clear_path);
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
      return PermissionDenied(clear_path + ": must be a regular file with mode 0600");
    }
    EW_ASSIGN_OR_RETURN(std::string raw, ReadFileToString(clear_path, 64));
    if (raw.size() != kSpoolKeyBytes) {
      crypto::Cleanse(raw.data(), raw.size());
      return DataLoss(clear_path + ": a spool key is 32 bytes, found " + std::to_string(raw.size()));
    }
    auto key = crypto::GuardedBytes::CopyOf(AsBytes(raw));
    crypto::Cleanse(raw.data(), raw.size());
    EW_ASSIGN_OR_RETURN(out.key, std::move(key));
    return out;
  }
  EW_ASSIGN_OR_RETURN(out.key, crypto::GuardedBytes::Allocate(kSpoolKeyBytes));
  randombytes_buf(out.key.data(), out.key.size());
  EW_RETURN_IF_ERROR(WriteFileAtomic(clear_path, out.key.view(), 0600));
  return out;
}

}  // namespace edgeward::channel
