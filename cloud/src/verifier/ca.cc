// Node CA with OpenSSL. Every OpenSSL call's result is checked; errors come
// from the drained error queue (EW_OSSL_ERROR).
#include "edgeward/cloud/ca.h"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "edgeward/crypto/openssl_ptr.h"

namespace edgeward::cloud {
namespace {

using crypto::BioPtr;
using crypto::EvpPkeyCtxPtr;
using crypto::EvpPkeyPtr;
using crypto::OsslDeleter;
using crypto::X509Ptr;
using X509ReqPtr = std::unique_ptr<X509_REQ, OsslDeleter<X509_REQ, X509_REQ_free>>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, OsslDeleter<X509_EXTENSION, X509_EXTENSION_free>>;

StatusOr<EvpPkeyPtr> GenerateKey() {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return EW_OSSL_ERROR("EVP_EC_gen");
  return key;
}

StatusOr<std::string> BioToString(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  if (n < 0 || data == nullptr) return Internal("BIO_get_mem_data failed");
  return std::string(data, static_cast<size_t>(n));
}

StatusOr<std::string> KeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return EW_OSSL_ERROR("BIO_new");
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return EW_OSSL_ERROR("PEM_write_bio_PrivateKey");
  }
  return BioToString(bio.get());
}

StatusOr<std::string> CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return EW_OSSL_ERROR("BIO_new");
  if (PEM_write_bio_X509(bio.get(), cert) != 1) return EW_OSSL_ERROR("PEM_write_bio_X509");
  return BioToString(bio.get());
}

StatusOr<EvpPkeyPtr> KeyFromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return EW_OSSL_ERROR("BIO_new_mem_buf");
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return crypto::OpensslError("PEM_read_bio_PrivateKey", StatusCode::kInvalidArgument);
  return key;
}

StatusOr<X509Ptr> CertFromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return EW_OSSL_ERROR("BIO_new_mem_buf");
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return crypto::OpensslError("PEM_read_bio_X509", StatusCode::kInvalidArgument);
  return cert;
}

StatusOr<Bytes> SpkiDer(EVP_PKEY* key) {
  const int n = i2d_PUBKEY(key, nullptr);
  if (n <= 0) return EW_OSSL_ERROR("i2d_PUBKEY");
  Bytes out(static_cast<size_t>(n));
  unsigned char* p = out.data();
  if (i2d_PUBKEY(key, &p) != n) return EW_OSSL_ERROR("i2d_PUBKEY");
  return out;
}

Status AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext) return EW_OSSL_ERROR("X509V3_EXT_conf_nid");
  if (X509_add_ext(cert, ext.get(), -1) != 1) return EW_OSSL_ERROR("X509_add_ext");
  return Status::Ok();
}

struct CertSpec {
  std::string cn;
  std::chrono::seconds lifetime{0};
  bool ca = false;
  const char* eku = nullptr;  // "clientAuth", "serverAuth"
  std::string san;            // "DNS:x,IP:1.2.3.4"
};

// Builds and signs a certificate for `subject_key` (issuer = itself when
// issuer_cert is null). Returns the cert, its serial and notAfter.
StatusOr<X509Ptr> BuildCert(const CertSpec& spec, EVP_PKEY* subject_key, X509* issuer_cert, EVP_PKEY* issuer_key,
                            std::string* serial_hex, int64_t* not_after) {
  X509Ptr cert(X509_new());
  if (!cert) return EW_OSSL_ERROR("X509_new");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) return EW_OSSL_ERROR("X509_set_version");
  uint8_t serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return EW_OSSL_ERROR("RAND_bytes");
  serial[0] &= 0x7f;  // positive
  serial[0] |= 0x01;  // no leading zero byte: a fixed 16-byte length
  crypto::BignumPtr bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn) return EW_OSSL_ERROR("BN_bin2bn");
  if (!BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()))) return EW_OSSL_ERROR("BN_to_ASN1_INTEGER");
  if (serial_hex) *serial_hex = HexEncode(ByteView(serial, sizeof serial));
  time_t now = time(nullptr);
  if (!X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, -60, &now)) return EW_OSSL_ERROR("X509_time_adj_ex");
  const long secs = static_cast<long>(spec.lifetime.count());
  if (!X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(secs / 86400), secs % 86400, &now)) {
    return EW_OSSL_ERROR("X509_time_adj_ex");
  }
  if (not_after) *not_after = static_cast<int64_t>(now) + secs;
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(spec.cn.data()),
                                 static_cast<int>(spec.cn.size()), -1, 0) != 1) {
    return EW_OSSL_ERROR("X509_NAME_add_entry_by_txt");
  }
  X509* issuer = issuer_cert ? issuer_cert : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer)) != 1) return EW_OSSL_ERROR("X509_set_issuer_name");
  if (X509_set_pubkey(cert.get(), subject_key) != 1) return EW_OSSL_ERROR("X509_set_pubkey");
  EW_RETURN_IF_ERROR(AddExt(cert.get(), issuer, NID_basic_constraints, spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
  EW_RETURN_IF_ERROR(AddExt(cert.get(), issuer, NID_key_usage,
                            spec.ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature"));
  EW_RETURN_IF_ERROR(AddExt(cert.get(), issuer, NID_subject_key_identifier, "hash"));
  if (issuer_cert) EW_RETURN_IF_ERROR(AddExt(cert.get(), issuer, NID_authority_key_identifier, "keyid:always"));
  if (spec.eku) EW_RETURN_IF_ERROR(AddExt(cert.get(), issuer, NID_ext_key_usage, spec.eku));
  if (!spec.san.empty()) EW_RETURN_IF_ERROR(AddExt(cert.get(), issuer, NID_subject_alt_name, spec.san.c_str()));
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0) return EW_OSSL_ERROR("X509_sign");
  return cert;
}

}  // namespace

struct NodeCa::Impl {
  X509Ptr cert;
  EvpPkeyPtr key;
};

NodeCa::NodeCa(std::unique_ptr<Impl> impl, std::string cert_pem) : impl_(std::move(impl)), cert_pem_(std::move(cert_pem)) {}
NodeCa::NodeCa(NodeCa&&) noexcept = default;
NodeCa& NodeCa::operator=(NodeCa&&) noexcept = default;
NodeCa::~NodeCa() = default;

StatusOr<std::string> GenerateKeyPem() {
  EW_ASSIGN_OR_RETURN(EvpPkeyPtr key, GenerateKey());
  return KeyToPem(key.get());
}

StatusOr<KeyAndCert> CreateCa(std::string_view common_name, std::chrono::seconds lifetime) {
  EW_ASSIGN_OR_RETURN(EvpPkeyPtr key, GenerateKey());
  CertSpec spec{std::string(common_name), lifetime, true, nullptr, ""};
  EW_ASSIGN_OR_RETURN(X509Ptr cert, BuildCert(spec, key.get(), nullptr, key.get(), nullptr, nullptr));
  KeyAndCert out;
  EW_ASSIGN_OR_RETURN(out.key_pem, KeyToPem(key.get()));
  EW_ASSIGN_OR_RETURN(out.cert_pem, CertToPem(cert.get()));
  return out;
}

StatusOr<std::string> CreateCsr(std::string_view key_pem, std::string_view common_name) {
  EW_ASSIGN_OR_RETURN(EvpPkeyPtr key, KeyFromPem(key_pem));
  X509ReqPtr req(X509_REQ_new());
  if (!req) return EW_OSSL_ERROR("X509_REQ_new");
  if (X509_REQ_set_version(req.get(), 0) != 1) return EW_OSSL_ERROR("X509_REQ_set_version");
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    return EW_OSSL_ERROR("X509_NAME_add_entry_by_txt");
  }
  if (X509_REQ_set_pubkey(req.get(), key.get()) != 1) return EW_OSSL_ERROR("X509_REQ_set_pubkey");
  if (X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) return EW_OSSL_ERROR("X509_REQ_sign");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return EW_OSSL_ERROR("BIO_new");
  if (PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) return EW_OSSL_ERROR("PEM_write_bio_X509_REQ");
  return BioToString(bio.get());
}

StatusOr<Bytes> SpkiDerOfKeyPem(std::string_view key_pem) {
  EW_ASSIGN_OR_RETURN(EvpPkeyPtr key, KeyFromPem(key_pem));
  return SpkiDer(key.get());
}

StatusOr<NodeCa> NodeCa::FromPem(std::string_view cert_pem, std::string_view key_pem) {
  auto impl = std::make_unique<Impl>();
  EW_ASSIGN_OR_RETURN(impl->cert, CertFromPem(cert_pem));
  EW_ASSIGN_OR_RETURN(impl->key, KeyFromPem(key_pem));
  if (X509_check_private_key(impl->cert.get(), impl->key.get()) != 1) {
    return crypto::OpensslError("node CA: the key does not belong to the certificate (X509_check_private_key)",
                                StatusCode::kInvalidArgument);
  }
  return NodeCa(std::move(impl), std::string(cert_pem));
}

StatusOr<IssuedCert> NodeCa::IssueNodeCert(std::string_view csr_pem, ByteView expected_spki_der,
                                           std::string_view node_id, std::chrono::seconds lifetime) const {
  BioPtr bio(BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size())));
  if (!bio) return EW_OSSL_ERROR("BIO_new_mem_buf");
  X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) return crypto::OpensslError("csr_pem: not a PEM certificate request", StatusCode::kInvalidArgument);
  EvpPkeyPtr pub(X509_REQ_get_pubkey(req.get()));
  if (!pub) return crypto::OpensslError("csr_pem: no public key", StatusCode::kInvalidArgument);
  if (X509_REQ_verify(req.get(), pub.get()) != 1) {
    return crypto::OpensslError("csr_pem: the request's self-signature does not verify", StatusCode::kPermissionDenied);
  }
  EW_ASSIGN_OR_RETURN(Bytes spki, SpkiDer(pub.get()));
  if (spki.size() != expected_spki_der.size() ||
      !std::equal(spki.begin(), spki.end(), expected_spki_der.begin())) {
    return PermissionDenied("csr_pem: the request's public key is not the TLS key the quote bound "
                            "(tls_public_key_spki_der)");
  }
  IssuedCert out;
  CertSpec spec{std::string(node_id), lifetime, false, "clientAuth", ""};
  EW_ASSIGN_OR_RETURN(X509Ptr cert,
                      BuildCert(spec, pub.get(), impl_->cert.get(), impl_->key.get(), &out.serial_hex, &out.not_after));
  EW_ASSIGN_OR_RETURN(out.cert_pem, CertToPem(cert.get()));
  return out;
}

StatusOr<KeyAndCert> NodeCa::IssueServerCert(const std::vector<std::string>& hostnames,
                                             std::chrono::seconds lifetime) const {
  if (hostnames.empty()) return InvalidArgument("server certificate: no host names");
  std::string san;
  for (const auto& h : hostnames) {
    const bool ip = !h.empty() && h.find_first_not_of("0123456789.") == std::string::npos;
    const bool ip6 = h.find(':') != std::string::npos;
    if (!san.empty()) san += ",";
    san += (ip || ip6 ? "IP:" : "DNS:") + h;
  }
  EW_ASSIGN_OR_RETURN(EvpPkeyPtr key, GenerateKey());
  CertSpec spec{hostnames.front(), lifetime, false, "serverAuth", san};
  EW_ASSIGN_OR_RETURN(X509Ptr cert, BuildCert(spec, key.get(), impl_->cert.get(), impl_->key.get(), nullptr, nullptr));
  KeyAndCert out;
  EW_ASSIGN_OR_RETURN(out.key_pem, KeyToPem(key.get()));
  EW_ASSIGN_OR_RETURN(out.cert_pem, CertToPem(cert.get()));
  return out;
}

StatusOr<KeyAndCert> NodeCa::IssueClientCertForTest(std::string_view common_name, std::chrono::seconds lifetime) const {
  EW_ASSIGN_OR_RETURN(EvpPkeyPtr key, GenerateKey());
  CertSpec spec{std::string(common_name), lifetime, false, "clientAuth", ""};
  EW_ASSIGN_OR_RETURN(X509Ptr cert, BuildCert(spec, key.get(), impl_->cert.get(), impl_->key.get(), nullptr, nullptr));
  KeyAndCert out;
  EW_ASSIGN_OR_RETURN(out.key_pem, KeyToPem(key.get()));
  EW_ASSIGN_OR_RETURN(out.cert_pem, CertToPem(cert.get()));
  return out;
}

StatusOr<KeyAndCert> NodeCa::IssueAdminCert(std::string_view name, std::chrono::seconds lifetime) const {
  if (name.empty()) return InvalidArgument("admin certificate: empty name");
  return IssueClientCertForTest(std::string(kAdminCnPrefix) + std::string(name), lifetime);
}

}  // namespace edgeward::cloud
