#include "edgeward/tpm/ek.h"

#include <algorithm>
#include <cstdio>

#include "edgeward/crypto/x509.h"
#include "edgeward/tpm/nv.h"
#include "internal/capability.h"
#include "internal/context.h"
#include "internal/ek_impl.h"
#include "internal/marshal.h"
#include "internal/public_key.h"
#include "internal/tss_status.h"

namespace edgeward::tpm {
namespace {

constexpr EkKind kAllKinds[] = {EkKind::kRsa2048Low, EkKind::kEccP256Low, EkKind::kRsa2048High,
                                EkKind::kEccP256High, EkKind::kEccP384High};
// Persistent handles in the endorsement range (TCG "Registry of Reserved
// TPM 2.0 Handles": 0x81010000-0x8101FFFF; EKs sit in the first 256).
constexpr uint32_t kEkPersistentFirst = 0x81010000;
constexpr uint32_t kEkPersistentRange = 0x100;
// TCG NV space for EK certificates and templates.
constexpr uint32_t kEkCertNvFirst = 0x01c00000;

std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::vector<EkKind> PreferenceOrder(EkPreference p) {
  switch (p) {
    case EkPreference::kRsa:
      return {EkKind::kRsa2048Low, EkKind::kRsa2048High};
    case EkPreference::kEcc:
      return {EkKind::kEccP256Low, EkKind::kEccP256High, EkKind::kEccP384High};
    case EkPreference::kAuto:
      break;
  }
  return {std::begin(kAllKinds), std::end(kAllKinds)};
}

// EK certificate indices may be larger than the certificate (TPM vendors pad
// them); the DER header says how long it really is.
StatusOr<Bytes> TrimDer(const Bytes& data, uint32_t index) {
  auto bad = [index](const std::string& why) {
    return DataLoss("EK certificate in NV " + Hex32(index) + " is not DER X.509: " + why);
  };
  if (data.size() < 2 || data[0] != 0x30) return bad("no SEQUENCE tag");
  size_t len = 0;
  size_t header = 2;
  if (data[1] < 0x80) {
    len = data[1];
  } else {
    size_t n = data[1] & 0x7F;
    if (n == 0 || n > 3 || data.size() < 2 + n) return bad("bad length");
    for (size_t i = 0; i < n; ++i) len = (len << 8) | data[2 + i];
    header += n;
  }
  if (header + len > data.size()) return bad("truncated");
  Bytes der(data.begin(), data.begin() + static_cast<ptrdiff_t>(header + len));
  auto cert = crypto::Certificate::FromDer(der);
  if (!cert.ok()) return bad(cert.status().message());
  return der;
}

struct LoadedEk {
  internal::TpmObject object;
  TPMT_PUBLIC pub;
  Bytes tpm_name;
  std::optional<uint32_t> persistent;
};

StatusOr<std::optional<LoadedEk>> FindPersistentEk(Tpm& tpm, EkKind kind) {
  internal::Context& ctx = *tpm.context();
  EW_ASSIGN_OR_RETURN(auto handles, internal::GetHandles(ctx, kEkPersistentFirst, kEkPersistentRange));
  for (uint32_t h : handles) {
    ESYS_TR tr = ESYS_TR_NONE;
    EW_RETURN_IF_ERROR(
        EW_TSS(Esys_TR_FromTPMPublic(ctx.get(), h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr)));
    internal::TpmObject obj(tpm.context(), tr, internal::TpmObject::Kind::kReference);
    internal::EsysPtr<TPM2B_PUBLIC> pub;
    internal::EsysPtr<TPM2B_NAME> name;
    internal::EsysPtr<TPM2B_NAME> qualified;
    EW_RETURN_IF_ERROR(
        EW_TSS(Esys_ReadPublic(ctx.get(), obj.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                               internal::Out(pub), internal::Out(name), internal::Out(qualified))));
    EW_ASSIGN_OR_RETURN(bool match, internal::MatchesEkTemplate(pub->publicArea, kind));
    if (match)
      return std::optional<LoadedEk>(
          LoadedEk{std::move(obj), pub->publicArea, internal::NameBytes(*name), h});
  }
  return std::optional<LoadedEk>();
}

StatusOr<LoadedEk> CreateEk(Tpm& tpm, EkKind kind) {
  internal::Context& ctx = *tpm.context();
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_PUBLIC in_public{};
  in_public.publicArea = internal::EkTemplate(kind);
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcr{};
  ESYS_TR handle = ESYS_TR_NONE;
  internal::EsysPtr<TPM2B_PUBLIC> out_public;
  internal::EsysPtr<TPM2B_CREATION_DATA> creation_data;
  internal::EsysPtr<TPM2B_DIGEST> creation_hash;
  internal::EsysPtr<TPMT_TK_CREATION> creation_ticket;
  Status s = EW_TSS(Esys_CreatePrimary(ctx.get(), ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                       ESYS_TR_NONE, &sensitive, &in_public, &outside, &creation_pcr, &handle,
                                       internal::Out(out_public), internal::Out(creation_data),
                                       internal::Out(creation_hash), internal::Out(creation_ticket)));
  internal::TpmObject obj(tpm.context(), handle, internal::TpmObject::Kind::kTransient);
  if (!s.ok()) return s.WithContext(std::string("creating EK ") + std::string(EkKindName(kind)));
  internal::EsysPtr<TPM2B_NAME> name;
  EW_RETURN_IF_ERROR(EW_TSS(Esys_TR_GetName(ctx.get(), obj.get(), internal::Out(name))));
  return LoadedEk{std::move(obj), out_public->publicArea, internal::NameBytes(*name), std::nullopt};
}

TPMT_PUBLIC_PARMS ParmsOf(EkKind kind) {
  TPMT_PUBLIC t = internal::EkTemplate(kind);
  TPMT_PUBLIC_PARMS p{};
  p.type = t.type;
  p.parameters = t.parameters;
  return p;
}

}  // namespace

std::string_view EkKindName(EkKind kind) {
  switch (kind) {
    case EkKind::kRsa2048Low:
      return "RSA-2048 (L-1)";
    case EkKind::kEccP256Low:
      return "ECC P-256 (L-2)";
    case EkKind::kRsa2048High:
      return "RSA-2048 (H-1)";
    case EkKind::kEccP256High:
      return "ECC P-256 (H-2)";
    case EkKind::kEccP384High:
      return "ECC P-384 (H-3)";
  }
  return "unknown";
}

uint32_t EkCertificateNvIndex(EkKind kind) {
  switch (kind) {
    case EkKind::kRsa2048Low:
      return 0x01c00002;
    case EkKind::kEccP256Low:
      return 0x01c0000a;
    case EkKind::kRsa2048High:
      return 0x01c00012;
    case EkKind::kEccP256High:
      return 0x01c00014;
    case EkKind::kEccP384High:
      return 0x01c00016;
  }
  return 0;
}

bool EkKindIsRsa(EkKind kind) { return kind == EkKind::kRsa2048Low || kind == EkKind::kRsa2048High; }

StatusOr<std::vector<EkCertificate>> ReadEkCertificates(Tpm& tpm) {
  // Listing the defined indices first avoids probing absent ones (which
  // ESAPI would log as errors).
  EW_ASSIGN_OR_RETURN(std::vector<uint32_t> defined,
                      internal::GetHandles(*tpm.context(), kEkCertNvFirst, 0x100));
  std::vector<EkCertificate> out;
  for (EkKind kind : kAllKinds) {
    const uint32_t index = EkCertificateNvIndex(kind);
    if (std::find(defined.begin(), defined.end(), index) == defined.end()) continue;
    auto data = ReadNv(tpm, index);
    if (!data.ok()) return data.status();
    EW_ASSIGN_OR_RETURN(Bytes der, TrimDer(*data, index));
    out.push_back(EkCertificate{kind, index, std::move(der)});
  }
  return out;
}

Ek::Ek(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Ek::Ek(Ek&&) noexcept = default;
Ek& Ek::operator=(Ek&&) noexcept = default;
Ek::~Ek() = default;

EkKind Ek::kind() const { return impl_->kind; }
const Bytes& Ek::public_area() const { return impl_->public_area; }
const std::string& Ek::public_pem() const { return impl_->public_pem; }
const Bytes& Ek::name() const { return impl_->name; }
const std::optional<EkCertificate>& Ek::certificate() const { return impl_->certificate; }
std::optional<uint32_t> Ek::persistent_handle() const { return impl_->persistent_handle; }

StatusOr<Ek> Ek::Open(Tpm& tpm, const EkOptions& options) {
  EW_ASSIGN_OR_RETURN(std::vector<EkCertificate> certs, ReadEkCertificates(tpm));
  const std::vector<EkKind> order = PreferenceOrder(options.preference);

  std::optional<EkKind> chosen;
  std::optional<EkCertificate> cert;
  for (EkKind kind : order) {
    for (auto& c : certs) {
      if (c.kind == kind && !chosen) {
        chosen = kind;
        cert = std::move(c);
      }
    }
  }
  if (!chosen) {
    for (EkKind kind : order) {
      EW_ASSIGN_OR_RETURN(bool supported, internal::TestParms(*tpm.context(), ParmsOf(kind)));
      if (supported) {
        chosen = kind;
        break;
      }
    }
  }
  if (!chosen) return NotFound("TPM supports none of the EK types allowed by the EK preference");

  std::optional<LoadedEk> loaded;
  if (options.use_persistent) {
    EW_ASSIGN_OR_RETURN(loaded, FindPersistentEk(tpm, *chosen));
  }
  if (!loaded) {
    EW_ASSIGN_OR_RETURN(LoadedEk created, CreateEk(tpm, *chosen));
    loaded = std::move(created);
  }
  const std::string where = std::string("EK ") + std::string(EkKindName(*chosen)) +
                            (loaded->persistent ? " at " + Hex32(*loaded->persistent) : "");

  auto impl = std::make_unique<Impl>();
  impl->kind = *chosen;
  impl->public_tpmt = loaded->pub;
  TPM2B_PUBLIC pub2b{};
  pub2b.publicArea = loaded->pub;
  EW_ASSIGN_OR_RETURN(impl->public_area, EW_MU_MARSHAL(TPM2B_PUBLIC, pub2b));
  EW_ASSIGN_OR_RETURN(impl->name, internal::ObjectName(loaded->pub));
  if (impl->name != loaded->tpm_name) {
    return Internal(where + ": name computed from the public area differs from the name the TPM reports");
  }
  auto key = internal::PublicKeyFromTpmt(loaded->pub);
  if (!key.ok()) return key.status().WithContext(where);
  EW_ASSIGN_OR_RETURN(impl->public_pem, key->ToPem());
  if (cert) {
    EW_ASSIGN_OR_RETURN(crypto::Certificate x509, crypto::Certificate::FromDer(cert->der));
    EW_ASSIGN_OR_RETURN(crypto::PublicKey cert_key, x509.GetPublicKey());
    if (!cert_key.Equals(*key)) {
      return FailedPrecondition(where + ": public key differs from the EK certificate's (NV " +
                                Hex32(cert->nv_index) + ")");
    }
  }
  impl->certificate = std::move(cert);
  impl->persistent_handle = loaded->persistent;
  impl->object = std::move(loaded->object);
  return Ek(std::move(impl));
}

namespace internal {

StatusOr<EkUserAuth> EkUserAuth::Start(const Ek& ek) {
  if (ek.impl().public_tpmt.objectAttributes & TPMA_OBJECT_USERWITHAUTH) return EkUserAuth(TpmObject());
  const auto& ctx = ek.impl().object.context();
  TPMT_SYM_DEF symmetric{};
  symmetric.algorithm = TPM2_ALG_NULL;
  ESYS_TR session = ESYS_TR_NONE;
  Status s = EW_TSS(Esys_StartAuthSession(ctx->get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                          ESYS_TR_NONE, nullptr, TPM2_SE_POLICY, &symmetric, TPM2_ALG_SHA256,
                                          &session));
  TpmObject owned(ctx, session, TpmObject::Kind::kTransient);
  EW_RETURN_IF_ERROR(s);
  EW_RETURN_IF_ERROR(
      EW_TSS(Esys_PolicySecret(ctx->get(), ESYS_TR_RH_ENDORSEMENT, owned.get(), ESYS_TR_PASSWORD,
                               ESYS_TR_NONE, ESYS_TR_NONE, nullptr, nullptr, nullptr, 0, nullptr, nullptr)));
  return EkUserAuth(std::move(owned));
}

}  // namespace internal
}  // namespace edgeward::tpm
