#include "edgeward/bundle/root.h"

#include <set>

#include "edgeward/bundle/time.h"
#include "internal/canonical.h"
#include "internal/sig_input.h"

namespace edgeward::bundle {
namespace {

using internal::Field;
using internal::Index;
using internal::Json;

Status ValidateContent(const RootContent& c, const internal::Reader& r) {
  if (c.version == 0) return r.Error("signed.version", "must be at least 1");
  auto check_ids = [&](const std::vector<std::string>& ids, const std::string& path) -> Status {
    std::set<std::string> seen;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!seen.insert(ids[i]).second) return r.Error(Index(path, i), "duplicate key id " + ids[i]);
      if (!c.keys.contains(ids[i])) return r.Error(Index(path, i), "key " + ids[i] + " is not in signed.keys");
    }
    return Status::Ok();
  };
  if (c.root_keys.empty() || c.root_keys.size() > kMaxRootKeys) {
    return r.Error("signed.root.keys", "must name 1.." + std::to_string(kMaxRootKeys) + " keys");
  }
  EW_RETURN_IF_ERROR(check_ids(c.root_keys, "signed.root.keys"));
  if (c.root_threshold == 0 || c.root_threshold > c.root_keys.size()) {
    return r.Error("signed.root.threshold", "must be 1.." + std::to_string(c.root_keys.size()));
  }
  if (c.policy_keys.empty() || c.policy_keys.size() > kMaxRootKeys) {
    return r.Error("signed.policy.keys", "must name 1.." + std::to_string(kMaxRootKeys) + " keys");
  }
  std::vector<std::string> policy_ids;
  for (const PolicyKey& k : c.policy_keys) policy_ids.push_back(k.id);
  EW_RETURN_IF_ERROR(check_ids(policy_ids, "signed.policy.keys"));
  if (c.policy_threshold == 0 || c.policy_threshold > c.policy_keys.size()) {
    return r.Error("signed.policy.threshold", "must be 1.." + std::to_string(c.policy_keys.size()));
  }
  std::set<std::string> used(c.root_keys.begin(), c.root_keys.end());
  used.insert(policy_ids.begin(), policy_ids.end());
  for (const auto& [id, key] : c.keys) {
    if (!used.contains(id)) return r.Error("signed.keys." + id, "key is in no role");
    if (key.KeyId() != id) return r.Error("signed.keys." + id, "key id does not match the key (it is " + key.KeyId() + ")");
  }
  return Status::Ok();
}

Json ContentToJson(const RootContent& c) {
  Json keys = Json::object();
  for (const auto& [id, key] : c.keys) {
    keys[id] = Json{{"algorithm", "ed25519"}, {"public", Base64Encode(key.bytes)}};
  }
  Json policy_keys = Json::array();
  for (const PolicyKey& k : c.policy_keys) policy_keys.push_back(Json{{"id", k.id}, {"expires", FormatRfc3339(k.expires)}});
  return Json{{"type", "edgeward-root"},
              {"version", c.version},
              {"expires", FormatRfc3339(c.expires)},
              {"root", Json{{"threshold", c.root_threshold}, {"keys", c.root_keys}}},
              {"policy", Json{{"threshold", c.policy_threshold}, {"keys", policy_keys}}},
              {"keys", keys}};
}

StatusOr<RootContent> ReadContent(const Json& s, const internal::Reader& r) {
  const std::string p = "signed";
  EW_RETURN_IF_ERROR(r.ExactKeys(s, p, {"type", "version", "expires", "root", "policy", "keys"}));
  EW_ASSIGN_OR_RETURN(std::string type, r.String(s, p, "type", 64));
  if (type != "edgeward-root") return r.Error("signed.type", "must be \"edgeward-root\"");
  RootContent c;
  EW_ASSIGN_OR_RETURN(c.version, r.Uint(s, p, "version"));
  EW_ASSIGN_OR_RETURN(c.expires, r.Time(s, p, "expires"));

  EW_ASSIGN_OR_RETURN(const Json* root, r.Object(s, p, "root"));
  EW_RETURN_IF_ERROR(r.ExactKeys(*root, "signed.root", {"threshold", "keys"}));
  EW_ASSIGN_OR_RETURN(uint64_t rt, r.Uint(*root, "signed.root", "threshold"));
  EW_ASSIGN_OR_RETURN(const Json* rkeys, r.Array(*root, "signed.root", "keys", kMaxRootKeys));
  for (size_t i = 0; i < rkeys->size(); ++i) {
    EW_ASSIGN_OR_RETURN(std::string id, r.StringValue((*rkeys)[i], Index("signed.root.keys", i), 64));
    c.root_keys.push_back(std::move(id));
  }

  EW_ASSIGN_OR_RETURN(const Json* pol, r.Object(s, p, "policy"));
  EW_RETURN_IF_ERROR(r.ExactKeys(*pol, "signed.policy", {"threshold", "keys"}));
  EW_ASSIGN_OR_RETURN(uint64_t pt, r.Uint(*pol, "signed.policy", "threshold"));
  EW_ASSIGN_OR_RETURN(const Json* pkeys, r.Array(*pol, "signed.policy", "keys", kMaxRootKeys));
  for (size_t i = 0; i < pkeys->size(); ++i) {
    std::string at = Index("signed.policy.keys", i);
    EW_RETURN_IF_ERROR(r.ExactKeys((*pkeys)[i], at, {"id", "expires"}));
    PolicyKey k;
    EW_ASSIGN_OR_RETURN(k.id, r.String((*pkeys)[i], at, "id", 64));
    EW_ASSIGN_OR_RETURN(k.expires, r.Time((*pkeys)[i], at, "expires"));
    c.policy_keys.push_back(std::move(k));
  }
  // Thresholds beyond 32 bits are nonsense; clamp so the range check below names them.
  c.root_threshold = static_cast<uint32_t>(std::min<uint64_t>(rt, UINT32_MAX));
  c.policy_threshold = static_cast<uint32_t>(std::min<uint64_t>(pt, UINT32_MAX));

  EW_ASSIGN_OR_RETURN(const Json* keys, r.Object(s, p, "keys"));
  if (keys->size() > 2 * kMaxRootKeys) return r.Error("signed.keys", "too many keys");
  for (const auto& [id, entry] : keys->items()) {
    std::string at = "signed.keys." + id;
    if (!internal::IsKeyIdSyntax(id)) return r.Error(at, "not a key id (16 lowercase hex digits)");
    EW_RETURN_IF_ERROR(r.ExactKeys(entry, at, {"algorithm", "public"}));
    EW_ASSIGN_OR_RETURN(std::string alg, r.String(entry, at, "algorithm", 32));
    if (alg != "ed25519") return r.Error(Field(at, "algorithm"), "must be \"ed25519\"");
    EW_ASSIGN_OR_RETURN(std::string b64, r.String(entry, at, "public", 64));
    auto raw = Base64Decode(b64);
    if (!raw.ok()) return r.Error(Field(at, "public"), raw.status().message());
    auto key = crypto::Ed25519PublicKey::FromBytes(*raw);
    if (!key.ok()) return r.Error(Field(at, "public"), key.status().message());
    c.keys.emplace(id, *key);
  }
  EW_RETURN_IF_ERROR(ValidateContent(c, r));
  return c;
}

}  // namespace

const PolicyKey* RootDocument::FindPolicyKey(std::string_view id) const {
  for (const PolicyKey& k : content.policy_keys) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

StatusOr<RootDocument> ParseRootDocument(std::string_view text, const std::string& file_name) {
  if (text.size() > kMaxRootBytes) {
    return InvalidArgument(file_name + ": " + std::to_string(text.size()) + " bytes (a root document is at most " +
                           std::to_string(kMaxRootBytes) + ")");
  }
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  EW_ASSIGN_OR_RETURN(Json j, internal::ParseCanonical(text, file_name));
  internal::Reader r(file_name);
  EW_RETURN_IF_ERROR(r.ExactKeys(j, "", {"signatures", "signed"}));
  RootDocument doc;
  EW_ASSIGN_OR_RETURN(doc.content, ReadContent(j["signed"], r));
  EW_ASSIGN_OR_RETURN(doc.signed_bytes, internal::Serialize(j["signed"]));
  EW_ASSIGN_OR_RETURN(doc.signatures, internal::ReadSignatures(r, j["signatures"], "signatures"));
  return doc;
}

StatusOr<RootDocument> MakeRootDocument(const RootContent& content) {
  internal::Reader r("root document");
  EW_RETURN_IF_ERROR(ValidateContent(content, r));
  RootDocument doc;
  doc.content = content;
  EW_ASSIGN_OR_RETURN(doc.signed_bytes, internal::Serialize(ContentToJson(content)));
  return doc;
}

std::string SerializeRootDocument(const RootDocument& doc) {
  // signed_bytes is canonical by construction; splice it in rather than
  // re-serializing, so the file carries exactly the bytes that were signed.
  Json sigs = internal::SignaturesToJson(doc.signatures);
  return "{\"signatures\":" + sigs.dump() + ",\"signed\":" + doc.signed_bytes + "}\n";
}

Status SignRootDocument(RootDocument& doc, const crypto::Ed25519SigningKey& key) {
  std::string id = key.KeyId();
  bool is_root = false;
  for (const std::string& k : doc.content.root_keys) is_root = is_root || k == id;
  if (!is_root) return PermissionDenied("key " + id + " is not a root key of this root document");
  for (const Signature& s : doc.signatures) {
    if (s.key_id == id) return AlreadyExists("root document already signed by key " + id);
  }
  if (doc.signatures.size() >= kMaxSignatures) return ResourceExhausted("root document has too many signatures");
  std::string input = internal::SignatureInput(internal::kRootDomain, id, doc.signed_bytes);
  crypto::Ed25519Signature sig = key.Sign(AsBytes(input));
  doc.signatures.push_back(Signature{id, Bytes(sig.begin(), sig.end())});
  return Status::Ok();
}

Status CheckRootSignatures(const RootDocument& doc, const RootContent& signers, std::string_view role) {
  std::set<std::string> valid;
  std::string problems;
  for (const Signature& s : doc.signatures) {
    bool is_root = false;
    for (const std::string& k : signers.root_keys) is_root = is_root || k == s.key_id;
    if (!is_root || valid.contains(s.key_id)) continue;
    auto key = signers.keys.find(s.key_id);
    if (key == signers.keys.end()) continue;
    std::string input = internal::SignatureInput(internal::kRootDomain, s.key_id, doc.signed_bytes);
    if (crypto::Ed25519Verify(key->second, AsBytes(input), s.sig)) {
      valid.insert(s.key_id);
    } else {
      problems += "; bad signature by key " + s.key_id;
    }
  }
  if (valid.size() >= signers.root_threshold) return Status::Ok();
  return PermissionDenied(std::to_string(valid.size()) + " of " + std::to_string(signers.root_threshold) +
                          " required root signatures by the " + std::string(role) + " root keys" + problems);
}

StatusOr<RootDocument> LoadRootDocument(std::string_view text, const std::string& file_name) {
  EW_ASSIGN_OR_RETURN(RootDocument doc, ParseRootDocument(text, file_name));
  Status s = CheckRootSignatures(doc, doc.content, "document's own");
  if (!s.ok()) return s.WithContext(file_name);
  return doc;
}

Status VerifyRootUpdate(const RootDocument& current, const RootDocument& next, int64_t trusted_now) {
  if (next.content.version <= current.content.version) {
    return PermissionDenied("root version " + std::to_string(next.content.version) +
                            " is not greater than the trusted root's version " +
                            std::to_string(current.content.version));
  }
  EW_RETURN_IF_ERROR(CheckRootSignatures(next, current.content, "currently trusted"));
  EW_RETURN_IF_ERROR(CheckRootSignatures(next, next.content, "new document's own"));
  if (next.content.expires <= trusted_now) {
    return FailedPrecondition("root version " + std::to_string(next.content.version) + " expired at " +
                              FormatRfc3339(next.content.expires) + " (trusted time " +
                              FormatRfc3339(trusted_now) + ")");
  }
  return Status::Ok();
}

}  // namespace edgeward::bundle
