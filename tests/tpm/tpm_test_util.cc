#include "tpm_test_util.h"

#include <fstream>
#include <iterator>

#include "edgeward/crypto/hash.h"

namespace edgeward::tpm::test {
namespace {

class Reader {
 public:
  explicit Reader(const Bytes& b) : b_(b) {}
  uint8_t U8() { return b_.at(pos_++); }
  uint16_t U16() {
    uint16_t hi = U8();
    return static_cast<uint16_t>((hi << 8) | U8());
  }
  uint32_t U32() {
    uint32_t hi = U16();
    return (hi << 16) | U16();
  }
  uint64_t U64() {
    uint64_t hi = U32();
    return (hi << 32) | U32();
  }
  Bytes Take(size_t n) {
    if (pos_ + n > b_.size()) throw std::out_of_range("short structure");
    Bytes out(b_.begin() + static_cast<ptrdiff_t>(pos_), b_.begin() + static_cast<ptrdiff_t>(pos_ + n));
    pos_ += n;
    return out;
  }
  Bytes Sized() { return Take(U16()); }
  bool done() const { return pos_ == b_.size(); }

 private:
  const Bytes& b_;
  size_t pos_ = 0;
};

}  // namespace

void SwtpmTest::SetUp() {
  auto s = testing::Swtpm::Start();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  swtpm_ = std::move(*s);
  auto t = Tpm::Open(swtpm_->tcti());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  tpm_.emplace(std::move(*t));
}

void SwtpmTest::Reopen() {
  tpm_.reset();
  auto t = Tpm::Open(swtpm_->tcti());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  tpm_.emplace(std::move(*t));
}

ParsedQuote ParseQuote(const Bytes& attest) {
  Reader r(attest);
  ParsedQuote q;
  q.magic = r.U32();
  q.type = r.U16();
  r.Sized();  // qualifiedSigner
  q.extra_data = r.Sized();
  r.U64();  // clock
  q.reset_count = r.U32();
  r.U32();  // restartCount
  r.U8();   // safe
  r.U64();  // firmwareVersion
  uint32_t banks = r.U32();
  for (uint32_t b = 0; b < banks; ++b) {
    uint16_t alg = r.U16();
    Bytes bits = r.Take(r.U8());
    std::vector<uint32_t> idx;
    for (size_t i = 0; i < bits.size() * 8; ++i) {
      if (bits[i / 8] & (1u << (i % 8))) idx.push_back(static_cast<uint32_t>(i));
    }
    q.selection.emplace_back(alg, idx);
  }
  q.pcr_digest = r.Sized();
  EXPECT_TRUE(r.done());
  return q;
}

bool SignatureVerifies(const std::string& pem, const Bytes& signature, const Bytes& message) {
  auto key = crypto::PublicKey::FromPem(pem);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  if (!key.ok()) return false;
  Reader r(signature);
  uint16_t sig_alg = r.U16();
  uint16_t hash_alg = r.U16();
  EXPECT_EQ(hash_alg, 0x000B);  // SHA-256
  Bytes sig;
  crypto::SignatureScheme scheme;
  if (sig_alg == 0x0018) {  // TPM_ALG_ECDSA
    Bytes rr = r.Sized();
    Bytes ss = r.Sized();
    auto der = crypto::EcdsaRawToDer(rr, ss);
    EXPECT_TRUE(der.ok());
    sig = *der;
    scheme = crypto::SignatureScheme::kEcdsa;
  } else if (sig_alg == 0x0014) {  // TPM_ALG_RSASSA
    sig = r.Sized();
    scheme = crypto::SignatureScheme::kRsaPkcs1v15;
  } else {
    ADD_FAILURE() << "unexpected signature algorithm " << sig_alg;
    return false;
  }
  EXPECT_TRUE(r.done());
  auto check = key->VerifySignature(scheme, crypto::HashAlg::kSha256, message, sig);
  EXPECT_TRUE(check.ok()) << check.status().ToString();
  return check.ok() && *check == crypto::SignatureCheck::kValid;
}

Bytes ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const Bytes& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

}  // namespace edgeward::tpm::test
