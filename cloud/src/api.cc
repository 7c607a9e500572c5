// REST API v1 messages <-> JSON. nlohmann exceptions stay inside: decoders
// parse without exceptions (json_reader), encoders dump with invalid UTF-8
// replaced rather than thrown.
#include "edgeward/cloud/api.h"

#include <nlohmann/json.hpp>

#include "edgeward/crypto/hash.h"
#include "json_reader.h"

namespace edgeward::cloud {
namespace {

using internal::FieldError;
using internal::json;
using internal::ObjectReader;
using internal::ParseObject;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json LabelsJson(const std::map<std::string, std::string>& labels) {
  json j = json::object();
  for (const auto& [k, v] : labels) j[k] = v;
  return j;
}

Status CheckId(std::string_view id, const std::string& path) {
  if (id.empty()) return FieldError(path, "must not be empty");
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) return FieldError(path, "characters allowed are A-Z a-z 0-9 . _ -");
  }
  return Status::Ok();
}

StatusOr<std::string> IdField(const ObjectReader& r, std::string_view key, bool required = true) {
  EW_ASSIGN_OR_RETURN(std::string s, r.String(key, kMaxIdBytes, required));
  if (!required && s.empty()) return s;
  EW_RETURN_IF_ERROR(CheckId(s, r.Path(key)));
  return s;
}

StatusOr<std::map<std::string, std::string>> LabelsField(const ObjectReader& r, std::string_view key) {
  EW_ASSIGN_OR_RETURN(auto labels, r.StringMap(key, kMaxLabels, kMaxLabelBytes, /*required=*/false));
  for (const auto& [k, v] : labels) {
    EW_RETURN_IF_ERROR(CheckId(k, r.Path(key) + "." + k));
    for (char c : v) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        return FieldError(r.Path(key) + "." + k, "control characters are not allowed");
      }
    }
  }
  return labels;
}

json FindingJson(const attest::Finding& f) {
  json j = {{"check", f.check}, {"severity", attest::SeverityName(f.severity)}, {"message", f.message}};
  if (f.bank) j["bank"] = crypto::HashAlgName(*f.bank);
  if (f.pcr) j["pcr"] = *f.pcr;
  if (f.log_index) j["log_index"] = *f.log_index;
  if (f.event_index) j["event_index"] = *f.event_index;
  if (!f.path.empty()) j["path"] = f.path;
  if (!f.expected.empty()) j["expected"] = f.expected;
  if (!f.actual.empty()) j["actual"] = f.actual;
  return j;
}

StatusOr<attest::Finding> DecodeFinding(const json& j, const std::string& path) {
  if (!j.is_object()) return FieldError(path, std::string("expected an object, got ") + j.type_name());
  ObjectReader r(j, path);
  EW_RETURN_IF_ERROR(
      r.OnlyKeys({"check", "severity", "bank", "pcr", "log_index", "event_index", "path", "expected", "actual", "message"}));
  attest::Finding f;
  EW_ASSIGN_OR_RETURN(f.check, r.String("check", 64));
  EW_ASSIGN_OR_RETURN(std::string sev, r.String("severity", 8));
  if (sev == "fail") f.severity = attest::Severity::kFail;
  else if (sev == "warn") f.severity = attest::Severity::kWarn;
  else if (sev == "info") f.severity = attest::Severity::kInfo;
  else return FieldError(r.Path("severity"), "expected fail, warn or info");
  if (r.Has("bank")) {
    EW_ASSIGN_OR_RETURN(std::string bank, r.String("bank", 16));
    auto alg = crypto::HashAlgFromName(bank);
    if (!alg) return FieldError(r.Path("bank"), "unknown hash algorithm");
    f.bank = *alg;
  }
  if (r.Has("pcr")) {
    EW_ASSIGN_OR_RETURN(uint64_t pcr, r.Uint("pcr"));
    if (pcr > 23) return FieldError(r.Path("pcr"), "PCR index above 23");
    f.pcr = static_cast<uint32_t>(pcr);
  }
  if (r.Has("log_index")) { EW_ASSIGN_OR_RETURN(f.log_index, r.Uint("log_index")); }
  if (r.Has("event_index")) { EW_ASSIGN_OR_RETURN(f.event_index, r.Uint("event_index")); }
  EW_ASSIGN_OR_RETURN(f.path, r.String("path", 4096, false));
  EW_ASSIGN_OR_RETURN(f.expected, r.String("expected", 4096, false));
  EW_ASSIGN_OR_RETURN(f.actual, r.String("actual", 4096, false));
  EW_ASSIGN_OR_RETURN(f.message, r.String("message", 4096));
  return f;
}

}  // namespace

Bytes QuoteQualifyingData(ByteView challenge_nonce, ByteView tls_spki_der) {
  const Bytes spki_hash = crypto::Digest(crypto::HashAlg::kSha256, tls_spki_der);
  crypto::Hasher h(crypto::HashAlg::kSha256);
  h.Update(challenge_nonce);
  h.Update(spki_hash);
  return h.Finish();
}

Status ValidateNodeId(std::string_view id, std::string_view field) {
  if (id.size() > kMaxIdBytes) return FieldError(field, "longer than " + std::to_string(kMaxIdBytes) + " bytes");
  return CheckId(id, std::string(field));
}

// --- register ---------------------------------------------------------------

std::string EncodeRegisterRequest(const RegisterRequest& m) {
  return Dump({{"node_id", m.node_id},
               {"ek_cert_pem", m.ek_cert_pem},
               {"ek_public", Base64Encode(m.ek_public)},
               {"ak_public", Base64Encode(m.ak_public)},
               {"ak_name", Base64Encode(m.ak_name)},
               {"node_signing_key", Base64Encode(m.node_signing_key)},
               {"labels", LabelsJson(m.labels)}});
}

StatusOr<RegisterRequest> DecodeRegisterRequest(std::string_view text) {
  EW_ASSIGN_OR_RETURN(json j, ParseObject(text, "register", kMaxBodyBytes));
  ObjectReader r(j, "register");
  EW_RETURN_IF_ERROR(r.OnlyKeys({"node_id", "ek_cert_pem", "ek_public", "ak_public", "ak_name", "node_signing_key", "labels"}));
  RegisterRequest m;
  EW_ASSIGN_OR_RETURN(m.node_id, IdField(r, "node_id"));
  EW_ASSIGN_OR_RETURN(m.ek_cert_pem, r.String("ek_cert_pem", kMaxPemBytes));
  EW_ASSIGN_OR_RETURN(m.ek_public, r.Base64("ek_public", kMaxTpmPublicBytes));
  EW_ASSIGN_OR_RETURN(m.ak_public, r.Base64("ak_public", kMaxTpmPublicBytes));
  EW_ASSIGN_OR_RETURN(m.ak_name, r.Base64("ak_name", kMaxTpmNameBytes));
  EW_ASSIGN_OR_RETURN(m.node_signing_key, r.Base64("node_signing_key", 32));
  if (m.node_signing_key.size() != 32) return FieldError(r.Path("node_signing_key"), "must be 32 bytes (Ed25519)");
  if (m.ak_name.size() < 2 + 20) return FieldError(r.Path("ak_name"), "too short for a TPM name");
  EW_ASSIGN_OR_RETURN(m.labels, LabelsField(r, "labels"));
  return m;
}

std::string EncodeRegisterChallenge(const RegisterChallenge& m) {
  return Dump({{"registration_id", m.registration_id},
               {"credential_blob", Base64Encode(m.credential_blob)},
               {"encrypted_secret", Base64Encode(m.encrypted_secret)},
               {"expires_at", m.expires_at}});
}

StatusOr<RegisterChallenge> DecodeRegisterChallenge(std::string_view text) {
  EW_ASSIGN_OR_RETURN(json j, ParseObject(text, "register_challenge", kMaxBodyBytes));
  ObjectReader r(j, "register_challenge");
  EW_RETURN_IF_ERROR(r.OnlyKeys({"registration_id", "credential_blob", "encrypted_secret", "expires_at"}));
  RegisterChallenge m;
  EW_ASSIGN_OR_RETURN(m.registration_id, IdField(r, "registration_id"));
  EW_ASSIGN_OR_RETURN(m.credential_blob, r.Base64("credential_blob", 2 + 2 * (2 + 64)));
  EW_ASSIGN_OR_RETURN(m.encrypted_secret, r.Base64("encrypted_secret", 2 + 512));
  EW_ASSIGN_OR_RETURN(m.expires_at, r.Int("expires_at"));
  return m;
}

std::string EncodeActivateRequest(const ActivateRequest& m) {
  return Dump({{"registration_id", m.registration_id}, {"secret", Base64Encode(m.secret)}});
}

StatusOr<ActivateRequest> DecodeActivateRequest(std::string_view text) {
  EW_ASSIGN_OR_RETURN(json j, ParseObject(text, "activate", kMaxBodyBytes));
  ObjectReader r(j, "activate");
  EW_RETURN_IF_ERROR(r.OnlyKeys({"registration_id", "secret"}));
  ActivateRequest m;
  EW_ASSIGN_OR_RETURN(m.registration_id, IdField(r, "registration_id"));
  EW_ASSIGN_OR_RETURN(m.secret, r.Base64("secret", kMaxSecretBytes));
  return m;
}

// --- challenge / evidence / verdict ------------------------------------------

std::string EncodeChallengeRequest(const ChallengeRequest& m) { return Dump({{"node_id", m.node_id}}); }

StatusOr<ChallengeRequest> DecodeChallengeRequest(std::string_view text) {
  EW_ASSIGN_OR_RETURN(json j, ParseObject(text, "challenge_request", kMaxBodyBytes));
  ObjectReader r(j, "challenge_request");
  EW_RETURN_IF_ERROR(r.OnlyKeys({"node_id"}));
  ChallengeRequest m;
  EW_ASSIGN_OR_RETURN(m.node_id, IdField(r, "node_id"));
  return m;
}

std::string EncodeChallenge(const Challenge& m) {
  json j = {{"nonce_id", m.nonce_id}, {"nonce", Base64Encode(m.nonce)}, {"expires_at", m.expires_at}};
  if (m.ima_offset != 0) j["ima_offset"] = m.ima_offset;
  return Dump(j);
}

StatusOr<Challenge> DecodeChallenge(std::string_view text) {
  EW_ASSIGN_OR_RETURN(json j, ParseObject(text, "challenge", kMaxBodyBytes));
  ObjectReader r(j, "challenge");
  EW_RETURN_IF_ERROR(r.OnlyKeys({"nonce_id", "nonce", "expires_at", "ima_offset"}));
  Challenge m;
  EW_ASSIGN_OR_RETURN(m.nonce_id, IdField(r, "nonce_id"));
  EW_ASSIGN_OR_RETURN(m.nonce, r.Base64("nonce", attest::kMaxNonceBytes));
  if (m.nonce.empty()) return FieldError(r.Path("nonce"), "must not be empty");
  EW_ASSIGN_OR_RETURN(m.expires_at, r.Int("expires_at"));
  EW_ASSIGN_OR_RETURN(m.ima_offset, r.Uint("ima_offset", false));
  if (m.ima_offset > attest::kMaxImaStartEntry) return FieldError(r.Path("ima_offset"), "larger than 2^53-1");
  return m;
}

StatusOr<std::string> EncodeEvidenceSubmission(const EvidenceSubmission& m) {
  EW_ASSIGN_OR_RETURN(std::string evidence, attest::EncodeEvidence(m.evidence, -1));
  json ev = json::parse(evidence, nullptr, false);
  if (ev.is_discarded()) return InvalidArgument("evidence_submission.evidence: encoder produced invalid JSON");
  json j = {{"nonce_id", m.nonce_id},
            {"evidence", std::move(ev)},
            {"tls_public_key_spki_der", Base64Encode(m.tls_public_key_spki_der)},
            {"offline", m.offline}};
  if (m.csr_pem) j["csr_pem"] = *m.csr_pem;
  return Dump(j);
}

StatusOr<EvidenceSubmission> DecodeEvidenceSubmission(std::string_view text) {
  EW_ASSIGN_OR_RETURN(json j, ParseObject(text, "evidence_submission", kMaxBodyBytes));
  ObjectReader r(j, "evidence_submission");
  EW_RETURN_IF_ERROR(r.OnlyKeys({"nonce_id", "evidence", "tls_public_key_spki_der", "csr_pem", "offline"}));
  EvidenceSubmission m;
  EW_ASSIGN_OR_RETURN(m.offline, r.Bool("offline", false));
  EW_ASSIGN_OR_RETURN(m.nonce_id, IdField(r, "nonce_id", /*required=*/!m.offline));
  if (m.offline && !m.nonce_id.empty()) return FieldError(r.Path("nonce_id"), "must be absent for offline evidence");
  EW_ASSIGN_OR_RETURN(m.tls_public_key_spki_der, r.Base64("tls_public_key_spki_der", kMaxSpkiBytes));
  if (m.tls_public_key_spki_der.empty()) return FieldError(r.Path("tls_public_key_spki_der"), "must not be empty");
  if (r.Has("csr_pem")) {
    EW_ASSIGN_OR_RETURN(std::string csr, r.String("csr_pem", kMaxPemBytes));
    m.csr_pem = std::move(csr);
  }
  EW_ASSIGN_OR_RETURN(const json* ev, r.Object("evidence"));
  // The evidence decoder owns its schema; hand it the object's text.
  auto evidence = attest::DecodeEvidence(Dump(*ev));
  if (!evidence.ok()) return evidence.status().WithContext("evidence_submission");
  m.evidence = std::move(evidence).value();
  return m;
}

std::string EncodeVerdictResponse(const VerdictResponse& m) {
  json findings = json::array();
  for (const auto& f : m.findings) findings.push_back(FindingJson(f));
  json j = {{"verdict_id", m.verdict_id}, {"pass", m.pass}, {"offline", m.offline}, {"findings", std::move(findings)}};
  if (m.client_cert_pem) {
    j["client_cert_pem"] = *m.client_cert_pem;
    j["cert_expires_at"] = m.cert_expires_at;
  }
  if (m.ima_offset != 0) j["ima_offset"] = m.ima_offset;
  return Dump(j);
}

StatusOr<VerdictResponse> DecodeVerdictResponse(std::string_view text) {
  EW_ASSIGN_OR_RETURN(json j, ParseObject(text, "verdict", kMaxBodyBytes));
  ObjectReader r(j, "verdict");
  EW_RETURN_IF_ERROR(
      r.OnlyKeys({"verdict_id", "pass", "offline", "findings", "client_cert_pem", "cert_expires_at", "ima_offset"}));
  VerdictResponse m;
  EW_ASSIGN_OR_RETURN(m.verdict_id, IdField(r, "verdict_id"));
  EW_ASSIGN_OR_RETURN(m.pass, r.Bool("pass"));
  EW_ASSIGN_OR_RETURN(m.offline, r.Bool("offline", false));
  EW_ASSIGN_OR_RETURN(const json* findings, r.Array("findings", kMaxFindings));
  for (size_t i = 0; i < findings->size(); ++i) {
    EW_ASSIGN_OR_RETURN(auto f, DecodeFinding((*findings)[i], r.Path("findings") + "[" + std::to_string(i) + "]"));
    m.findings.push_back(std::move(f));
  }
  if (r.Has("client_cert_pem")) {
    EW_ASSIGN_OR_RETURN(std::string pem, r.String("client_cert_pem", kMaxPemBytes));
    m.client_cert_pem = std::move(pem);
    EW_ASSIGN_OR_RETURN(m.cert_expires_at, r.Int("cert_expires_at"));
  }
  EW_ASSIGN_OR_RETURN(m.ima_offset, r.Uint("ima_offset", false));
  if (m.ima_offset > attest::kMaxImaStartEntry) return FieldError(r.Path("ima_offset"), "larger than 2^53-1");
  return m;
}

// --- nodes --------------------------------------------------------------------

namespace {
json NodeStatusJson(const NodeStatus& m) {
  return {{"node_id", m.node_id},         {"state", m.state},
          {"labels", LabelsJson(m.labels)}, {"registered_at", m.registered_at},
          {"last_verdict_at", m.last_verdict_at}, {"last_pass", m.last_pass},
          {"cert_expires_at", m.cert_expires_at}};
}
StatusOr<NodeStatus> NodeStatusFrom(const json& j, const std::string& path) {
  if (!j.is_object()) return FieldError(path, std::string("expected an object, got ") + j.type_name());
  ObjectReader r(j, path);
  EW_RETURN_IF_ERROR(r.OnlyKeys({"node_id", "state", "labels", "registered_at", "last_verdict_at", "last_pass", "cert_expires_at"}));
  NodeStatus m;
  EW_ASSIGN_OR_RETURN(m.node_id, IdField(r, "node_id"));
  EW_ASSIGN_OR_RETURN(m.state, r.String("state", 16));
  if (m.state != "pending" && m.state != "active" && m.state != "revoked") {
    return FieldError(r.Path("state"), "expected pending, active or revoked");
  }
  EW_ASSIGN_OR_RETURN(m.labels, LabelsField(r, "labels"));
  EW_ASSIGN_OR_RETURN(m.registered_at, r.Int("registered_at"));
  EW_ASSIGN_OR_RETURN(m.last_verdict_at, r.Int("last_verdict_at"));
  EW_ASSIGN_OR_RETURN(m.last_pass, r.Bool("last_pass"));
  EW_ASSIGN_OR_RETURN(m.cert_expires_at, r.Int("cert_expires_at", false));
  return m;
}
}  // namespace

std::string EncodeNodeStatus(const NodeStatus& m) { return Dump(NodeStatusJson(m)); }

StatusOr<NodeStatus> DecodeNodeStatus(std::string_view text) {
  EW_ASSIGN_OR_RETURN(json j, ParseObject(text, "node", kMaxBodyBytes));
  return NodeStatusFrom(j, "node");
}

std::string EncodeNodeList(const NodeList& m) {
  json nodes = json::array();
  for (const auto& n : m.nodes) nodes.push_back(NodeStatusJson(n));
  return Dump({{"nodes", std::move(nodes)}});
}

StatusOr<NodeList> DecodeNodeList(std::string_view text) {
  EW_ASSIGN_OR_RETURN(json j, ParseObject(text, "node_list", kMaxBodyBytes));
  ObjectReader r(j, "node_list");
  EW_RETURN_IF_ERROR(r.OnlyKeys({"nodes"}));
  EW_ASSIGN_OR_RETURN(const json* nodes, r.Array("nodes", 1000000));
  NodeList m;
  for (size_t i = 0; i < nodes->size(); ++i) {
    EW_ASSIGN_OR_RETURN(auto n, NodeStatusFrom((*nodes)[i], "node_list.nodes[" + std::to_string(i) + "]"));
    m.nodes.push_back(std::move(n));
  }
  return m;
}

std::string EncodeVerdictHistory(const VerdictHistory& m) {
  json v = json::array();
  for (const auto& s : m.verdicts) {
    v.push_back({{"verdict_id", s.verdict_id}, {"time", s.time}, {"pass", s.pass}, {"offline", s.offline},
                 {"failures", s.failures}, {"summary", s.summary}});
  }
  return Dump({{"verdicts", std::move(v)}});
}

StatusOr<VerdictHistory> DecodeVerdictHistory(std::string_view text) {
  EW_ASSIGN_OR_RETURN(json j, ParseObject(text, "verdict_history", kMaxBodyBytes));
  ObjectReader r(j, "verdict_history");
  EW_RETURN_IF_ERROR(r.OnlyKeys({"verdicts"}));
  EW_ASSIGN_OR_RETURN(const json* v, r.Array("verdicts", 100000));
  VerdictHistory m;
  for (size_t i = 0; i < v->size(); ++i) {
    const std::string path = "verdict_history.verdicts[" + std::to_string(i) + "]";
    if (!(*v)[i].is_object()) return FieldError(path, "expected an object");
    ObjectReader e((*v)[i], path);
    EW_RETURN_IF_ERROR(e.OnlyKeys({"verdict_id", "time", "pass", "offline", "failures", "summary"}));
    VerdictSummary s;
    EW_ASSIGN_OR_RETURN(s.verdict_id, IdField(e, "verdict_id"));
    EW_ASSIGN_OR_RETURN(s.time, e.Int("time"));
    EW_ASSIGN_OR_RETURN(s.pass, e.Bool("pass"));
    EW_ASSIGN_OR_RETURN(s.offline, e.Bool("offline"));
    EW_ASSIGN_OR_RETURN(s.failures, e.Uint("failures"));
    EW_ASSIGN_OR_RETURN(s.summary, e.String("summary", 8192));
    m.verdicts.push_back(std::move(s));
  }
  return m;
}

// --- events -------------------------------------------------------------------

std::string EncodeEventBatch(const EventBatch& m) {
  json msgs = json::array();
  for (const auto& e : m.messages) {
    msgs.push_back({{"id", e.id}, {"seq", e.seq}, {"priority", e.priority}, {"sealed", Base64Encode(e.sealed)}});
  }
  return Dump({{"messages", std::move(msgs)}});
}

StatusOr<EventBatch> DecodeEventBatch(std::string_view text) {
  EW_ASSIGN_OR_RETURN(json j, ParseObject(text, "event_batch", kMaxBodyBytes));
  ObjectReader r(j, "event_batch");
  EW_RETURN_IF_ERROR(r.OnlyKeys({"messages"}));
  EW_ASSIGN_OR_RETURN(const json* msgs, r.Array("messages", kMaxEventsPerBatch));
  EventBatch m;
  m.messages.reserve(msgs->size());
  for (size_t i = 0; i < msgs->size(); ++i) {
    const std::string path = "event_batch.messages[" + std::to_string(i) + "]";
    if (!(*msgs)[i].is_object()) return FieldError(path, "expected an object");
    ObjectReader e((*msgs)[i], path);
    EW_RETURN_IF_ERROR(e.OnlyKeys({"id", "seq", "priority", "sealed"}));
    EventMessage msg;
    EW_ASSIGN_OR_RETURN(msg.id, IdField(e, "id"));
    EW_ASSIGN_OR_RETURN(msg.seq, e.Uint("seq"));
    EW_ASSIGN_OR_RETURN(int64_t prio, e.Int("priority"));
    if (prio < 0 || prio > 2) return FieldError(e.Path("priority"), "expected 0 (attestation), 1 (event) or 2 (telemetry)");
    msg.priority = static_cast<int>(prio);
    EW_ASSIGN_OR_RETURN(msg.sealed, e.Base64("sealed", prio == 0 ? kMaxSealedReportBytes : kMaxSealedEventBytes));
    m.messages.push_back(std::move(msg));
  }
  return m;
}

std::string EncodeEventAck(const EventAck& m) {
  json rej = json::array();
  for (const auto& x : m.rejected) rej.push_back({{"id", x.id}, {"reason", x.reason}});
  return Dump({{"accepted_ids", m.accepted_ids}, {"duplicate_ids", m.duplicate_ids}, {"rejected", std::move(rej)}});
}

StatusOr<EventAck> DecodeEventAck(std::string_view text) {
  EW_ASSIGN_OR_RETURN(json j, ParseObject(text, "event_ack", kMaxBodyBytes));
  ObjectReader r(j, "event_ack");
  EW_RETURN_IF_ERROR(r.OnlyKeys({"accepted_ids", "duplicate_ids", "rejected"}));
  EventAck m;
  for (const char* key : {"accepted_ids", "duplicate_ids"}) {
    EW_ASSIGN_OR_RETURN(const json* ids, r.Array(key, kMaxEventsPerBatch));
    auto& out = std::string_view(key) == "accepted_ids" ? m.accepted_ids : m.duplicate_ids;
    for (size_t i = 0; i < ids->size(); ++i) {
      const json& id = (*ids)[i];
      const std::string path = r.Path(key) + "[" + std::to_string(i) + "]";
      if (!id.is_string()) return FieldError(path, "expected a string");
      EW_RETURN_IF_ERROR(ValidateNodeId(id.get_ref<const std::string&>(), path));
      out.push_back(id.get<std::string>());
    }
  }
  EW_ASSIGN_OR_RETURN(const json* rej, r.Array("rejected", kMaxEventsPerBatch, false));
  if (rej != nullptr) {
    for (size_t i = 0; i < rej->size(); ++i) {
      const std::string path = r.Path("rejected") + "[" + std::to_string(i) + "]";
      if (!(*rej)[i].is_object()) return FieldError(path, "expected an object");
      ObjectReader e((*rej)[i], path);
      EW_RETURN_IF_ERROR(e.OnlyKeys({"id", "reason"}));
      EventRejection x;
      EW_ASSIGN_OR_RETURN(x.id, IdField(e, "id"));
      EW_ASSIGN_OR_RETURN(x.reason, e.String("reason", 4096));
      m.rejected.push_back(std::move(x));
    }
  }
  return m;
}

// --- bundles, info, errors --------------------------------------------------------

std::string EncodeBundleInfo(const BundleInfo& m) {
  return Dump({{"version", m.version}, {"sha256", m.sha256}, {"size", m.size}});
}

StatusOr<BundleInfo> DecodeBundleInfo(std::string_view text) {
  EW_ASSIGN_OR_RETURN(json j, ParseObject(text, "bundle_info", kMaxBodyBytes));
  ObjectReader r(j, "bundle_info");
  EW_RETURN_IF_ERROR(r.OnlyKeys({"version", "sha256", "size"}));
  BundleInfo m;
  EW_ASSIGN_OR_RETURN(m.version, r.Uint("version"));
  EW_ASSIGN_OR_RETURN(m.sha256, r.String("sha256", 64));
  auto hex = HexDecode(m.sha256);
  if (!hex.ok() || hex->size() != 32) return FieldError(r.Path("sha256"), "expected 64 hex digits");
  EW_ASSIGN_OR_RETURN(m.size, r.Uint("size"));
  return m;
}

std::string EncodeVerifierInfo(const VerifierInfo& m) {
  return Dump({{"api_version", m.api_version},
               {"x25519_public_key", Base64Encode(m.x25519_public_key)},
               {"node_ca_pem", m.node_ca_pem}});
}

StatusOr<VerifierInfo> DecodeVerifierInfo(std::string_view text) {
  EW_ASSIGN_OR_RETURN(json j, ParseObject(text, "verifier_info", kMaxBodyBytes));
  ObjectReader r(j, "verifier_info");
  EW_RETURN_IF_ERROR(r.OnlyKeys({"api_version", "x25519_public_key", "node_ca_pem"}));
  VerifierInfo m;
  EW_ASSIGN_OR_RETURN(int64_t v, r.Int("api_version"));
  if (v != kApiVersion) return FieldError(r.Path("api_version"), "unsupported API version " + std::to_string(v));
  EW_ASSIGN_OR_RETURN(m.x25519_public_key, r.Base64("x25519_public_key", 32));
  if (m.x25519_public_key.size() != 32) return FieldError(r.Path("x25519_public_key"), "must be 32 bytes");
  EW_ASSIGN_OR_RETURN(m.node_ca_pem, r.String("node_ca_pem", kMaxPemBytes));
  return m;
}

std::string EncodeErrorResponse(const ErrorResponse& m) {
  json j = {{"error", m.error}};
  if (m.full_log_required) j["full_log_required"] = true;
  if (!m.code.empty()) j["code"] = m.code;
  return Dump(j);
}

StatusOr<ErrorResponse> DecodeErrorResponse(std::string_view text) {
  EW_ASSIGN_OR_RETURN(json j, ParseObject(text, "error_response", kMaxBodyBytes));
  ObjectReader r(j, "error_response");
  EW_RETURN_IF_ERROR(r.OnlyKeys({"error", "full_log_required", "code"}));
  ErrorResponse m;
  EW_ASSIGN_OR_RETURN(m.error, r.String("error", 65536));
  EW_ASSIGN_OR_RETURN(m.full_log_required, r.Bool("full_log_required", false));
  EW_ASSIGN_OR_RETURN(m.code, r.String("code", 64, false));
  for (char c : m.code) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return FieldError(r.Path("code"), "characters allowed are a-z 0-9 _");
    }
  }
  return m;
}

namespace {

// Printable ASCII except the backslash as is; everything else as \xNN, so
// a path can't end a log line, forge a field or carry terminal escapes.
void AppendEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(ch);
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
}

std::string EscapedPath(std::string_view path) {
  std::string out;
  AppendEscaped(out, path);
  if (out.size() <= kMaxReasonPathBytes) return out;
  // Head and tail: the directory says where, the file name says what. Cut
  // on the escaped text, but never inside a \xNN escape.
  const size_t keep = (kMaxReasonPathBytes - 3) / 2;
  auto back_off = [&](size_t at) {
    // `at` is a cut position; move it left off any escape it would split.
    for (size_t k = 1; k <= 3 && k <= at; ++k) {
      if (out[at - k] == '\\') return at - k;
    }
    return at;
  };
  auto forward = [&](size_t at) {
    for (size_t k = 1; k <= 3 && k <= at; ++k) {
      if (out[at - k] == '\\') return at - k + 4;
    }
    return at;
  };
  const size_t head = back_off(keep);
  const size_t tail_from = forward(out.size() - keep);
  return out.substr(0, head) + "..." + out.substr(tail_from);
}

// "sha256:0123456789ab..." from "sha256:<hex>", or from several joined by
// " | "; anything else escaped and cut.
std::string DigestPrefix(std::string_view digests) {
  std::string out;
  size_t shown = 0;
  while (!digests.empty()) {
    const size_t bar = digests.find(" | ");
    std::string_view one = digests.substr(0, bar);
    digests = bar == std::string_view::npos ? std::string_view() : digests.substr(bar + 3);
    if (++shown > 3) {
      out += " | ...";
      break;
    }
    if (!out.empty()) out += " | ";
    const size_t colon = one.find(':');
    const std::string_view alg = colon == std::string_view::npos ? std::string_view() : one.substr(0, colon);
    std::string_view hex = colon == std::string_view::npos ? one : one.substr(colon + 1);
    if (alg.size() > 24) return "(unreadable digest)";
    AppendEscaped(out, alg);
    if (!alg.empty()) out += ":";
    if (hex.size() > 12) {
      AppendEscaped(out, hex.substr(0, 12));
      out += "...";
    } else {
      AppendEscaped(out, hex);
    }
  }
  return out;
}

}  // namespace

std::string FindingReason(const attest::Finding& f) {
  std::string out;
  AppendEscaped(out, f.check.substr(0, 64));
  out += ": ";
  if (!f.path.empty()) out += EscapedPath(f.path) + ": ";
  AppendEscaped(out, f.message);
  if (!f.path.empty() && (!f.expected.empty() || !f.actual.empty())) {
    out += " (";
    if (!f.expected.empty()) out += "expected " + DigestPrefix(f.expected);
    if (!f.expected.empty() && !f.actual.empty()) out += ", ";
    if (!f.actual.empty()) out += "got " + DigestPrefix(f.actual);
    out += ")";
  }
  if (out.size() > kMaxReasonBytes) {
    size_t cut = kMaxReasonBytes - 3;
    for (size_t k = 1; k <= 3; ++k) {
      if (out[cut - k] == '\\') {
        cut -= k;
        break;
      }
    }
    out.resize(cut);
    out += "...";
  }
  return out;
}

}  // namespace edgeward::cloud
