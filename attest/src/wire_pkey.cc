// TPMT_PUBLIC → OpenSSL EVP_PKEY / PEM.
#include "wire_pkey.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>

namespace edgeward::attest::wire {

const char* OsslCurveName(uint16_t tpm_curve) {
  switch (tpm_curve) {
    case tpm_ecc::kNistP256: return "P-256";
    case tpm_ecc::kNistP384: return "P-384";
    case tpm_ecc::kNistP521: return "P-521";
    default: return nullptr;
  }
}

namespace {

size_t FieldBytes(uint16_t curve) {
  switch (curve) {
    case tpm_ecc::kNistP256: return 32;
    case tpm_ecc::kNistP384: return 48;
    case tpm_ecc::kNistP521: return 66;
    default: return 0;
  }
}

StatusOr<crypto::EvpPkeyPtr> FromData(const char* type, OSSL_PARAM* params, std::string_view what) {
  crypto::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx) return crypto::OpensslError("EVP_PKEY_CTX_new_from_name");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
    return crypto::OpensslError(std::string("EVP_PKEY_fromdata(") + std::string(what) + ")",
                                StatusCode::kInvalidArgument);
  }
  return crypto::EvpPkeyPtr(raw);
}

}  // namespace

StatusOr<crypto::EvpPkeyPtr> TpmPublicToPkey(const TpmtPublic& pub) {
  if (pub.type == tpm_alg::kEcc) {
    const char* curve = OsslCurveName(pub.ecc_curve);
    const size_t n = FieldBytes(pub.ecc_curve);
    if (curve == nullptr) {
      return Unimplemented("TPMT_PUBLIC.parameters.eccDetail.curveID: curve " + TpmAlgName(pub.ecc_curve) +
                           " is not supported");
    }
    if (pub.ecc_x.size() > n || pub.ecc_y.size() > n || pub.ecc_x.empty() || pub.ecc_y.empty()) {
      return InvalidArgument("TPMT_PUBLIC.unique.ecc: point coordinates of " + std::to_string(pub.ecc_x.size()) +
                             "/" + std::to_string(pub.ecc_y.size()) + " bytes do not fit " + curve);
    }
    // Uncompressed point 04 || x || y, each coordinate left-padded.
    uint8_t point[1 + 2 * 66] = {0x04};
    std::copy(pub.ecc_x.begin(), pub.ecc_x.end(), point + 1 + (n - pub.ecc_x.size()));
    std::copy(pub.ecc_y.begin(), pub.ecc_y.end(), point + 1 + n + (n - pub.ecc_y.size()));
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(curve), 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * n),
        OSSL_PARAM_construct_end(),
    };
    auto key = FromData("EC", params, "TPMT_PUBLIC.unique.ecc");
    if (!key.ok()) return key.status().WithContext("TPMT_PUBLIC.unique.ecc: not a point on the curve");
    return key;
  }
  if (pub.type == tpm_alg::kRsa) {
    if (pub.rsa_modulus.empty()) return InvalidArgument("TPMT_PUBLIC.unique.rsa: empty modulus");
    crypto::BignumPtr n(BN_bin2bn(pub.rsa_modulus.data(), static_cast<int>(pub.rsa_modulus.size()), nullptr));
    crypto::BignumPtr e(BN_new());
    if (!n || !e || !BN_set_word(e.get(), pub.rsa_exponent == 0 ? 65537 : pub.rsa_exponent)) {
      return crypto::OpensslError("BN_bin2bn");
    }
    crypto::OsslParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get())) {
      return crypto::OpensslError("OSSL_PARAM_BLD_push_BN");
    }
    crypto::OsslParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
    if (!params) return crypto::OpensslError("OSSL_PARAM_BLD_to_param");
    return FromData("RSA", params.get(), "TPMT_PUBLIC.unique.rsa");
  }
  return InvalidArgument("TPMT_PUBLIC.type: " + TpmAlgName(pub.type) + " is not an asymmetric key");
}

}  // namespace edgeward::attest::wire

namespace edgeward::attest {

StatusOr<std::string> PublicKeyPem(const TpmtPublic& pub) {
  EW_ASSIGN_OR_RETURN(crypto::EvpPkeyPtr key, wire::TpmPublicToPkey(pub));
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) return crypto::OpensslError("PEM_write_bio_PUBKEY");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace edgeward::attest
