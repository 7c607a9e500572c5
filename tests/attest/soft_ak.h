// A software "AK" for appraisal tests: evidence signed by a key built like
// a TPM AK (restricted ECDSA P-256), so a test can choose the exact PCR
// values, clock fields and logs an attacker would send.
#pragma once

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <vector>

#include "edgeward/attest/evidence.h"
#include "edgeward/attest/tpm_wire.h"
#include "edgeward/crypto/hash.h"

namespace edgeward::attest::testutil {

using crypto::HashAlg;

inline void Put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
inline void Put32(Bytes& b, uint32_t v) {
  for (int i = 3; i >= 0; --i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void Put64(Bytes& b, uint64_t v) {
  for (int i = 7; i >= 0; --i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void PutSized(Bytes& b, const Bytes& v) {
  Put16(b, static_cast<uint16_t>(v.size()));
  b.insert(b.end(), v.begin(), v.end());
}

// A software "AK": the public area a TPM would report for a restricted
// ECDSA P-256 signing key, and the private key to sign quotes with.
class SoftAk {
 public:
  SoftAk() : key_(EVP_EC_gen("P-256"), EVP_PKEY_free) {
    Bytes x(32), y(32);
    BIGNUM* bx = nullptr;
    BIGNUM* by = nullptr;
    EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X, &bx);
    EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y, &by);
    BN_bn2binpad(bx, x.data(), 32);
    BN_bn2binpad(by, y.data(), 32);
    BN_free(bx);
    BN_free(by);
    using namespace tpma_object;
    Bytes t;
    Put16(t, 0x0023);  // ECC
    Put16(t, 0x000b);  // nameAlg sha256
    Put32(t, kFixedTpm | kFixedParent | kSensitiveDataOrigin | kUserWithAuth | kRestricted | kSign);
    Put16(t, 0);       // authPolicy
    Put16(t, 0x0010);  // symmetric: null
    Put16(t, 0x0018);  // ecdsa
    Put16(t, 0x000b);  //   sha256
    Put16(t, 0x0003);  // NIST P-256
    Put16(t, 0x0010);  // kdf: null
    PutSized(t, x);
    PutSized(t, y);
    PutSized(public_, t);
    name_ = {0x00, 0x0b};
    const Bytes h = crypto::Digest(HashAlg::kSha256, t);
    name_.insert(name_.end(), h.begin(), h.end());
  }
  const Bytes& name() const { return name_; }

  // Evidence quoting `pcrs` (sha256 bank) with clock fields, carrying `logs`.
  // PublicKeyPem and DecodeTpm2bPublic come from tpm_wire.h.
  Evidence Quote(const Bytes& nonce, const std::map<uint32_t, Bytes>& pcrs, std::vector<EvidenceEventLog> logs,
                 uint64_t clock = 5000, uint32_t resets = 3, bool safe = true) const {
    Bytes a;
    Put32(a, kTpmGenerated);
    Put16(a, tpm_st::kAttestQuote);
    PutSized(a, name_);
    PutSized(a, nonce);
    Put64(a, clock);
    Put32(a, resets);
    Put32(a, 0);
    a.push_back(safe ? 1 : 0);
    Put64(a, 0);     // firmwareVersion
    Put32(a, 1);     // one bank
    Put16(a, 0x000b);
    a.push_back(3);
    uint8_t bits[3] = {0, 0, 0};
    Bytes cat;
    for (const auto& [pcr, value] : pcrs) {
      bits[pcr / 8] |= static_cast<uint8_t>(1u << (pcr % 8));
      cat.insert(cat.end(), value.begin(), value.end());
    }
    a.insert(a.end(), bits, bits + 3);
    PutSized(a, crypto::Digest(HashAlg::kSha256, cat));

    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get());
    size_t len = 0;
    EVP_DigestSign(ctx.get(), nullptr, &len, a.data(), a.size());
    Bytes der(len);
    EVP_DigestSign(ctx.get(), der.data(), &len, a.data(), a.size());
    const unsigned char* p = der.data();
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len));
    Bytes r(32), s(32);
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), r.data(), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), s.data(), 32);
    ECDSA_SIG_free(sig);
    Bytes sg;
    Put16(sg, 0x0018);
    Put16(sg, 0x000b);
    PutSized(sg, r);
    PutSized(sg, s);

    Evidence e;
    e.node_id = "soft-node";
    e.collected_at = "2026-11-23T22:00:00Z";
    e.nonce = nonce;
    e.quote_attest = a;
    e.quote_signature = sg;
    e.ak_public = public_;
    e.ak_name = name_;
    e.ak_public_pem = *PublicKeyPem(*DecodeTpm2bPublic(public_));
    for (const auto& [pcr, value] : pcrs) e.pcrs[HashAlg::kSha256][pcr] = value;
    e.event_logs = std::move(logs);
    EXPECT_TRUE(DecodeEvidenceWire(e).ok());
    return e;
  }

 private:
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_;
  Bytes public_;
  Bytes name_;
};

}  // namespace edgeward::attest::testutil
