// Appraise(): the fixed sequence of checks. Each check adds findings and
// never stops the others; what later checks may trust is carried in the
// verdict (signature_valid, pcrs_verified, verified_pcrs).
#include <algorithm>
#include <set>

#include "appraisal_internal.h"
#include "appraisal_key_cache.h"
#include "edgeward/attest/appraisal.h"
#include "edgeward/crypto/public_key.h"

namespace edgeward::attest {
namespace {

using internal::AddFinding;

std::string HashName(uint16_t tpm_alg) {
  auto h = HashFromTpm(tpm_alg);
  return h ? std::string(crypto::HashAlgName(*h)) : TpmAlgName(tpm_alg);
}

// The AK the verifier pins: its own enrolled name first, else the reference's.
const Bytes* PinnedAk(const AppraisalOptions& o) {
  if (o.expected_ak_name) return &*o.expected_ak_name;
  if (o.reference != nullptr && o.reference->ak_name) return &*o.reference->ak_name;
  return nullptr;
}

// AK: the TPM2B_PUBLIC decodes to a restricted signing key whose name and
// PEM agree with it. Returns the key for signature checks, if usable; sets
// `computed_name` to the name computed from the public area.
std::shared_ptr<const internal::CachedAk> CheckAk(const Evidence& e, const AppraisalOptions& o, Verdict& v,
                                                  std::optional<Bytes>& computed_name) {
  const TpmtPublic& ak = e.ak;
  if (!ak.is_restricted_signing_key()) {
    AddFinding(v, "ak_attributes", Severity::kFail,
               "the AK is not a restricted signing key (restricted and sign set, decrypt clear): a TPM would "
               "sign any caller-supplied data with it, including a forged TPMS_ATTEST")
        .actual = "objectAttributes=0x" + HexEncode(Bytes{static_cast<uint8_t>(ak.object_attributes >> 24),
                                                          static_cast<uint8_t>(ak.object_attributes >> 16),
                                                          static_cast<uint8_t>(ak.object_attributes >> 8),
                                                          static_cast<uint8_t>(ak.object_attributes)});
  }
  if (!(ak.object_attributes & tpma_object::kFixedTpm)) {
    AddFinding(v, "ak_attributes", Severity::kFail, "the AK is not fixedTPM: it may exist outside this TPM");
  }
  auto name = ComputeName(ak);
  if (!name.ok()) {
    AddFinding(v, "ak_name", Severity::kFail, name.status().message());
  } else {
    if (*name != e.ak_name) {
      Finding& f = AddFinding(v, "ak_name", Severity::kFail,
                              "ak.name is not the name of the key in ak.public (nameAlg || H(TPMT_PUBLIC))");
      f.expected = HexEncode(*name);
      f.actual = HexEncode(e.ak_name);
    }
    const Bytes* pinned = PinnedAk(o);
    if (pinned != nullptr && *name != *pinned) {
      Finding& f = AddFinding(v, "ak_identity", Severity::kFail,
                              o.expected_ak_name
                                  ? "the evidence is signed by a different AK than the one enrolled for this node"
                                  : "the evidence is signed by a different AK than the reference values' ak_name");
      f.expected = HexEncode(*pinned);
      f.actual = HexEncode(*name);
    }
    computed_name = *name;
  }
  std::shared_ptr<const internal::CachedAk> cached = internal::LookupAk(e.ak_public, ak);
  if (!cached->key().ok()) {
    AddFinding(v, "ak_public", Severity::kFail, "ak.public has no usable key: " + cached->key().status().message());
    return nullptr;
  }
  if (!cached->KnownMatchingPem(e.ak_public_pem)) {
    auto pem = crypto::PublicKey::FromPem(e.ak_public_pem);
    if (!pem.ok()) {
      AddFinding(v, "ak_pem", Severity::kFail, "ak.public_pem does not parse: " + pem.status().message());
    } else if (!pem->Equals(*cached->key())) {
      AddFinding(v, "ak_pem", Severity::kFail, "ak.public_pem is a different key than ak.public");
    } else {
      cached->SetMatchingPem(e.ak_public_pem);
    }
  }
  return cached;
}

// The AK's signature over the TPMS_ATTEST bytes.
void CheckSignature(const Evidence& e, const internal::CachedAk* ak, Verdict& v) {
  const TpmtSignature& sig = e.signature;
  if (ak == nullptr) {
    AddFinding(v, "signature", Severity::kFail, "not checked: the AK public key is unusable");
    return;
  }
  const crypto::PublicKey& key = *ak->key();
  crypto::SignatureScheme scheme;
  Bytes der;
  ByteView sig_bytes;
  switch (sig.sig_alg) {
    case tpm_alg::kEcdsa: {
      scheme = crypto::SignatureScheme::kEcdsa;
      auto d = crypto::EcdsaRawToDer(sig.ecc_r, sig.ecc_s);
      if (!d.ok()) {
        AddFinding(v, "signature", Severity::kFail, "malformed ECDSA signature: " + d.status().message());
        return;
      }
      der = std::move(d).value();
      sig_bytes = der;
      break;
    }
    case tpm_alg::kRsassa:
      scheme = crypto::SignatureScheme::kRsaPkcs1v15;
      sig_bytes = sig.rsa_sig;
      break;
    case tpm_alg::kRsapss:
      scheme = crypto::SignatureScheme::kRsaPss;
      sig_bytes = sig.rsa_sig;
      break;
    default:
      AddFinding(v, "signature", Severity::kFail,
                 "signature scheme " + TpmAlgName(sig.sig_alg) + " is not accepted (ecdsa, rsassa, rsapss)");
      return;
  }
  // A restricted key signs only with its own scheme; anything else is forged.
  if (e.ak.scheme.scheme != tpm_alg::kNull &&
      (e.ak.scheme.scheme != sig.sig_alg || e.ak.scheme.hash_alg != sig.hash_alg)) {
    Finding& f = AddFinding(v, "signature", Severity::kFail, "the signature's scheme is not the AK's scheme");
    f.expected = TpmAlgName(e.ak.scheme.scheme) + "/" + HashName(e.ak.scheme.hash_alg);
    f.actual = TpmAlgName(sig.sig_alg) + "/" + HashName(sig.hash_alg);
    return;
  }
  auto hash = HashFromTpm(sig.hash_alg);  // the decoder guarantees a known hash
  auto check = key.VerifySignature(scheme, *hash, e.quote_attest, sig_bytes);
  if (!check.ok()) {
    AddFinding(v, "signature", Severity::kFail, "signature not checked: " + check.status().message());
    return;
  }
  if (*check != crypto::SignatureCheck::kValid) {
    AddFinding(v, "signature", Severity::kFail, "the AK's signature over quote.attest does not verify");
    return;
  }
  v.signature_valid = true;
}

// Magic, type and nonce: the TPMS_ATTEST is a quote made for this challenge.
// Returns whether all three hold.
bool CheckAttestHeader(const Evidence& e, ByteView expected_nonce, Verdict& v) {
  bool ok = true;
  if (e.attest.magic != kTpmGenerated) {
    Finding& f = AddFinding(v, "magic", Severity::kFail,
                            "TPMS_ATTEST.magic is not TPM_GENERATED_VALUE: the TPM did not produce this structure");
    f.expected = "ff544347";
    f.actual = HexEncode(Bytes{static_cast<uint8_t>(e.attest.magic >> 24), static_cast<uint8_t>(e.attest.magic >> 16),
                               static_cast<uint8_t>(e.attest.magic >> 8), static_cast<uint8_t>(e.attest.magic)});
    ok = false;
  }
  if (e.attest.type != tpm_st::kAttestQuote) {
    Finding& f = AddFinding(v, "attest_type", Severity::kFail, "TPMS_ATTEST.type is not TPM_ST_ATTEST_QUOTE");
    f.expected = "0x8018";
    f.actual = TpmAlgName(e.attest.type);
    ok = false;
  }
  const ByteView extra = e.attest.extra_data;
  if (!std::equal(extra.begin(), extra.end(), expected_nonce.begin(), expected_nonce.end())) {
    Finding& f = AddFinding(v, "nonce", Severity::kFail,
                            "the quote's extraData is not the challenge (stale or replayed quote)");
    f.expected = HexEncode(expected_nonce);
    f.actual = HexEncode(extra);
    ok = false;
  }
  if (!std::equal(e.nonce.begin(), e.nonce.end(), expected_nonce.begin(), expected_nonce.end())) {
    Finding& f = AddFinding(v, "evidence_nonce", Severity::kFail, "evidence.nonce is not the challenge");
    f.expected = HexEncode(expected_nonce);
    f.actual = HexEncode(e.nonce);
  }
  return ok;
}

std::optional<crypto::HashAlg> PcrDigestAlg(const Evidence& e) {
  if (auto h = HashFromTpm(e.signature.hash_alg)) return h;
  if (auto h = HashFromTpm(e.ak.scheme.hash_alg)) return h;
  return HashFromTpm(e.ak.name_alg);
}

// The PCR selection in the signed TPMS_ATTEST against evidence.pcrs (exactly
// the same set: cf. CVE-2024-29039), then pcrDigest against the values.
void CheckPcrs(const Evidence& e, Verdict& v) {
  if (!e.attest.has_quote) {
    AddFinding(v, "pcr_selection", Severity::kFail, "not checked: TPMS_ATTEST carries no quote");
    return;
  }
  const TpmlPcrSelection& sel = e.attest.quote.pcr_select;
  bool complete = true;
  tpm::PcrSelection selected;
  for (const TpmsPcrSelection& b : sel.banks) {
    const crypto::HashAlg alg = *HashFromTpm(b.hash_alg);  // the decoder guarantees a known hash
    auto [it, inserted] = selected.try_emplace(alg);
    if (!inserted) {
      Finding& f = AddFinding(v, "pcr_selection", Severity::kFail, "the quote selects the same bank twice");
      f.bank = alg;
      complete = false;
    }
    const auto reported = e.pcrs.find(alg);
    for (uint32_t pcr : b.Pcrs()) {
      it->second.insert(pcr);
      if (pcr >= tpm::kNumPcrs) {
        Finding& f = AddFinding(v, "pcr_selection", Severity::kFail, "the quote selects a PCR beyond 23");
        f.bank = alg;
        f.pcr = pcr;
        complete = false;
        continue;
      }
      if (reported == e.pcrs.end() || !reported->second.count(pcr)) {
        Finding& f = AddFinding(v, "pcr_selection", Severity::kFail,
                                "a PCR in the quote's selection is missing from evidence.pcrs");
        f.bank = alg;
        f.pcr = pcr;
        complete = false;
      }
    }
  }
  for (const auto& [alg, values] : e.pcrs) {
    const auto s = selected.find(alg);
    for (const auto& [pcr, value] : values) {
      if (s == selected.end() || !s->second.count(pcr)) {
        Finding& f = AddFinding(v, "pcr_selection", Severity::kFail,
                                "evidence.pcrs reports a PCR that is not in the quote's signed selection "
                                "(its value is not covered by the signature)");
        f.bank = alg;
        f.pcr = pcr;
        f.actual = HexEncode(value);
      }
    }
  }
  if (!complete) {
    AddFinding(v, "pcr_digest", Severity::kFail, "not checked: the reported PCRs do not cover the quote's selection");
    return;
  }
  auto alg = PcrDigestAlg(e);
  if (!alg) {
    AddFinding(v, "pcr_digest", Severity::kFail, "not checked: no hash algorithm for pcrDigest");
    return;
  }
  crypto::Hasher h(*alg);
  for (const TpmsPcrSelection& b : sel.banks) {
    const auto& values = e.pcrs.at(*HashFromTpm(b.hash_alg));
    for (uint32_t pcr : b.Pcrs()) h.Update(values.at(pcr));
  }
  const Bytes digest = h.Finish();
  if (digest != e.attest.quote.pcr_digest) {
    Finding& f = AddFinding(v, "pcr_digest", Severity::kFail,
                            "the reported PCR values do not hash to the quote's pcrDigest");
    f.expected = HexEncode(e.attest.quote.pcr_digest);
    f.actual = HexEncode(digest);
    return;
  }
  if (!v.signature_valid) return;
  v.pcrs_verified = true;
  for (const auto& [bank, pcrs] : selected) {
    auto& out = v.verified_pcrs[bank];
    const auto& values = e.pcrs.at(bank);
    for (uint32_t pcr : pcrs) out.emplace(pcr, values.at(pcr));
  }
}

// The state advances only on evidence fully trusted to come from the pinned
// AK: valid signature, magic/type/nonce, no AK finding, and an AK pinned
// (expected_ak_name or reference ak_name) that the computed name matches.
// Without a pinned AK, a valid signature proves only that *some* key signed,
// so no new state is produced and the previous one is handed back.
// Returns whether the state was taken from this evidence (v.state is then
// the new state, not options.previous).
bool CheckCounters(const Evidence& e, const AppraisalOptions& o, bool header_ok, size_t ak_findings_end,
                   const std::optional<Bytes>& computed_name, Verdict& v) {
  const TpmsClockInfo& c = e.attest.clock_info;
  const Bytes* pinned = PinnedAk(o);
  const bool ak_ok = std::none_of(v.findings.begin(), v.findings.begin() + ak_findings_end,
                                  [](const Finding& f) { return f.severity == Severity::kFail; });
  const bool trusted = v.signature_valid && header_ok && ak_ok && pinned != nullptr && computed_name &&
                       *computed_name == *pinned;
  v.state = o.previous;
  if (!trusted) return false;
  AppraisalState s;
  s.ak_name = *computed_name;
  s.clock = c.clock;
  s.reset_count = c.reset_count;
  s.restart_count = c.restart_count;
  if (o.previous && o.previous->ak_name != *pinned) {
    // The stored state belongs to another AK: a swapped or mixed-up state
    // file, or a node re-enrolled without resetting its state. Don't
    // silently start over; the operator must look.
    Finding& f = AddFinding(v, "state", Severity::kFail,
                            "the stored appraisal state is for a different AK than the pinned one; counters "
                            "cannot be compared (re-enrolled node? reset its state deliberately)");
    f.expected = HexEncode(*pinned);
    f.actual = HexEncode(o.previous->ak_name);
    return false;  // keep the previous state
  }
  v.state = std::move(s);
  if (!o.previous) return true;
  const AppraisalState& p = *o.previous;
  const size_t counter_findings = v.findings.size();
  auto num = [](uint64_t x) { return std::to_string(x); };
  if (c.reset_count < p.reset_count) {
    Finding& f = AddFinding(v, "clock", Severity::kFail,
                            "TPM resetCount went backwards (replayed quote or rolled-back TPM state)");
    f.expected = ">= " + num(p.reset_count);
    f.actual = num(c.reset_count);
  } else if (c.reset_count > p.reset_count) {
    Finding& f = AddFinding(v, "reset", Severity::kInfo, "the TPM was reset (the node rebooted) since the last appraisal");
    f.expected = num(p.reset_count);
    f.actual = num(c.reset_count);
  } else if (c.restart_count < p.restart_count) {
    Finding& f = AddFinding(v, "clock", Severity::kFail, "TPM restartCount went backwards within one reset cycle");
    f.expected = ">= " + num(p.restart_count);
    f.actual = num(c.restart_count);
  } else if (c.restart_count > p.restart_count) {
    Finding& f = AddFinding(v, "restart", Severity::kInfo,
                            "the TPM was restarted (resumed from hibernation) since the last appraisal");
    f.expected = num(p.restart_count);
    f.actual = num(c.restart_count);
  }
  // TPM Clock never runs backwards within a reset cycle. Across a reset it
  // may fall back to its last NV-saved value after a disorderly shutdown;
  // the TPM then says so by clearing `safe`. A lower clock with `safe` set,
  // or within one cycle, means an old quote or a rolled-back TPM state.
  if (c.clock < p.clock) {
    const bool same_cycle = c.reset_count == p.reset_count;
    if (same_cycle || c.safe) {
      Finding& f = AddFinding(v, "clock", Severity::kFail,
                              same_cycle ? "TPM clock went backwards within one reset cycle"
                                         : "TPM clock went backwards although the TPM reports it safe");
      f.expected = ">= " + num(p.clock);
      f.actual = num(c.clock);
    } else {
      Finding& f = AddFinding(v, "clock", Severity::kInfo,
                              "TPM clock fell back across a reset after a disorderly shutdown (safe = NO)");
      f.expected = ">= " + num(p.clock);
      f.actual = num(c.clock);
    }
  }
  // Counters that went backwards must not become the new baseline.
  if (std::any_of(v.findings.begin() + counter_findings, v.findings.end(),
                  [](const Finding& f) { return f.severity == Severity::kFail; })) {
    v.state = o.previous;
    return false;
  }
  return true;
}

// An offline quote proves nothing about freshness (the node chose the
// nonce); what it can show is that it continues the TPM's history as the
// verifier last saw it, which needs a stored state. The counters and clock
// are compared with it in CheckCounters: within one reset cycle the TPM
// clock never runs backwards (safe or not); across cycles resetCount orders
// the quotes, and a lower clock is accepted only with `safe` cleared (the
// TPM admitting a fall-back after a disorderly shutdown). An unsafe clock is
// reported so that the operator sees how continuity was established.
void CheckOfflineContinuity(const Evidence& e, const AppraisalOptions& o, Verdict& v) {
  if (!o.previous) {
    AddFinding(v, "continuity", Severity::kFail,
               "an offline quote is appraised against the node's stored state, and there is none (no earlier "
               "appraisal)");
    return;
  }
  if (!e.attest.clock_info.safe) {
    Finding& f = AddFinding(v, "continuity", Severity::kInfo,
                            "the TPM reports its clock not safe (a disorderly shutdown): the offline quote is placed "
                            "by its reset/restart counters and its clock within their cycle");
    f.expected = "safe";
    f.actual = "not safe";
  }
}

// The IMA part of the new state: the single IMA log's continuation point
// on a pass; on a failure the previous IMA state, so that the failing
// entries are sent and appraised again next time.
std::optional<ImaState> NextImaState(const Evidence& e, const AppraisalOptions& o,
                                     const std::vector<internal::LogAppraisal>& logs, const Verdict& v) {
  std::optional<ImaState> previous = o.previous ? o.previous->ima : std::nullopt;
  if (!v.pass) return previous;
  const internal::LogAppraisal* ima = nullptr;
  size_t ima_logs = 0;
  for (size_t i = 0; i < logs.size(); ++i) {
    if (logs[i].format != EventLogFormat::kIma) continue;
    ++ima_logs;
    ima = &logs[i];
    if (!logs[i].ima_next_entries) return previous;  // not replayed: cannot happen on a pass
  }
  if (ima_logs != 1) return std::nullopt;  // no (single) IMA log: the next one must be whole
  const size_t index = static_cast<size_t>(ima - logs.data());
  ImaState s;
  s.entries = e.event_logs[index].start_entry + *ima->ima_next_entries;
  s.reset_count = e.attest.clock_info.reset_count;
  s.pcrs = ima->ima_next_pcrs;
  return s;
}

Status CheckEk(const Evidence& e, const AppraisalOptions& o, Verdict& v) {
  if (o.ek_ca_bundle_path.empty() && o.ek_ca_certs == nullptr) return Status::Ok();
  std::vector<crypto::Certificate> loaded;
  const std::vector<crypto::Certificate>* anchors = o.ek_ca_certs;
  if (!o.ek_ca_bundle_path.empty()) {
    EW_ASSIGN_OR_RETURN(loaded, crypto::LoadCertificateBundle(o.ek_ca_bundle_path));
    if (anchors != nullptr) {
      // Both given: use the union. Certificates are move-only, so re-parse.
      for (const crypto::Certificate& c : *anchors) {
        EW_ASSIGN_OR_RETURN(Bytes der, c.ToDer());
        EW_ASSIGN_OR_RETURN(crypto::Certificate copy, crypto::Certificate::FromDer(der));
        loaded.push_back(std::move(copy));
      }
    }
    anchors = &loaded;
  }
  if (!e.has_ek || e.ek_certificate_pem.empty()) {
    AddFinding(v, "ek_certificate", Severity::kFail, "an EK CA is configured but the evidence has no EK certificate");
    return Status::Ok();
  }
  auto cert = crypto::Certificate::FromPem(e.ek_certificate_pem);
  if (!cert.ok()) {
    AddFinding(v, "ek_certificate", Severity::kFail, "ek.certificate_pem does not parse: " + cert.status().message());
    return Status::Ok();
  }
  crypto::ChainOptions chain_options;
  chain_options.tpm_endorsement_key = true;
  Status chain = crypto::VerifyCertificateChain(*cert, {}, *anchors, o.now, chain_options);
  if (!chain.ok()) {
    Finding& f = AddFinding(v, "ek_certificate", Severity::kFail,
                            "the EK certificate does not chain to the configured EK CA: " + chain.message());
    f.actual = cert->Issuer();
  }
  if (!e.ek_public.empty()) {
    auto ek = DecodeTpm2bPublic(e.ek_public);
    auto cert_key = cert->GetPublicKey();
    auto ek_key = ek.ok() ? PublicKeyOf(*ek) : StatusOr<crypto::PublicKey>(ek.status());
    if (!cert_key.ok() || !ek_key.ok() || !cert_key->Equals(*ek_key)) {
      AddFinding(v, "ek_certificate", Severity::kFail, "ek.public is not the key in the EK certificate");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kFail: return "fail";
    case Severity::kWarn: return "warn";
    case Severity::kInfo: return "info";
  }
  return "fail";
}

StatusOr<Verdict> Appraise(const Evidence& e, ByteView expected_nonce, const AppraisalOptions& o) {
  return internal::AppraiseDetailed(e, expected_nonce, o, nullptr);
}

StatusOr<Verdict> internal::AppraiseDetailed(const Evidence& e, ByteView expected_nonce, const AppraisalOptions& o,
                                             std::vector<LogAppraisal>* logs_out) {
  if (expected_nonce.empty()) return InvalidArgument("appraisal: the expected nonce is empty");
  Verdict v;
  v.findings.reserve(8);

  std::optional<Bytes> computed_ak_name;
  std::shared_ptr<const internal::CachedAk> ak = CheckAk(e, o, v, computed_ak_name);
  const size_t ak_findings_end = v.findings.size();
  CheckSignature(e, ak.get(), v);
  const bool header_ok = CheckAttestHeader(e, expected_nonce, v);
  CheckPcrs(e, v);
  const bool state_advanced = CheckCounters(e, o, header_ok, ak_findings_end, computed_ak_name, v);
  if (o.offline) CheckOfflineContinuity(e, o, v);
  EW_RETURN_IF_ERROR(CheckEk(e, o, v));
  std::vector<internal::LogAppraisal> logs = internal::AppraiseEventLogs(e, o, v);
  if (o.reference != nullptr) {
    internal::AppraiseRequiredLogs(*o.reference, logs, v);
    if (o.reference->node_id && *o.reference->node_id != e.node_id) {
      Finding& f = AddFinding(v, "node_id", Severity::kFail, "the evidence names a different node than the reference");
      f.expected = *o.reference->node_id;
      f.actual = e.node_id;
    }
    internal::AppraiseGoldenPcrs(*o.reference, v);
  }
  v.pass = std::none_of(v.findings.begin(), v.findings.end(),
                        [](const Finding& f) { return f.severity == Severity::kFail; });
  if (state_advanced) v.state->ima = NextImaState(e, o, logs, v);
  if (logs_out != nullptr) *logs_out = std::move(logs);
  return v;
}

}  // namespace edgeward::attest
