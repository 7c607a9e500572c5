#include "edgeward/crypto/x509.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <cctype>
#include <ctime>
#include <utility>

#include "edgeward/base/file.h"
#include "edgeward/crypto/openssl_ptr.h"

namespace edgeward::crypto {
namespace {

// A stack that borrows its certificates: freeing it leaves them alone.
using BorrowedX509StackPtr = std::unique_ptr<STACK_OF(X509), decltype([](STACK_OF(X509)* s) { sk_X509_free(s); })>;
using ExtKeyUsagePtr = std::unique_ptr<EXTENDED_KEY_USAGE, OsslDeleter<EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free>>;

// TCG EK Credential Profile: tcg-kp-EKCertificate.
constexpr const char* kEkCertificateEku = "2.23.133.8.1";
// Critical extensions the EK profile uses that OpenSSL 3.0 does not process
// (so it flags them X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION). SAN with a
// directoryName is handled by OpenSSL, but is listed for OpenSSL builds
// that don't.
constexpr int kEkProfileExtensions[] = {
    NID_subject_alt_name,              // 2.5.29.17: TPM manufacturer/model/version
    NID_subject_directory_attributes,  // 2.5.29.9: TPM specification, security assertions
};

std::string NameToString(const X509_NAME* name) {
  if (name == nullptr || X509_NAME_entry_count(name) == 0) return "";
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return "<unprintable>";
  if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    ERR_clear_error();
    return "<unprintable>";
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 && data != nullptr ? std::string(data, static_cast<size_t>(len)) : "";
}

std::string TimeToString(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return "<invalid time>";
  }
  char buf[32];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) return "<invalid time>";
  return buf;
}

bool StartsWithPem(ByteView data) {
  size_t i = 0;
  while (i < data.size() && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n')) ++i;
  static constexpr std::string_view kBegin = "-----BEGIN";
  return data.size() - i >= kBegin.size() && AsChars(data.subspan(i, kBegin.size())) == kBegin;
}

StatusOr<X509StorePtr> MakeStore(const std::vector<Certificate>& trusted) {
  X509StorePtr store(X509_STORE_new());
  if (!store) return OpensslError("X509_STORE_new");
  for (const Certificate& c : trusted) {
    if (X509_STORE_add_cert(store.get(), c.get()) != 1) {
      // A duplicate in the bundle is harmless.
      unsigned long e = ERR_peek_last_error();
      if (ERR_GET_REASON(e) == X509_R_CERT_ALREADY_IN_HASH_TABLE) {
        ERR_clear_error();
        continue;
      }
      return OpensslError("X509_STORE_add_cert");
    }
  }
  return store;
}

// ex_data slot carrying ChainOptions into the verify callback.
int OptionsIndex() {
  static const int index = X509_STORE_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// True when every critical extension of `cert` is either one OpenSSL
// supports or one the TCG EK profile defines.
bool OnlyEkProfileCriticalExtensions(X509* cert) {
  const int n = X509_get_ext_count(cert);
  for (int i = 0; i < n; ++i) {
    X509_EXTENSION* ext = X509_get_ext(cert, i);
    if (X509_EXTENSION_get_critical(ext) <= 0) continue;
    if (X509_supported_extension(ext) == 1) continue;
    const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    bool allowed = false;
    for (int ok : kEkProfileExtensions) allowed = allowed || nid == ok;
    if (!allowed) return false;
  }
  return true;
}

int VerifyCallback(int ok, X509_STORE_CTX* ctx) {
  if (ok == 1) return 1;
  const auto* options = static_cast<const ChainOptions*>(X509_STORE_CTX_get_ex_data(ctx, OptionsIndex()));
  if (options == nullptr || !options->tpm_endorsement_key) return 0;
  // The only relaxation: a leaf EK certificate's profile-defined critical
  // extensions. OpenSSL reports this error before the signature and time
  // checks, and continuing here lets those checks still run.
  if (X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION &&
      X509_STORE_CTX_get_error_depth(ctx) == 0 &&
      OnlyEkProfileCriticalExtensions(X509_STORE_CTX_get_current_cert(ctx))) {
    X509_STORE_CTX_set_error(ctx, X509_V_OK);
    return 1;
  }
  return 0;
}

}  // namespace

Certificate Certificate::FromX509(X509* cert) { return Certificate(cert); }

Certificate::Certificate(Certificate&& o) noexcept : cert_(std::exchange(o.cert_, nullptr)) {}
Certificate& Certificate::operator=(Certificate&& o) noexcept {
  if (this != &o) {
    X509_free(cert_);
    cert_ = std::exchange(o.cert_, nullptr);
  }
  return *this;
}
Certificate::~Certificate() { X509_free(cert_); }

StatusOr<Certificate> Certificate::FromDer(ByteView der) {
  if (der.empty()) return InvalidArgument("X.509 certificate (DER): empty input");
  if (der.size() > kMaxCertificateBytes) {
    return InvalidArgument("X.509 certificate (DER): " + std::to_string(der.size()) + " bytes exceeds the " +
                           std::to_string(kMaxCertificateBytes) + "-byte limit");
  }
  const unsigned char* p = der.data();
  X509* raw = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (raw == nullptr) {
    return OpensslError("d2i_X509", StatusCode::kInvalidArgument).WithContext("X.509 certificate (DER)");
  }
  X509Ptr cert(raw);
  if (p != der.data() + der.size()) {
    return InvalidArgument("X.509 certificate (DER): " + std::to_string(der.data() + der.size() - p) +
                           " trailing bytes after the certificate");
  }
  return Certificate(cert.release());
}

StatusOr<Certificate> Certificate::FromPem(std::string_view pem) {
  if (pem.size() > kMaxCertificateBytes) {
    return InvalidArgument("X.509 certificate (PEM): " + std::to_string(pem.size()) + " bytes exceeds the " +
                           std::to_string(kMaxCertificateBytes) + "-byte limit");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpensslError("BIO_new_mem_buf");
  X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (raw == nullptr) {
    return OpensslError("PEM_read_bio_X509", StatusCode::kInvalidArgument).WithContext("X.509 certificate (PEM)");
  }
  return Certificate(raw);
}

StatusOr<Certificate> Certificate::Parse(ByteView data) {
  if (StartsWithPem(data)) return FromPem(AsChars(data));
  return FromDer(data);
}

std::string Certificate::Subject() const { return NameToString(X509_get_subject_name(cert_)); }
std::string Certificate::Issuer() const { return NameToString(X509_get_issuer_name(cert_)); }

std::string Certificate::SerialHex() const {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert_);
  BignumPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) {
    ERR_clear_error();
    return "";
  }
  char* hex = BN_bn2hex(bn.get());
  if (hex == nullptr) {
    ERR_clear_error();
    return "";
  }
  std::string out(hex);
  OPENSSL_free(hex);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // BN_bn2hex pads to whole bytes ("0B"); strip to the canonical form.
  const bool negative = !out.empty() && out[0] == '-';
  std::string digits = negative ? out.substr(1) : out;
  size_t nz = digits.find_first_not_of('0');
  digits = nz == std::string::npos ? "0" : digits.substr(nz);
  return negative ? "-" + digits : digits;
}

std::string Certificate::NotBefore() const { return TimeToString(X509_get0_notBefore(cert_)); }
std::string Certificate::NotAfter() const { return TimeToString(X509_get0_notAfter(cert_)); }

StatusOr<PublicKey> Certificate::GetPublicKey() const {
  EVP_PKEY* pkey = X509_get_pubkey(cert_);  // new reference
  if (pkey == nullptr) {
    return OpensslError("X509_get_pubkey", StatusCode::kInvalidArgument).WithContext("X.509 certificate public key");
  }
  return PublicKey::FromEvpPkey(pkey);
}

bool Certificate::HasExtendedKeyUsage(std::string_view oid) const {
  int crit = 0;
  ExtKeyUsagePtr eku(static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert_, NID_ext_key_usage, &crit, nullptr)));
  if (!eku) {
    ERR_clear_error();
    return false;
  }
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    char buf[128];
    int len = OBJ_obj2txt(buf, sizeof buf, sk_ASN1_OBJECT_value(eku.get(), i), /*no_name=*/1);
    if (len > 0 && static_cast<size_t>(len) < sizeof buf && std::string_view(buf, static_cast<size_t>(len)) == oid) {
      return true;
    }
  }
  return false;
}

StatusOr<Bytes> Certificate::ToDer() const {
  int len = i2d_X509(cert_, nullptr);
  if (len <= 0) return OpensslError("i2d_X509");
  Bytes out(static_cast<size_t>(len));
  unsigned char* p = out.data();
  if (i2d_X509(cert_, &p) != len) return OpensslError("i2d_X509");
  return out;
}

StatusOr<std::string> Certificate::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return OpensslError("BIO_new");
  if (PEM_write_bio_X509(bio.get(), cert_) != 1) return OpensslError("PEM_write_bio_X509");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return OpensslError("BIO_get_mem_data");
  return std::string(data, static_cast<size_t>(len));
}

StatusOr<std::vector<Certificate>> ParseCertificateBundle(std::string_view pem) {
  if (pem.size() > kMaxCertificateBundleBytes) {
    return InvalidArgument("certificate bundle: " + std::to_string(pem.size()) + " bytes exceeds the limit");
  }
  static constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  std::vector<Certificate> out;
  size_t pos = 0;
  while ((pos = pem.find(kBegin, pos)) != std::string_view::npos) {
    size_t end = pem.find(kEnd, pos);
    if (end == std::string_view::npos) {
      return InvalidArgument("certificate bundle: certificate #" + std::to_string(out.size()) +
                             " has no END CERTIFICATE line");
    }
    end += kEnd.size();
    auto cert = Certificate::FromPem(pem.substr(pos, end - pos));
    if (!cert.ok()) return cert.status().WithContext("certificate bundle: certificate #" + std::to_string(out.size()));
    out.push_back(std::move(cert).value());
    pos = end;
  }
  if (out.empty()) return InvalidArgument("certificate bundle: no BEGIN CERTIFICATE block");
  return out;
}

StatusOr<std::vector<Certificate>> LoadCertificateBundle(const std::string& path) {
  auto text = ReadFileToString(path, kMaxCertificateBundleBytes);
  if (!text.ok()) return text.status().WithContext("certificate bundle " + path);
  auto certs = ParseCertificateBundle(*text);
  if (!certs.ok()) return certs.status().WithContext(path);
  return certs;
}

Status VerifyCertificateChain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                              const std::vector<Certificate>& trusted, std::chrono::system_clock::time_point at,
                              const ChainOptions& options) {
  if (leaf.get() == nullptr) return InvalidArgument("certificate chain: no leaf certificate");
  if (trusted.empty()) return InvalidArgument("certificate chain: no trusted certificates given");
  EW_ASSIGN_OR_RETURN(X509StorePtr store, MakeStore(trusted));
  X509_STORE_set_verify_cb(store.get(), VerifyCallback);

  BorrowedX509StackPtr untrusted(sk_X509_new_null());
  if (!untrusted) return OpensslError("sk_X509_new_null");
  for (const Certificate& c : intermediates) {
    // The stack borrows; `intermediates` outlives the verification.
    if (sk_X509_push(untrusted.get(), c.get()) <= 0) return OpensslError("sk_X509_push");
  }
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx) return OpensslError("X509_STORE_CTX_new");
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) {
    return OpensslError("X509_STORE_CTX_init");
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, std::chrono::system_clock::to_time_t(at));
  if (X509_STORE_CTX_set_ex_data(ctx.get(), OptionsIndex(), const_cast<ChainOptions*>(&options)) != 1) {
    return OpensslError("X509_STORE_CTX_set_ex_data");
  }

  const int rc = X509_verify_cert(ctx.get());
  if (rc != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
    ERR_clear_error();
    std::string m = "certificate chain: ";
    m += err != X509_V_OK ? X509_verify_cert_error_string(err) : "verification failed";
    m += " at depth " + std::to_string(depth);
    if (bad != nullptr) {
      m += " (subject \"" + NameToString(X509_get_subject_name(bad)) + "\", issuer \"" +
           NameToString(X509_get_issuer_name(bad)) + "\")";
    }
    return PermissionDenied(std::move(m));
  }
  if (options.tpm_endorsement_key && X509_get_ext_by_NID(leaf.get(), NID_ext_key_usage, -1) >= 0 &&
      !leaf.HasExtendedKeyUsage(kEkCertificateEku)) {
    return PermissionDenied(std::string("certificate chain: EK certificate's extendedKeyUsage lacks ") +
                            kEkCertificateEku + " (tcg-kp-EKCertificate) (subject \"" + leaf.Subject() + "\")");
  }
  return Status::Ok();
}

}  // namespace edgeward::crypto
