#include "edgeward/channel/node_identity.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>

#include <cstring>

#include "edgeward/base/errno_status.h"
#include "edgeward/base/file.h"
#include "edgeward/crypto/openssl_ptr.h"
#include "edgeward/crypto/sodium.h"

namespace edgeward::channel {

struct NodeIdentity::Key {
  crypto::EvpPkeyPtr pkey;
};

namespace {

constexpr uint8_t kMagic[4] = {'E', 'W', 'T', 'K'};
constexpr uint8_t kVersion = 1;
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
using X509ReqPtr = std::unique_ptr<X509_REQ, crypto::OsslDeleter<X509_REQ, X509_REQ_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, crypto::OsslDeleter<X509_NAME, X509_NAME_free>>;

// A subkey, so the spool key itself never encrypts anything but the spool.
Status DeriveKey(ByteView data_key, uint8_t out[32]) {
  if (data_key.size() != crypto_kdf_KEYBYTES) return InvalidArgument("node identity: the data key must be 32 bytes");
  if (crypto_kdf_derive_from_key(out, 32, 1, "ewtlskey", data_key.data()) != 0) {
    return Internal("crypto_kdf_derive_from_key failed");
  }
  return Status::Ok();
}

StatusOr<Bytes> SpkiOf(EVP_PKEY* pkey) {
  int n = i2d_PUBKEY(pkey, nullptr);
  if (n <= 0) return crypto::OpensslError("i2d_PUBKEY");
  Bytes out(static_cast<size_t>(n));
  uint8_t* p = out.data();
  if (i2d_PUBKEY(pkey, &p) != n) return crypto::OpensslError("i2d_PUBKEY");
  return out;
}

int64_t AsnTimeToEpoch(const ASN1_TIME* t) {
  struct tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

NodeIdentity::NodeIdentity(NodeIdentity&&) noexcept = default;
NodeIdentity& NodeIdentity::operator=(NodeIdentity&&) noexcept = default;
NodeIdentity::~NodeIdentity() = default;

StatusOr<NodeIdentity> NodeIdentity::LoadOrCreate(const std::string& dir, ByteView data_key) {
  EW_RETURN_IF_ERROR(crypto::EnsureSodium());
  uint8_t sub[32];
  EW_RETURN_IF_ERROR(DeriveKey(data_key, sub));
  struct Wipe {
    uint8_t* p;
    ~Wipe() { sodium_memzero(p, 32); }
  } wipe{sub};
  EW_RETURN_IF_ERROR(MakeDirs(dir, 0700, /*enforce_mode=*/true));
  NodeIdentity id;
  id.dir_ = dir;
  id.key_ = std::make_unique<Key>();
  const std::string key_path = dir + "/tls-key.enc";
  auto file = ReadFileToString(key_path, 64 * 1024);
  if (file.ok()) {
    const auto* p = reinterpret_cast<const uint8_t*>(file->data());
    if (file->size() < 5 + kNonceBytes + crypto_aead_xchacha20poly1305_ietf_ABYTES ||
        std::memcmp(p, kMagic, 4) != 0 || p[4] != kVersion) {
      return DataLoss(key_path + ": not an edgeward TLS key file");
    }
    size_t clen = file->size() - 5 - kNonceBytes;
    crypto::SecureBytes der(clen - crypto_aead_xchacha20poly1305_ietf_ABYTES);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(der.data(), nullptr, nullptr, p + 5 + kNonceBytes, clen, p, 5,
                                                   p + 5, sub) != 0) {
      return DataLoss(key_path + ": does not decrypt with this node's data key");
    }
    const uint8_t* dp = der.data();
    id.key_->pkey.reset(d2i_AutoPrivateKey(nullptr, &dp, static_cast<long>(der.size())));
    if (!id.key_->pkey) return DataLoss(key_path + ": " + crypto::OpensslError("d2i_AutoPrivateKey").message());
  } else if (file.status().code() == StatusCode::kNotFound) {
    id.key_->pkey.reset(EVP_EC_gen("P-256"));
    if (!id.key_->pkey) return crypto::OpensslError("EVP_EC_gen");
    int n = i2d_PrivateKey(id.key_->pkey.get(), nullptr);
    if (n <= 0) return crypto::OpensslError("i2d_PrivateKey");
    crypto::SecureBytes der(static_cast<size_t>(n));
    uint8_t* dp = der.data();
    if (i2d_PrivateKey(id.key_->pkey.get(), &dp) != n) return crypto::OpensslError("i2d_PrivateKey");
    Bytes out(kMagic, kMagic + 4);
    out.push_back(kVersion);
    out.resize(5 + kNonceBytes);
    randombytes_buf(out.data() + 5, kNonceBytes);
    out.resize(5 + kNonceBytes + der.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + 5 + kNonceBytes, nullptr, der.data(), der.size(),
                                               out.data(), 5, nullptr, out.data() + 5, sub);
    EW_RETURN_IF_ERROR(WriteFileAtomic(key_path, out, 0600));
  } else {
    return file.status();
  }
  EW_ASSIGN_OR_RETURN(id.spki_der_, SpkiOf(id.key_->pkey.get()));
  auto cert = ReadFileToString(dir + "/tls-cert.pem", 256 * 1024);
  if (cert.ok()) {
    Status s = id.StoreCertificate(*cert);  // validates and parses; rewrite is harmless
    if (!s.ok()) id.cert_pem_.reset();
  }
  return id;
}

StatusOr<std::string> NodeIdentity::CreateCsr(const std::string& node_id) const {
  X509ReqPtr req(X509_REQ_new());
  if (!req) return crypto::OpensslError("X509_REQ_new");
  if (X509_REQ_set_version(req.get(), 0) != 1) return crypto::OpensslError("X509_REQ_set_version");
  X509NamePtr name(X509_NAME_new());
  if (!name) return crypto::OpensslError("X509_NAME_new");
  if (X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(node_id.data()),
                                 static_cast<int>(node_id.size()), -1, 0) != 1) {
    return crypto::OpensslError("X509_NAME_add_entry_by_txt", StatusCode::kInvalidArgument);
  }
  if (X509_REQ_set_subject_name(req.get(), name.get()) != 1) return crypto::OpensslError("X509_REQ_set_subject_name");
  if (X509_REQ_set_pubkey(req.get(), key_->pkey.get()) != 1) return crypto::OpensslError("X509_REQ_set_pubkey");
  if (X509_REQ_sign(req.get(), key_->pkey.get(), EVP_sha256()) <= 0) return crypto::OpensslError("X509_REQ_sign");
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) return crypto::OpensslError("PEM_write_bio_X509_REQ");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

StatusOr<crypto::SecureBytes> NodeIdentity::PrivateKeyPem() const {
  crypto::BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio) return crypto::OpensslError("BIO_new");
  if (PEM_write_bio_PrivateKey(bio.get(), key_->pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return crypto::OpensslError("PEM_write_bio_PrivateKey");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return crypto::SecureBytes(data, data + n);
}

Status NodeIdentity::StoreCertificate(const std::string& cert_pem) {
  crypto::BioPtr bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  if (!bio) return crypto::OpensslError("BIO_new_mem_buf");
  crypto::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return crypto::OpensslError("PEM_read_bio_X509", StatusCode::kInvalidArgument);
  EVP_PKEY* pub = X509_get0_pubkey(cert.get());
  if (pub == nullptr || EVP_PKEY_eq(pub, key_->pkey.get()) != 1) {
    return InvalidArgument("client certificate is not for this node's TLS key");
  }
  EW_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/tls-cert.pem", AsBytes(cert_pem), 0600));
  cert_pem_ = cert_pem;
  not_before_ = AsnTimeToEpoch(X509_get0_notBefore(cert.get()));
  not_after_ = AsnTimeToEpoch(X509_get0_notAfter(cert.get()));
  return Status::Ok();
}

std::chrono::nanoseconds BootTimeNow() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);  // cannot fail for a valid clock id
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

RenewalSchedule RenewalSchedule::Compute(int64_t not_before, int64_t not_after,
                                         std::chrono::system_clock::time_point wall_now,
                                         std::chrono::nanoseconds boot_now, double fraction) {
  // The one place wall time is used: how far into the lifetime we are now.
  const double lifetime = static_cast<double>(std::max<int64_t>(0, not_after - not_before));
  const double renew_at = static_cast<double>(not_before) + lifetime * fraction;
  const double now = std::chrono::duration<double>(wall_now.time_since_epoch()).count();
  const double wait = std::max(0.0, renew_at - now);
  RenewalSchedule s;
  s.deadline_ = boot_now + std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(wait));
  return s;
}

std::chrono::nanoseconds RenewalSchedule::RemainingAt(std::chrono::nanoseconds boot_now) const {
  return std::max(std::chrono::nanoseconds(0), deadline_ - boot_now);
}

StatusOr<RenewalTimer> RenewalTimer::Arm(const RenewalSchedule& schedule) {
  UniqueFd fd(timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!fd.valid()) return EW_ERRNO("timerfd_create", "CLOCK_BOOTTIME");
  itimerspec spec{};
  auto d = std::max(schedule.deadline(), std::chrono::nanoseconds(1));
  spec.it_value.tv_sec = static_cast<time_t>(std::chrono::duration_cast<std::chrono::seconds>(d).count());
  spec.it_value.tv_nsec = static_cast<long>((d - std::chrono::seconds(spec.it_value.tv_sec)).count());
  if (timerfd_settime(fd.get(), TFD_TIMER_ABSTIME, &spec, nullptr) != 0) return EW_ERRNO("timerfd_settime", "renewal");
  return RenewalTimer(std::move(fd));
}

StatusOr<bool> RenewalTimer::Wait(std::chrono::milliseconds timeout) {
  pollfd p{fd_.get(), POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (r < 0) return EW_ERRNO("poll", "renewal timerfd");
  if (r == 0) return false;
  uint64_t expirations = 0;
  if (::read(fd_.get(), &expirations, sizeof expirations) != sizeof expirations) {
    return EW_ERRNO("read", "renewal timerfd");
  }
  return true;
}

}  // namespace edgeward::channel
