#include "edgeward/tpm/pcr.h"

#include "internal/capability.h"
#include "internal/context.h"
#include "internal/pcr_select.h"
#include "internal/tss_status.h"

namespace edgeward::tpm {
namespace internal {

StatusOr<TPML_PCR_SELECTION> ToTpml(const PcrSelection& sel) {
  TPML_PCR_SELECTION t{};
  for (const auto& [alg, indices] : sel) {
    if (indices.empty()) continue;
    if (t.count >= TPM2_NUM_PCR_BANKS) return InvalidArgument("PCR selection has too many banks");
    TPMS_PCR_SELECTION& s = t.pcrSelections[t.count++];
    s.hash = static_cast<TPMI_ALG_HASH>(alg);
    s.sizeofSelect = 3;
    for (uint32_t i : indices) {
      if (i >= kNumPcrs) return InvalidArgument("PCR index " + std::to_string(i) + " is out of range (0-23)");
      s.pcrSelect[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
    }
  }
  return t;
}

StatusOr<PcrSelection> FromTpml(const TPML_PCR_SELECTION& tpml) {
  PcrSelection sel;
  for (uint32_t b = 0; b < tpml.count && b < TPM2_NUM_PCR_BANKS; ++b) {
    const TPMS_PCR_SELECTION& s = tpml.pcrSelections[b];
    bool any = false;
    for (uint32_t byte = 0; byte < s.sizeofSelect && byte < sizeof s.pcrSelect; ++byte)
      any |= s.pcrSelect[byte] != 0;
    if (!any) continue;
    auto alg = crypto::HashAlgFromTpmId(s.hash);
    if (!alg) return InvalidArgument("PCR selection names unknown hash algorithm " + std::to_string(s.hash));
    for (uint32_t byte = 0; byte < s.sizeofSelect && byte < sizeof s.pcrSelect; ++byte) {
      for (uint32_t bit = 0; bit < 8; ++bit) {
        if (s.pcrSelect[byte] & (1u << bit)) sel[*alg].insert(byte * 8 + bit);
      }
    }
  }
  return sel;
}

StatusOr<PcrValues> ReadPcrs(Context& ctx, const PcrSelection& selection) {
  PcrSelection remaining;
  for (const auto& [alg, indices] : selection) {
    if (!indices.empty()) remaining[alg] = indices;
  }
  PcrValues values;
  while (!remaining.empty()) {
    EW_ASSIGN_OR_RETURN(TPML_PCR_SELECTION in, ToTpml(remaining));
    uint32_t update_counter = 0;
    EsysPtr<TPML_PCR_SELECTION> out_sel;
    EsysPtr<TPML_DIGEST> digests;
    EW_RETURN_IF_ERROR(EW_TSS(Esys_PCR_Read(ctx.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &in,
                                            &update_counter, Out(out_sel), Out(digests))));
    EW_ASSIGN_OR_RETURN(PcrSelection got, FromTpml(*out_sel));
    // The TPM returns digests in selection order: banks as listed, indices
    // ascending within a bank.
    uint32_t d = 0;
    size_t got_count = 0;
    for (uint32_t b = 0; b < out_sel->count; ++b) {
      auto alg = crypto::HashAlgFromTpmId(out_sel->pcrSelections[b].hash);
      if (!alg) continue;  // FromTpml accepted it: nothing selected in it
      for (uint32_t i : got[*alg]) {
        if (d >= digests->count) return Internal("Esys_PCR_Read: fewer digests than selected PCRs");
        const TPM2B_DIGEST& dig = digests->digests[d++];
        if (dig.size != crypto::DigestSize(*alg)) return Internal("Esys_PCR_Read: digest of the wrong size");
        if (remaining[*alg].erase(i) == 0)
          return Internal("Esys_PCR_Read: returned a PCR that was not asked for");
        values[*alg][i] = Bytes(dig.buffer, dig.buffer + dig.size);
        ++got_count;
      }
      if (remaining[*alg].empty()) remaining.erase(*alg);
    }
    if (got_count == 0) {
      // The TPM read nothing of what is left: those banks are not allocated.
      return InvalidArgument("PCR bank(s) " + FormatPcrSelection(remaining) + " are not active on this TPM");
    }
  }
  return values;
}

}  // namespace internal

StatusOr<std::vector<HashAlg>> ActivePcrBanks(Tpm& tpm) {
  EW_ASSIGN_OR_RETURN(TPML_PCR_SELECTION alloc, internal::GetPcrAllocation(*tpm.context()));
  EW_ASSIGN_OR_RETURN(PcrSelection sel, internal::FromTpml(alloc));
  std::vector<HashAlg> banks;
  for (const auto& [alg, indices] : sel) {
    if (!indices.empty()) banks.push_back(alg);
  }
  return banks;
}

StatusOr<PcrValues> ReadPcrs(Tpm& tpm, const PcrSelection& selection) {
  return internal::ReadPcrs(*tpm.context(), selection);
}

Status ExtendPcr(Tpm& tpm, uint32_t index, const std::map<HashAlg, Bytes>& digests) {
  if (index >= kNumPcrs)
    return InvalidArgument("PCR index " + std::to_string(index) + " is out of range (0-23)");
  if (digests.empty()) return InvalidArgument("PCR extend: no digests given");
  TPML_DIGEST_VALUES values{};
  for (const auto& [alg, digest] : digests) {
    if (values.count >= TPM2_NUM_PCR_BANKS) return InvalidArgument("PCR extend: too many banks");
    if (digest.size() != crypto::DigestSize(alg)) {
      return InvalidArgument("PCR extend: " + std::string(crypto::HashAlgName(alg)) + " digest is " +
                             std::to_string(digest.size()) + " bytes, expected " +
                             std::to_string(crypto::DigestSize(alg)));
    }
    TPMT_HA& ha = values.digests[values.count++];
    ha.hashAlg = static_cast<TPMI_ALG_HASH>(alg);
    std::copy(digest.begin(), digest.end(), reinterpret_cast<uint8_t*>(&ha.digest));
  }
  // PCR handles 0-23 are the ESYS_TR_PCR0.. constants.
  return EW_TSS(Esys_PCR_Extend(tpm.context()->get(), ESYS_TR_PCR0 + index, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                ESYS_TR_NONE, &values));
}

}  // namespace edgeward::tpm
