#include "edgeward/tpm/quote.h"

#include <algorithm>

#include "internal/ak_impl.h"
#include "internal/marshal.h"
#include "internal/pcr_select.h"
#include "internal/tss_status.h"

namespace edgeward::tpm {
namespace {

constexpr int kMaxAttempts = 3;

// The pcrDigest a quote over `sel` (in TPM order) must carry for `values`.
StatusOr<Bytes> PcrDigest(crypto::HashAlg alg, const TPML_PCR_SELECTION& sel, const PcrValues& values) {
  EW_ASSIGN_OR_RETURN(PcrSelection selection, internal::FromTpml(sel));
  crypto::Hasher h(alg);
  for (uint32_t b = 0; b < sel.count; ++b) {
    auto bank = crypto::HashAlgFromTpmId(sel.pcrSelections[b].hash);
    if (!bank) continue;  // FromTpml accepted it: nothing selected in it
    for (uint32_t i : selection[*bank]) {
      auto vb = values.find(*bank);
      if (vb == values.end() || !vb->second.count(i))
        return Internal("quote selection has a PCR that was not read");
      h.Update(vb->second.at(i));
    }
  }
  return h.Finish();
}

}  // namespace

StatusOr<Quote> CreateQuote(const LoadedAk& ak, ByteView nonce, const PcrSelection& selection) {
  if (nonce.size() > kMaxQuoteNonceBytes) {
    return InvalidArgument("quote nonce is " + std::to_string(nonce.size()) + " bytes; at most " +
                           std::to_string(kMaxQuoteNonceBytes) + " allowed");
  }
  EW_ASSIGN_OR_RETURN(TPML_PCR_SELECTION tpml, internal::ToTpml(selection));
  if (tpml.count == 0) return InvalidArgument("quote: the PCR selection is empty");
  PcrSelection wanted;
  for (const auto& [alg, indices] : selection) {
    if (!indices.empty()) wanted[alg] = indices;
  }
  internal::Context& ctx = *ak.impl().object.context();
  TPM2B_DATA qualifying{};
  qualifying.size = static_cast<uint16_t>(nonce.size());
  std::copy(nonce.begin(), nonce.end(), qualifying.buffer);
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_NULL;  // the AK's own scheme

  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    internal::EsysPtr<TPM2B_ATTEST> quoted;
    internal::EsysPtr<TPMT_SIGNATURE> signature;
    EW_RETURN_IF_ERROR(
        EW_TSS(Esys_Quote(ctx.get(), ak.impl().object.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                          &qualifying, &scheme, &tpml, internal::Out(quoted), internal::Out(signature))));
    Quote q;
    q.attest.assign(quoted->attestationData, quoted->attestationData + quoted->size);
    EW_ASSIGN_OR_RETURN(q.signature, EW_MU_MARSHAL(TPMT_SIGNATURE, *signature));
    EW_ASSIGN_OR_RETURN(
        TPMS_ATTEST attest,
        EW_MU_UNMARSHAL(TPMS_ATTEST, q.attest, "TPMS_ATTEST from Esys_Quote", StatusCode::kInternal));
    if (attest.type != TPM2_ST_ATTEST_QUOTE) return Internal("Esys_Quote: returned a non-quote attestation");
    const TPML_PCR_SELECTION& quoted_sel = attest.attested.quote.pcrSelect;
    EW_ASSIGN_OR_RETURN(PcrSelection read_sel, internal::FromTpml(quoted_sel));
    // The TPM silently leaves out PCRs of banks it does not have.
    if (read_sel != wanted) {
      return InvalidArgument("quote: the TPM quoted " + FormatPcrSelection(read_sel) + " for the requested " +
                             FormatPcrSelection(wanted) + " (is every bank active?)");
    }
    EW_ASSIGN_OR_RETURN(q.pcrs, internal::ReadPcrs(ctx, read_sel));
    EW_ASSIGN_OR_RETURN(Bytes digest, PcrDigest(ak.ak().signing_hash(), quoted_sel, q.pcrs));
    const TPM2B_DIGEST& want = attest.attested.quote.pcrDigest;
    if (Bytes(want.buffer, want.buffer + want.size) == digest) return q;
    // A PCR was extended between the quote and the read; quote again.
  }
  return Unavailable("quote: PCRs kept changing between TPM2_Quote and TPM2_PCR_Read (" +
                     std::to_string(kMaxAttempts) + " attempts)");
}

StatusOr<Quote> CreateQuote(const Ek& ek, const Ak& ak, ByteView nonce, const PcrSelection& selection) {
  EW_ASSIGN_OR_RETURN(LoadedAk loaded, LoadedAk::Load(ek, ak));
  return CreateQuote(loaded, nonce, selection);
}

}  // namespace edgeward::tpm
