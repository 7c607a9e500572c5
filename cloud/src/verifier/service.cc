// Service: construction, registration and activation, and the node views.
#include <openssl/crypto.h>

#include "edgeward/attest/credential.h"
#include "edgeward/attest/tpm_wire.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/file.h"
#include "edgeward/crypto/hash.h"
#include "edgeward/crypto/random.h"
#include "edgeward/bundle/root.h"
#include "service_internal.h"

#include <dirent.h>

namespace edgeward::cloud {

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

StatusOr<std::string> RandomId() {
  EW_ASSIGN_OR_RETURN(auto b, crypto::RandomBytes(16));
  return HexEncode(b);
}

HttpReply Json(int status, std::string body) {
  HttpReply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpReply Error(int status, std::string_view reason) {
  return Json(status, EncodeErrorResponse({std::string(reason)}));
}

HttpReply ErrorWithCode(int status, std::string_view reason, std::string_view code) {
  ErrorResponse e;
  e.error = std::string(reason);
  e.code = std::string(code);
  return Json(status, EncodeErrorResponse(e));
}

std::optional<HttpReply> RefuseInactiveNode(const std::optional<NodeRecord>& node, const std::string& node_id) {
  // Distinct codes: an unknown node may register again (the verifier lost
  // it), a revoked one must not (docs/api.md "Errors").
  if (!node) return ErrorWithCode(404, "node '" + node_id + "' is not registered", kErrorUnknownNode);
  if (node->state == NodeState::kRevoked) {
    return ErrorWithCode(403, "node '" + node_id + "' is revoked", kErrorRevoked);
  }
  if (node->state != NodeState::kActive) return Error(403, "node '" + node_id + "' is not active");
  return std::nullopt;
}

HttpReply ErrorFromStatus(const Status& s) {
  int code = 500;
  switch (s.code()) {
    case StatusCode::kInvalidArgument: case StatusCode::kDataLoss: case StatusCode::kOutOfRange: code = 400; break;
    case StatusCode::kPermissionDenied: code = 403; break;
    case StatusCode::kNotFound: code = 404; break;
    case StatusCode::kAlreadyExists: code = 409; break;
    case StatusCode::kFailedPrecondition: code = 409; break;
    case StatusCode::kResourceExhausted: code = 413; break;
    case StatusCode::kUnavailable: code = 503; break;
    default: code = 500;
  }
  // Internal errors may name paths and library state: don't hand them out.
  return Error(code, code == 500 ? "internal error" : s.message());
}

std::string NodeGroup(const NodeRecord& node) {
  auto it = node.labels.find("group");
  return it == node.labels.end() ? std::string("default") : it->second;
}

bool Caller::is_admin() const { return cert_cn && cert_cn->starts_with(kAdminCnPrefix); }

StatusOr<std::shared_ptr<const attest::ReferenceValues>> Service::Impl::Reference(const std::string& group) {
  EW_ASSIGN_OR_RETURN(auto yaml, storage->GetReference(group));
  if (!yaml) return std::shared_ptr<const attest::ReferenceValues>();
  {
    std::lock_guard lock(ref_mu);
    auto it = refs.find(group);
    if (it != refs.end() && it->second.first == *yaml) return it->second.second;
  }
  EW_ASSIGN_OR_RETURN(auto ref, attest::ParseReferenceValues(*yaml, "reference values for group '" + group + "'"));
  auto shared = std::make_shared<const attest::ReferenceValues>(std::move(ref));
  std::lock_guard lock(ref_mu);
  refs[group] = {*yaml, shared};
  return shared;
}

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Service::~Service() = default;
Storage& Service::storage() { return *impl_->storage; }
const VerifierConfig& Service::config() const { return impl_->config; }

StatusOr<std::unique_ptr<Service>> Service::Create(const VerifierConfig& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  EW_ASSIGN_OR_RETURN(impl->storage, OpenSqliteStorage(config.database_path, config.sync_full));
  EW_ASSIGN_OR_RETURN(std::string ca_cert, ReadFileToString(config.node_ca_cert_path, kMaxPemBytes));
  EW_ASSIGN_OR_RETURN(std::string ca_key, ReadFileToString(config.node_ca_key_path, kMaxPemBytes));
  auto ca = NodeCa::FromPem(ca_cert, ca_key);
  crypto::Cleanse(ca_key.data(), ca_key.size());
  if (!ca.ok()) return ca.status().WithContext(config.node_ca_cert_path);
  impl->ca.emplace(std::move(ca).value());
  EW_ASSIGN_OR_RETURN(auto ek_cas, crypto::LoadCertificateBundle(config.ek_ca_bundle_path));
  bool have_root = false;
  for (auto& c : ek_cas) {
    have_root = have_root || c.Subject() == c.Issuer();
    // Every certificate of the configured bundle goes into the trust store:
    // crypto::VerifyCertificateChain frees the X509s of its `intermediates`
    // argument (its stack's deleter pops with X509_free although it only
    // borrows them), so passing them there is a use-after-free on the next
    // call. Without X509_V_FLAG_PARTIAL_CHAIN OpenSSL still builds the chain
    // up to the self-signed root, so the trust decision is the same.
    impl->ek_trusted.push_back(std::move(c));
  }
  if (!have_root) {
    return InvalidArgument(config.ek_ca_bundle_path + ": no self-signed (root) certificate to trust");
  }
  EW_ASSIGN_OR_RETURN(std::string seal_secret, ReadFileToString(config.x25519_key_path, 64));
  auto seal = X25519KeyPair::FromSecret(AsBytes(seal_secret));
  crypto::Cleanse(seal_secret.data(), seal_secret.size());
  if (!seal.ok()) return seal.status().WithContext(config.x25519_key_path);
  impl->seal_key.emplace(std::move(seal).value());
  if (!config.bundle_root_path.empty()) {
    EW_ASSIGN_OR_RETURN(std::string root_text, ReadFileToString(config.bundle_root_path, 1u << 20));
    EW_ASSIGN_OR_RETURN(auto root, bundle::LoadRootDocument(root_text, config.bundle_root_path));
    impl->bundle_root.emplace(std::move(root));
  }
  if (!config.reference_dir.empty()) {
    DIR* d = opendir(config.reference_dir.c_str());
    if (d == nullptr) return EW_ERRNO("opendir", config.reference_dir);
    std::unique_ptr<DIR, int (*)(DIR*)> dir(d, closedir);
    std::vector<std::string> files;
    while (dirent* e = readdir(dir.get())) {
      std::string name = e->d_name;
      if (name.size() > 5 && name.ends_with(".yaml")) files.push_back(name);
    }
    for (const auto& name : files) {
      const std::string path = config.reference_dir + "/" + name;
      const std::string group = name.substr(0, name.size() - 5);
      EW_RETURN_IF_ERROR(ValidateNodeId(group, path + ": group name"));
      EW_ASSIGN_OR_RETURN(std::string yaml, ReadFileToString(path, attest::kMaxReferenceBytes));
      EW_RETURN_IF_ERROR(attest::ParseReferenceValues(yaml, path).status());
      EW_RETURN_IF_ERROR(impl->storage->PutReference(group, yaml));
    }
  }
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

HttpReply Service::VerifierInfo() const {
  cloud::VerifierInfo info;
  const auto& pk = impl_->seal_key->public_key();
  info.x25519_public_key.assign(pk.begin(), pk.end());
  info.node_ca_pem = impl_->ca->cert_pem();
  return Json(200, EncodeVerifierInfo(info));
}

namespace {

// The checks on the TPM identity a node presents. Problems → kPermissionDenied
// (an EK we don't trust) or kInvalidArgument (structures that don't decode).
Status CheckTpmIdentity(const Service::Impl& impl, const RegisterRequest& req) {
  auto cert = crypto::Certificate::FromPem(req.ek_cert_pem);
  if (!cert.ok()) return cert.status().WithContext("register.ek_cert_pem");
  Status chain = crypto::VerifyCertificateChain(*cert, /*intermediates=*/{}, impl.ek_trusted,
                                                std::chrono::system_clock::now(), {.tpm_endorsement_key = true});
  if (!chain.ok()) return PermissionDenied("ek_certificate: not issued by a trusted TPM manufacturer CA: " + chain.message());
  auto ek = attest::DecodeTpm2bPublic(req.ek_public);
  if (!ek.ok()) return ek.status().WithContext("register.ek_public");
  auto ek_key = attest::PublicKeyOf(*ek);
  if (!ek_key.ok()) return ek_key.status().WithContext("register.ek_public");
  auto cert_key = cert->GetPublicKey();
  if (!cert_key.ok()) return cert_key.status().WithContext("register.ek_cert_pem");
  if (!ek_key->Equals(*cert_key)) {
    return PermissionDenied("ek_public: the EK public key does not match the EK certificate's key");
  }
  auto ak = attest::DecodeTpm2bPublic(req.ak_public);
  if (!ak.ok()) return ak.status().WithContext("register.ak_public");
  using namespace attest::tpma_object;
  const uint32_t need = kFixedTpm | kFixedParent | kSensitiveDataOrigin;
  if (!ak->is_restricted_signing_key() || (ak->object_attributes & need) != need) {
    return InvalidArgument("register.ak_public: the AK must be a restricted signing key with fixedTPM, fixedParent "
                           "and sensitiveDataOrigin");
  }
  auto name = attest::ComputeName(*ak);
  if (!name.ok()) return name.status().WithContext("register.ak_public");
  if (*name != req.ak_name) return InvalidArgument("register.ak_name: does not match the name computed from ak_public");
  auto signing = crypto::Ed25519PublicKey::FromBytes(req.node_signing_key);
  if (!signing.ok()) return signing.status().WithContext("register.node_signing_key");
  return Status::Ok();
}

}  // namespace

HttpReply Service::Register(std::string_view body) {
  auto req = DecodeRegisterRequest(body);
  if (!req.ok()) return ErrorFromStatus(req.status());
  if (Status s = CheckTpmIdentity(*impl_, *req); !s.ok()) return ErrorFromStatus(s);
  auto ek = attest::EkForCredentialFromTpm2bPublic(req->ek_public);
  if (!ek.ok()) return ErrorFromStatus(ek.status().WithContext("register.ek_public"));
  const std::string ek_hash = HexEncode(crypto::Digest(crypto::HashAlg::kSha256, req->ek_public));
  const int64_t now = NowSeconds();
  // Same EK again (a reinstalled node) is allowed; another EK is not, and
  // a revoked node stays revoked.
  if (Status s = impl_->storage->ReserveNode(req->node_id, ek_hash, now); !s.ok()) {
    if (s.code() == StatusCode::kPermissionDenied) return ErrorWithCode(403, s.message(), kErrorRevoked);
    return ErrorFromStatus(s);
  }
  auto secret = crypto::RandomBytes(32);
  if (!secret.ok()) return ErrorFromStatus(secret.status());
  auto cred = attest::MakeCredential(*ek, req->ak_name, *secret);
  if (!cred.ok()) return ErrorFromStatus(cred.status());
  auto id = RandomId();
  if (!id.ok()) return ErrorFromStatus(id.status());
  RegistrationRecord rec{*id,
                         req->node_id,
                         crypto::Digest(crypto::HashAlg::kSha256, *secret),
                         now + impl_->config.registration_lifetime.count(),
                         ek_hash,
                         req->ak_public,
                         req->ak_name,
                         req->node_signing_key,
                         req->labels};
  if (Status s = impl_->storage->PutRegistration(rec); !s.ok()) return ErrorFromStatus(s);
  RegisterChallenge out{*id, cred->credential_blob, cred->encrypted_secret, rec.expires_at};
  return Json(201, EncodeRegisterChallenge(out));
}

HttpReply Service::Activate(std::string_view body) {
  auto req = DecodeActivateRequest(body);
  if (!req.ok()) return ErrorFromStatus(req.status());
  const Bytes presented = crypto::Digest(crypto::HashAlg::kSha256, req->secret);
  crypto::Cleanse(req->secret.data(), req->secret.size());
  const int64_t now = NowSeconds();
  auto taken = impl_->storage->TakeRegistration(req->registration_id, [&](const RegistrationRecord& r) -> Status {
    if (r.expires_at < now) return FailedPrecondition("registration expired; register again");
    // Constant time: the comparison must not reveal how much matched.
    if (r.secret_hash.size() != presented.size() ||
        CRYPTO_memcmp(r.secret_hash.data(), presented.data(), presented.size()) != 0) {
      return PermissionDenied("activation secret does not match: the AK is not in the TPM that holds this EK");
    }
    return Status::Ok();
  });
  if (!taken.ok()) {
    if (taken.status().code() == StatusCode::kPermissionDenied && taken.status().message().find("revoked") == 0) {
      return ErrorWithCode(403, taken.status().message(), kErrorRevoked);
    }
    return ErrorFromStatus(taken.status());
  }
  auto node = impl_->storage->GetNode(taken->node_id);
  if (!node.ok() || !node->has_value()) return ErrorFromStatus(node.ok() ? Internal("node vanished") : node.status());
  NodeStatus st{(*node)->id, std::string(NodeStateName((*node)->state)), (*node)->labels, (*node)->registered_at,
                (*node)->last_verdict_at, (*node)->last_pass, (*node)->cert_expires_at};
  return Json(200, EncodeNodeStatus(st));
}

namespace {
NodeStatus ToStatus(const NodeRecord& n) {
  return {n.id, std::string(NodeStateName(n.state)), n.labels, n.registered_at, n.last_verdict_at, n.last_pass,
          n.cert_expires_at};
}
}  // namespace

HttpReply Service::GetNode(std::string_view node_id, const Caller& caller) {
  if (!caller.cert_cn) return Error(401, "a client certificate is required");
  if (!caller.is_node(node_id) && !caller.is_admin()) return Error(403, "a node may only read its own status");
  auto node = impl_->storage->GetNode(std::string(node_id));
  if (!node.ok()) return ErrorFromStatus(node.status());
  if (!node->has_value()) return Error(404, "node '" + std::string(node_id) + "' is not registered");
  return Json(200, EncodeNodeStatus(ToStatus(**node)));
}

HttpReply Service::ListNodes(const Caller& caller) {
  if (!caller.cert_cn) return Error(401, "a client certificate is required");
  if (!caller.is_admin()) return Error(403, "admin certificate required");
  auto nodes = impl_->storage->ListNodes();
  if (!nodes.ok()) return ErrorFromStatus(nodes.status());
  NodeList out;
  for (const auto& n : *nodes) out.nodes.push_back(ToStatus(n));
  return Json(200, EncodeNodeList(out));
}

HttpReply Service::RevokeNode(std::string_view node_id, const Caller& caller) {
  if (!caller.cert_cn) return Error(401, "a client certificate is required");
  if (!caller.is_admin()) return Error(403, "admin certificate required");
  if (Status s = impl_->storage->SetNodeState(std::string(node_id), NodeState::kRevoked); !s.ok()) {
    return ErrorFromStatus(s);
  }
  return GetNode(node_id, caller);
}

HttpReply Service::ListVerdicts(std::string_view node_id, const Caller& caller) {
  if (!caller.cert_cn) return Error(401, "a client certificate is required");
  if (!caller.is_node(node_id) && !caller.is_admin()) return Error(403, "a node may only read its own verdicts");
  auto v = impl_->storage->ListVerdicts(std::string(node_id), 100);
  if (!v.ok()) return ErrorFromStatus(v.status());
  VerdictHistory out;
  for (const auto& r : *v) out.verdicts.push_back({r.id, r.time, r.pass, r.offline, r.failures, r.summary});
  return Json(200, EncodeVerdictHistory(out));
}

HttpReply Service::PutReference(std::string_view group, std::string_view yaml, const Caller& caller) {
  if (!caller.cert_cn) return Error(401, "a client certificate is required");
  if (!caller.is_admin()) return Error(403, "admin certificate required");
  if (Status s = ValidateNodeId(group, "group"); !s.ok()) return ErrorFromStatus(s);
  if (yaml.size() > attest::kMaxReferenceBytes) return Error(413, "reference values too large");
  auto ref = attest::ParseReferenceValues(yaml, "reference values");
  if (!ref.ok()) return ErrorFromStatus(ref.status());
  if (Status s = impl_->storage->PutReference(std::string(group), std::string(yaml)); !s.ok()) return ErrorFromStatus(s);
  return Json(200, R"({"group":")" + std::string(group) + "\"}");
}

}  // namespace edgeward::cloud
