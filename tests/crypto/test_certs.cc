#include "test_certs.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <cstdlib>

namespace edgeward::crypto::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    ADD_FAILURE() << what << ": " << OpensslError(what).ToString();
    std::abort();
  }
}

void AddConf(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Check(ext != nullptr, "X509V3_EXT_conf_nid");
  Check(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

void AddRaw(X509* cert, const RawExtension& e) {
  ASN1_OBJECT* obj = OBJ_txt2obj(e.oid.c_str(), 1);
  Check(obj != nullptr, "OBJ_txt2obj");
  ASN1_OCTET_STRING* os = ASN1_OCTET_STRING_new();
  Check(os != nullptr && ASN1_OCTET_STRING_set(os, e.der_value.data(), static_cast<int>(e.der_value.size())) == 1,
        "ASN1_OCTET_STRING_set");
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, e.critical ? 1 : 0, os);
  Check(ext != nullptr, "X509_EXTENSION_create_by_OBJ");
  Check(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(os);
  ASN1_OBJECT_free(obj);
}

}  // namespace

Issued Issue(const CertSpec& spec, const Issued* issuer) {
  static long serial = 1000;
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  Check(key != nullptr, "EVP_PKEY_Q_keygen");
  X509* cert = X509_new();
  Check(cert != nullptr, "X509_new");
  Check(X509_set_version(cert, 2) == 1, "X509_set_version");
  Check(ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial) == 1, "ASN1_INTEGER_set");
  X509_NAME* name = X509_get_subject_name(cert);
  if (!spec.subject_cn.empty()) {
    Check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(spec.subject_cn.c_str()), -1, -1, 0) == 1,
          "X509_NAME_add_entry_by_txt");
  }
  X509* issuer_cert = issuer ? issuer->cert.get() : cert;
  Check(X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert)) == 1, "X509_set_issuer_name");
  Check(X509_gmtime_adj(X509_getm_notBefore(cert), spec.not_before_offset_s) != nullptr, "X509_gmtime_adj");
  Check(X509_gmtime_adj(X509_getm_notAfter(cert), spec.not_after_offset_s) != nullptr, "X509_gmtime_adj");
  Check(X509_set_pubkey(cert, key.get()) == 1, "X509_set_pubkey");
  if (spec.is_ca) {
    AddConf(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    AddConf(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    AddConf(cert, issuer_cert, NID_subject_key_identifier, "hash");
  } else {
    AddConf(cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    AddConf(cert, issuer_cert, NID_key_usage, "critical,keyAgreement");
  }
  if (issuer) AddConf(cert, issuer_cert, NID_authority_key_identifier, "keyid:always");
  if (!spec.san_dirname.empty()) {
    // A config section is the only textual form of a dirName; build it by hand.
    GENERAL_NAMES* gens = GENERAL_NAMES_new();
    GENERAL_NAME* gen = GENERAL_NAME_new();
    X509_NAME* dn = X509_NAME_new();
    Check(X509_NAME_add_entry_by_txt(dn, "2.23.133.2.1", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(spec.san_dirname.c_str()), -1, -1,
                                     0) == 1,
          "X509_NAME_add_entry_by_txt");
    GENERAL_NAME_set0_value(gen, GEN_DIRNAME, dn);
    sk_GENERAL_NAME_push(gens, gen);
    Check(X509_add1_ext_i2d(cert, NID_subject_alt_name, gens, 1, X509V3_ADD_DEFAULT) == 1, "X509_add1_ext_i2d");
    GENERAL_NAMES_free(gens);
  }
  if (!spec.ekus.empty()) {
    std::string v;
    for (const std::string& e : spec.ekus) v += (v.empty() ? "" : ",") + e;
    AddConf(cert, issuer_cert, NID_ext_key_usage, v.c_str());
  }
  for (const RawExtension& e : spec.extra) AddRaw(cert, e);
  EVP_PKEY* signer = issuer ? issuer->key.get() : key.get();
  Check(X509_sign(cert, signer, EVP_sha256()) > 0, "X509_sign");
  return Issued{std::move(key), Certificate::FromX509(cert)};
}

}  // namespace edgeward::crypto::testing
