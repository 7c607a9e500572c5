#include "edgeward/tpm/seal.h"

#include <openssl/crypto.h>
#include <tss2/tss2_esys.h>

#include <cstring>
#include <memory>

#include "internal/context.h"
#include "internal/marshal.h"
#include "internal/object.h"
#include "internal/tss_status.h"

namespace edgeward::tpm {
namespace {

constexpr uint8_t kMagic[4] = {'E', 'W', 'S', 'L'};
constexpr uint32_t kVersion = 1;

// TCG "TPM 2.0 Keys for Device Identity and Attestation" / provisioning
// guidance SRK template, ECC P-256: recreating it always yields the same
// key from the owner seed, so nothing needs to be persisted.
TPMT_PUBLIC SrkTemplate() {
  TPMT_PUBLIC t{};
  t.type = TPM2_ALG_ECC;
  t.nameAlg = TPM2_ALG_SHA256;
  t.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                       TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED |
                       TPMA_OBJECT_DECRYPT;
  TPMS_ECC_PARMS& p = t.parameters.eccDetail;
  p.symmetric.algorithm = TPM2_ALG_AES;
  p.symmetric.keyBits.aes = 128;
  p.symmetric.mode.aes = TPM2_ALG_CFB;
  p.scheme.scheme = TPM2_ALG_NULL;
  p.curveID = TPM2_ECC_NIST_P256;
  p.kdf.scheme = TPM2_ALG_NULL;
  t.unique.ecc.x.size = 32;
  t.unique.ecc.y.size = 32;
  return t;
}

StatusOr<internal::TpmObject> CreateSrk(Tpm& tpm) {
  internal::Context& ctx = *tpm.context();
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_PUBLIC in_public{};
  in_public.publicArea = SrkTemplate();
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcr{};
  ESYS_TR handle = ESYS_TR_NONE;
  internal::EsysPtr<TPM2B_PUBLIC> out_public;
  internal::EsysPtr<TPM2B_CREATION_DATA> creation_data;
  internal::EsysPtr<TPM2B_DIGEST> creation_hash;
  internal::EsysPtr<TPMT_TK_CREATION> creation_ticket;
  Status s = EW_TSS(Esys_CreatePrimary(ctx.get(), ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                       &sensitive, &in_public, &outside, &creation_pcr, &handle,
                                       internal::Out(out_public), internal::Out(creation_data),
                                       internal::Out(creation_hash), internal::Out(creation_ticket)));
  internal::TpmObject srk(tpm.context(), handle, internal::TpmObject::Kind::kTransient);
  if (!s.ok()) return s.WithContext("creating the storage primary key");
  return srk;
}

void PutU32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

}  // namespace

StatusOr<Bytes> SealSecret(Tpm& tpm, ByteView secret) {
  if (secret.empty() || secret.size() > kMaxSealedSecretBytes) {
    return InvalidArgument("SealSecret: the secret must be 1.." + std::to_string(kMaxSealedSecretBytes) +
                           " bytes, not " + std::to_string(secret.size()));
  }
  EW_ASSIGN_OR_RETURN(internal::TpmObject srk, CreateSrk(tpm));
  internal::Context& ctx = *tpm.context();
  TPM2B_SENSITIVE_CREATE sensitive{};
  sensitive.sensitive.data.size = static_cast<UINT16>(secret.size());
  std::memcpy(sensitive.sensitive.data.buffer, secret.data(), secret.size());
  TPM2B_PUBLIC in_public{};
  TPMT_PUBLIC& t = in_public.publicArea;
  t.type = TPM2_ALG_KEYEDHASH;
  t.nameAlg = TPM2_ALG_SHA256;
  t.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA;
  t.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcr{};
  internal::EsysPtr<TPM2B_PRIVATE> out_private;
  internal::EsysPtr<TPM2B_PUBLIC> out_public;
  internal::EsysPtr<TPM2B_CREATION_DATA> creation_data;
  internal::EsysPtr<TPM2B_DIGEST> creation_hash;
  internal::EsysPtr<TPMT_TK_CREATION> creation_ticket;
  Status s = EW_TSS(Esys_Create(ctx.get(), srk.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
                                &in_public, &outside, &creation_pcr, internal::Out(out_private),
                                internal::Out(out_public), internal::Out(creation_data),
                                internal::Out(creation_hash), internal::Out(creation_ticket)));
  OPENSSL_cleanse(&sensitive, sizeof sensitive);
  EW_RETURN_IF_ERROR(s);
  EW_ASSIGN_OR_RETURN(Bytes pub, EW_MU_MARSHAL(TPM2B_PUBLIC, *out_public));
  EW_ASSIGN_OR_RETURN(Bytes priv, EW_MU_MARSHAL(TPM2B_PRIVATE, *out_private));
  Bytes blob(kMagic, kMagic + 4);
  PutU32(blob, kVersion);
  blob.insert(blob.end(), pub.begin(), pub.end());
  blob.insert(blob.end(), priv.begin(), priv.end());
  return blob;
}

StatusOr<crypto::SecureBytes> UnsealSecret(Tpm& tpm, ByteView blob) {
  if (blob.size() < 8 || std::memcmp(blob.data(), kMagic, 4) != 0) {
    return DataLoss("sealed blob: bad magic");
  }
  uint32_t version = (uint32_t{blob[4]} << 24) | (uint32_t{blob[5]} << 16) | (uint32_t{blob[6]} << 8) | blob[7];
  if (version != kVersion) return DataLoss("sealed blob: unknown version " + std::to_string(version));
  TPM2B_PUBLIC pub{};
  size_t off = 8;
  Status s = EW_TSS(Tss2_MU_TPM2B_PUBLIC_Unmarshal(blob.data(), blob.size(), &off, &pub));
  if (!s.ok()) return DataLoss("sealed blob: TPM2B_PUBLIC is malformed: " + s.message());
  TPM2B_PRIVATE priv{};
  s = EW_TSS(Tss2_MU_TPM2B_PRIVATE_Unmarshal(blob.data(), blob.size(), &off, &priv));
  if (!s.ok()) return DataLoss("sealed blob: TPM2B_PRIVATE is malformed: " + s.message());
  if (off != blob.size()) return DataLoss("sealed blob: trailing bytes after TPM2B_PRIVATE");

  EW_ASSIGN_OR_RETURN(internal::TpmObject srk, CreateSrk(tpm));
  internal::Context& ctx = *tpm.context();
  ESYS_TR handle = ESYS_TR_NONE;
  auto r = EW_TSS_CALL(
      Esys_Load(ctx.get(), srk.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &handle));
  internal::TpmObject object(tpm.context(), handle, internal::TpmObject::Kind::kTransient);
  if (!r.status.ok()) {
    TSS2_RC base = internal::TpmRcBase(r.rc);
    if (base == TPM2_RC_INTEGRITY || base == TPM2_RC_VALUE || base == TPM2_RC_SIZE || base == TPM2_RC_KEY ||
        base == TPM2_RC_BINDING) {
      return FailedPrecondition("sealed blob does not belong to this TPM: " + r.status.message());
    }
    return r.status;
  }
  srk.Reset();  // no longer needed: free the slot before unsealing
  TPM2B_SENSITIVE_DATA* raw = nullptr;
  s = EW_TSS(Esys_Unseal(ctx.get(), object.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &raw));
  if (!s.ok()) return s;
  crypto::SecureBytes out(raw->buffer, raw->buffer + raw->size);
  OPENSSL_cleanse(raw, sizeof *raw);
  Esys_Free(raw);
  return out;
}

}  // namespace edgeward::tpm
