#include "edgeward/tpm/ak.h"

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cstring>

#include "edgeward/base/errno_status.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/file.h"
#include "internal/ak_impl.h"
#include "internal/capability.h"
#include "internal/ek_impl.h"
#include "internal/marshal.h"
#include "internal/public_key.h"
#include "internal/tss_status.h"

namespace edgeward::tpm {
namespace {

constexpr uint8_t kMagic[4] = {'E', 'W', 'A', 'K'};
constexpr uint32_t kVersion = 1;
constexpr size_t kMaxBlobBytes = 64 * 1024;

constexpr TPMA_OBJECT kAkAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                      TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                      TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;

TPMT_PUBLIC AkTemplate(AkAlgorithm alg) {
  TPMT_PUBLIC t{};
  t.nameAlg = TPM2_ALG_SHA256;
  t.objectAttributes = kAkAttributes;
  if (alg == AkAlgorithm::kEccP256) {
    t.type = TPM2_ALG_ECC;
    TPMS_ECC_PARMS& p = t.parameters.eccDetail;
    p.symmetric.algorithm = TPM2_ALG_NULL;
    p.scheme.scheme = TPM2_ALG_ECDSA;
    p.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    p.curveID = TPM2_ECC_NIST_P256;
    p.kdf.scheme = TPM2_ALG_NULL;
  } else {
    t.type = TPM2_ALG_RSA;
    TPMS_RSA_PARMS& p = t.parameters.rsaDetail;
    p.symmetric.algorithm = TPM2_ALG_NULL;
    p.scheme.scheme = TPM2_ALG_RSASSA;
    p.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
    p.keyBits = 2048;
    p.exponent = 0;
  }
  return t;
}

void PutU32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

// Which AK this public area is; anything else is not an AK we made.
std::optional<AkAlgorithm> AlgorithmOf(const TPMT_PUBLIC& pub) {
  if (pub.objectAttributes != kAkAttributes || pub.nameAlg != TPM2_ALG_SHA256 || pub.authPolicy.size != 0) {
    return std::nullopt;
  }
  if (pub.type == TPM2_ALG_ECC) {
    const TPMS_ECC_PARMS& p = pub.parameters.eccDetail;
    if (p.curveID == TPM2_ECC_NIST_P256 && p.scheme.scheme == TPM2_ALG_ECDSA &&
        p.scheme.details.ecdsa.hashAlg == TPM2_ALG_SHA256) {
      return AkAlgorithm::kEccP256;
    }
  } else if (pub.type == TPM2_ALG_RSA) {
    const TPMS_RSA_PARMS& p = pub.parameters.rsaDetail;
    if (p.keyBits == 2048 && p.scheme.scheme == TPM2_ALG_RSASSA &&
        p.scheme.details.rsassa.hashAlg == TPM2_ALG_SHA256) {
      return AkAlgorithm::kRsa2048;
    }
  }
  return std::nullopt;
}

StatusOr<AkAlgorithm> DefaultAlgorithm(internal::Context& ctx) {
  TPMT_PUBLIC t = AkTemplate(AkAlgorithm::kEccP256);
  TPMT_PUBLIC_PARMS parms{};
  parms.type = t.type;
  parms.parameters = t.parameters;
  EW_ASSIGN_OR_RETURN(bool ecc, internal::TestParms(ctx, parms));
  return ecc ? AkAlgorithm::kEccP256 : AkAlgorithm::kRsa2048;
}

}  // namespace

std::string_view AkAlgorithmName(AkAlgorithm alg) {
  return alg == AkAlgorithm::kEccP256 ? "ecc-p256-ecdsa-sha256" : "rsa2048-rsassa-sha256";
}

StatusOr<Ak> Ak::Parse(ByteView blob, std::string_view source) {
  const std::string where = "AK blob " + std::string(source);
  if (blob.size() < 8 || !std::equal(kMagic, kMagic + 4, blob.begin())) {
    return DataLoss(where + ": not an edgeward AK blob (bad magic)");
  }
  const uint32_t version =
      (uint32_t{blob[4]} << 24) | (uint32_t{blob[5]} << 16) | (uint32_t{blob[6]} << 8) | blob[7];
  if (version != kVersion) {
    return DataLoss(where + ": unsupported format version " + std::to_string(version));
  }
  size_t offset = 8;
  TPM2B_NAME parent{};
  TPM2B_PUBLIC pub{};
  TPM2B_PRIVATE priv{};
  Status s = EW_TSS(Tss2_MU_TPM2B_NAME_Unmarshal(blob.data(), blob.size(), &offset, &parent));
  if (s.ok()) s = EW_TSS(Tss2_MU_TPM2B_PUBLIC_Unmarshal(blob.data(), blob.size(), &offset, &pub));
  if (s.ok()) s = EW_TSS(Tss2_MU_TPM2B_PRIVATE_Unmarshal(blob.data(), blob.size(), &offset, &priv));
  if (!s.ok())
    return DataLoss(where + ": truncated or malformed at byte " + std::to_string(offset) + ": " +
                    s.message());
  if (offset != blob.size()) {
    return DataLoss(where + ": " + std::to_string(blob.size() - offset) + " unexpected trailing bytes");
  }
  auto alg = AlgorithmOf(pub.publicArea);
  if (!alg) return DataLoss(where + ": public area is not an edgeward AK (type, attributes or scheme)");
  if (parent.size == 0 || priv.size == 0) return DataLoss(where + ": empty parent name or private part");

  Ak ak;
  ak.algorithm_ = *alg;
  ak.parent_name_ = internal::NameBytes(parent);
  EW_ASSIGN_OR_RETURN(ak.public_area_, EW_MU_MARSHAL(TPM2B_PUBLIC, pub));
  EW_ASSIGN_OR_RETURN(ak.private_area_, EW_MU_MARSHAL(TPM2B_PRIVATE, priv));
  EW_ASSIGN_OR_RETURN(ak.name_, internal::ObjectName(pub.publicArea));
  auto key = internal::PublicKeyFromTpmt(pub.publicArea);
  if (!key.ok()) return DataLoss(where + ": public key: " + key.status().message());
  EW_ASSIGN_OR_RETURN(ak.public_pem_, key->ToPem());
  // The TSS unmarshallers don't check a TPM2B's size against what its
  // structure consumed; only the one canonical encoding is accepted, so the
  // bytes on disk are exactly the bytes that are named and loaded.
  Bytes canonical = ak.Serialize();
  if (canonical.size() != blob.size() || !std::equal(canonical.begin(), canonical.end(), blob.begin())) {
    return DataLoss(where + ": non-canonical encoding (a size field disagrees with its structure)");
  }
  return ak;
}

Bytes Ak::Serialize() const {
  Bytes out(kMagic, kMagic + 4);
  PutU32(out, kVersion);
  out.push_back(static_cast<uint8_t>(parent_name_.size() >> 8));
  out.push_back(static_cast<uint8_t>(parent_name_.size() & 0xFF));
  out.insert(out.end(), parent_name_.begin(), parent_name_.end());
  out.insert(out.end(), public_area_.begin(), public_area_.end());
  out.insert(out.end(), private_area_.begin(), private_area_.end());
  return out;
}

StatusOr<Ak> CreateAk(const Ek& ek, const AkOptions& options) {
  internal::Context& ctx = *ek.impl().object.context();
  AkAlgorithm alg;
  if (options.algorithm) {
    alg = *options.algorithm;
  } else {
    EW_ASSIGN_OR_RETURN(alg, DefaultAlgorithm(ctx));
  }
  EW_ASSIGN_OR_RETURN(internal::EkUserAuth auth, internal::EkUserAuth::Start(ek));
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_PUBLIC in_public{};
  in_public.publicArea = AkTemplate(alg);
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcr{};
  internal::EsysPtr<TPM2B_PRIVATE> out_private;
  internal::EsysPtr<TPM2B_PUBLIC> out_public;
  internal::EsysPtr<TPM2B_CREATION_DATA> creation_data;
  internal::EsysPtr<TPM2B_DIGEST> creation_hash;
  internal::EsysPtr<TPMT_TK_CREATION> creation_ticket;
  EW_RETURN_IF_ERROR(EW_TSS(Esys_Create(
      ctx.get(), ek.impl().object.get(), auth.session(), ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &in_public,
      &outside, &creation_pcr, internal::Out(out_private), internal::Out(out_public),
      internal::Out(creation_data), internal::Out(creation_hash), internal::Out(creation_ticket))));
  // Build the blob and parse it back: one code path derives name and PEM.
  Bytes blob(kMagic, kMagic + 4);
  PutU32(blob, kVersion);
  TPM2B_NAME parent{};
  parent.size = static_cast<uint16_t>(ek.name().size());
  std::copy(ek.name().begin(), ek.name().end(), parent.name);
  for (auto part : {EW_MU_MARSHAL(TPM2B_NAME, parent), EW_MU_MARSHAL(TPM2B_PUBLIC, *out_public),
                    EW_MU_MARSHAL(TPM2B_PRIVATE, *out_private)}) {
    if (!part.ok()) return part.status();
    blob.insert(blob.end(), part->begin(), part->end());
  }
  EW_ASSIGN_OR_RETURN(Ak ak, Ak::Parse(blob, "(new)"));
  // Loading checks the TPM's name for the key against ours.
  EW_RETURN_IF_ERROR(LoadedAk::Load(ek, ak).status());
  return ak;
}

std::string AkBlobPath(const std::string& state_dir) { return state_dir + "/ak.blob"; }

StatusOr<Ak> LoadOrCreateAk(const Ek& ek, const std::string& state_dir, const AkOptions& options) {
  EW_RETURN_IF_ERROR(MakeDirs(state_dir, 0700, /*enforce_mode=*/true));
  const std::string lock_path = state_dir + "/ak.lock";
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock.valid()) return EW_ERRNO("open", lock_path);
  if (::flock(lock.get(), LOCK_EX) != 0) return EW_ERRNO("flock", lock_path);

  const std::string path = AkBlobPath(state_dir);
  auto data = ReadFileToString(path, kMaxBlobBytes);
  if (data.ok()) {
    EW_ASSIGN_OR_RETURN(Ak ak, Ak::Parse(AsBytes(*data), path));
    if (ak.parent_name() != ek.name()) {
      return FailedPrecondition("AK blob " + path + " was made under EK " + HexEncode(ak.parent_name()) +
                                ", not the chosen EK " + std::string(EkKindName(ek.kind())) + " " +
                                HexEncode(ek.name()));
    }
    return ak;
  }
  if (data.status().code() == StatusCode::kResourceExhausted) {
    return DataLoss("AK blob " + path + " is larger than " + std::to_string(kMaxBlobBytes) + " bytes");
  }
  if (data.status().code() != StatusCode::kNotFound) return data.status();
  EW_ASSIGN_OR_RETURN(Ak ak, CreateAk(ek, options));
  EW_RETURN_IF_ERROR(WriteFileAtomic(path, ak.Serialize(), 0600));
  return ak;
}

LoadedAk::LoadedAk(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LoadedAk::LoadedAk(LoadedAk&&) noexcept = default;
LoadedAk& LoadedAk::operator=(LoadedAk&&) noexcept = default;
LoadedAk::~LoadedAk() = default;
const Ak& LoadedAk::ak() const { return impl_->ak; }

StatusOr<LoadedAk> LoadedAk::Load(const Ek& ek, const Ak& ak) {
  if (ak.parent_name() != ek.name()) {
    return FailedPrecondition("AK was made under EK " + HexEncode(ak.parent_name()) + ", not this EK " +
                              HexEncode(ek.name()));
  }
  const auto& ctx = ek.impl().object.context();
  EW_ASSIGN_OR_RETURN(TPM2B_PUBLIC pub, EW_MU_UNMARSHAL(TPM2B_PUBLIC, ak.public_area(), "AK public area",
                                                        StatusCode::kDataLoss));
  EW_ASSIGN_OR_RETURN(TPM2B_PRIVATE priv, EW_MU_UNMARSHAL(TPM2B_PRIVATE, ak.private_area(), "AK private area",
                                                          StatusCode::kDataLoss));
  EW_ASSIGN_OR_RETURN(internal::EkUserAuth auth, internal::EkUserAuth::Start(ek));
  ESYS_TR handle = ESYS_TR_NONE;
  auto r = EW_TSS_CALL(Esys_Load(ctx->get(), ek.impl().object.get(), auth.session(), ESYS_TR_NONE,
                                 ESYS_TR_NONE, &priv, &pub, &handle));
  internal::TpmObject object(ctx, handle, internal::TpmObject::Kind::kTransient);
  if (internal::TpmRcBase(r.rc) == TPM2_RC_INTEGRITY) {
    return FailedPrecondition(
        "loading AK: the TPM rejects its private part (wrong parent EK or another TPM): " +
        r.status.message());
  }
  EW_RETURN_IF_ERROR(r.status);
  internal::EsysPtr<TPM2B_NAME> name;
  EW_RETURN_IF_ERROR(EW_TSS(Esys_TR_GetName(ctx->get(), object.get(), internal::Out(name))));
  if (internal::NameBytes(*name) != ak.name()) {
    return DataLoss("loaded AK: the TPM reports name " + HexEncode(internal::NameBytes(*name)) +
                    ", the AK blob implies " + HexEncode(ak.name()));
  }
  auto impl = std::make_unique<Impl>(Impl{ak, std::move(object)});
  return LoadedAk(std::move(impl));
}

}  // namespace edgeward::tpm
