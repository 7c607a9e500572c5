#include "node_client.h"

#include <httplib.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cerrno>

#include "edgeward/attest_node/collect.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/file.h"
#include "edgeward/cloud/ca.h"
#include "edgeward/crypto/openssl_ptr.h"
#include "edgeward/crypto/x509.h"
#include "edgeward/tpm/ak.h"
#include "edgeward/tpm/credential.h"
#include "edgeward/tpm/pcr.h"
#include "eventlog_test_util.h"

namespace edgeward::cloud::testing {

HttpResult Request(int port, const std::string& ca_pem, const std::optional<ClientCert>& cert, const std::string& method,
                   const std::string& path, const std::string& body, const std::string& if_none_match) {
  HttpResult out;
  crypto::X509Ptr x509;
  crypto::EvpPkeyPtr key;
  if (cert) {
    crypto::BioPtr cb(BIO_new_mem_buf(cert->cert_pem.data(), static_cast<int>(cert->cert_pem.size())));
    x509.reset(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
    crypto::BioPtr kb(BIO_new_mem_buf(cert->key_pem.data(), static_cast<int>(cert->key_pem.size())));
    key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    if (!x509 || !key) {
      out.error = "bad client certificate or key PEM";
      return out;
    }
  }
  auto cli = cert ? std::make_unique<httplib::SSLClient>("127.0.0.1", port, x509.get(), key.get())
                  : std::make_unique<httplib::SSLClient>("127.0.0.1", port);
  // The store is owned by the client's SSL_CTX after set_ca_cert_store.
  X509_STORE* store = X509_STORE_new();
  crypto::BioPtr bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  crypto::X509Ptr ca(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (store == nullptr || !ca || X509_STORE_add_cert(store, ca.get()) != 1) {
    X509_STORE_free(store);
    out.error = "CA store";
    return out;
  }
  cli->set_ca_cert_store(store);
  cli->enable_server_certificate_verification(true);
  cli->set_read_timeout(30, 0);
  httplib::Headers headers;
  if (!if_none_match.empty()) headers.emplace("If-None-Match", if_none_match);
  httplib::Result res = method == "GET"   ? cli->Get(path.c_str(), headers)
                        : method == "PUT" ? cli->Put(path.c_str(), headers, body, "application/json")
                                          : cli->Post(path.c_str(), headers, body, "application/json");
  if (!res) {
    out.error = httplib::to_string(res.error());
    return out;
  }
  out.status = res->status;
  out.body = res->body;
  out.etag = res->get_header_value("ETag");
  return out;
}

std::string ErrorOf(const HttpResult& r) {
  auto e = DecodeErrorResponse(r.body);
  return e.ok() ? e->error : "";
}

TestNode::~TestNode() { tpm_.reset(); }

StatusOr<std::unique_ptr<TestNode>> TestNode::Create(std::string node_id) {
  std::unique_ptr<TestNode> n(new TestNode());
  n->node_id_ = std::move(node_id);
  EW_ASSIGN_OR_RETURN(n->swtpm_, edgeward::testing::Swtpm::Start());
  EW_ASSIGN_OR_RETURN(tpm::Tpm t, tpm::Tpm::Open(n->swtpm_->tcti()));
  n->tpm_ = std::make_unique<tpm::Tpm>(std::move(t));
  EW_ASSIGN_OR_RETURN(auto signing, crypto::Ed25519SigningKey::Generate());
  n->signing_.emplace(std::move(signing));
  EW_ASSIGN_OR_RETURN(n->tls_key_pem_, GenerateKeyPem());
  EW_ASSIGN_OR_RETURN(n->tls_spki_, SpkiDerOfKeyPem(n->tls_key_pem_));
  n->ima_log_path_ = n->state_.path() + "/ima.log";
  return n;
}

StatusOr<RegisterRequest> TestNode::MakeRegisterRequest(tpm::EkPreference pref) {
  EW_ASSIGN_OR_RETURN(tpm::Ek ek, tpm::Ek::Open(*tpm_, {.preference = pref}));
  EW_ASSIGN_OR_RETURN(tpm::Ak ak, tpm::LoadOrCreateAk(ek, state_.path()));
  if (!ek.certificate()) return FailedPrecondition("swtpm has no EK certificate for this EK");
  EW_ASSIGN_OR_RETURN(crypto::Certificate cert, crypto::Certificate::FromDer(ek.certificate()->der));
  RegisterRequest r;
  r.node_id = node_id_;
  EW_ASSIGN_OR_RETURN(r.ek_cert_pem, cert.ToPem());
  r.ek_public = ek.public_area();
  r.ak_public = ak.public_area();
  r.ak_name = ak.name();
  const auto& pk = signing_->public_key().bytes;
  r.node_signing_key.assign(pk.begin(), pk.end());
  r.labels = {{"group", "default"}};
  return r;
}

StatusOr<Bytes> TestNode::Activate(const RegisterChallenge& challenge) {
  EW_ASSIGN_OR_RETURN(tpm::Ek ek, tpm::Ek::Open(*tpm_));
  EW_ASSIGN_OR_RETURN(tpm::Ak ak, tpm::LoadOrCreateAk(ek, state_.path()));
  EW_ASSIGN_OR_RETURN(tpm::LoadedAk loaded, tpm::LoadedAk::Load(ek, ak));
  EW_ASSIGN_OR_RETURN(auto secret, tpm::ActivateCredential(ek, loaded, challenge.credential_blob,
                                                           challenge.encrypted_secret));
  return Bytes(secret.begin(), secret.end());
}

StatusOr<attest::Evidence> TestNode::Collect(ByteView qualifying_data, uint64_t ima_start) {
  attest_node::CollectOptions o;
  o.state_dir = state_.path();
  o.nonce.assign(qualifying_data.begin(), qualifying_data.end());
  o.node_id = node_id_;
  o.uefi_log_path = state_.path() + "/no-uefi-log";
  o.ima_log_path = ima_log_path_;  // absent until MeasureIma: no IMA log
  o.ima_start_entry = ima_start;
  return attest_node::CollectEvidence(*tpm_, o);
}

Status TestNode::MeasureIma(const std::string& path, const std::string& content) {
  auto e = attest::testutil::ImaLine("ima-ng", "sha256", crypto::Digest(crypto::HashAlg::kSha256, AsBytes(path + content)),
                                     path);
  EW_RETURN_IF_ERROR(tpm::ExtendPcr(*tpm_, 10, attest::testutil::ImaExtendValue(e)));
  std::string log;
  if (ima_entries_ > 0) {
    EW_ASSIGN_OR_RETURN(log, ReadFileToString(ima_log_path_, 64u << 20));
  }
  log += e.line + "\n";
  EW_RETURN_IF_ERROR(WriteFileAtomic(ima_log_path_, AsBytes(log), 0600));
  ++ima_entries_;
  return Status::Ok();
}

Status TestNode::Reboot() {
  tpm_.reset();
  EW_RETURN_IF_ERROR(swtpm_->Restart());
  EW_ASSIGN_OR_RETURN(tpm::Tpm t, tpm::Tpm::Open(swtpm_->tcti()));
  tpm_ = std::make_unique<tpm::Tpm>(std::move(t));
  if (::unlink(ima_log_path_.c_str()) != 0 && errno != ENOENT) return EW_ERRNO("unlink", ima_log_path_);
  ima_entries_ = 0;
  return Status::Ok();
}

}  // namespace edgeward::cloud::testing
