// TPMT_PUBLIC → crypto::PublicKey / PEM.
#include "edgeward/attest/tpm_wire.h"

namespace edgeward::attest {

StatusOr<crypto::PublicKey> PublicKeyOf(const TpmtPublic& pub) {
  if (pub.type == tpm_alg::kEcc) {
    auto curve = crypto::EcCurveFromTpmId(pub.ecc_curve);
    if (!curve) {
      return Unimplemented("TPMT_PUBLIC.parameters.eccDetail.curveID: curve " + TpmAlgName(pub.ecc_curve) +
                           " is not supported");
    }
    if (pub.ecc_x.empty() || pub.ecc_y.empty()) return InvalidArgument("TPMT_PUBLIC.unique.ecc: empty point");
    auto key = crypto::PublicKey::FromEcPoint(*curve, pub.ecc_x, pub.ecc_y);
    if (!key.ok()) return key.status().WithContext("TPMT_PUBLIC.unique.ecc");
    return key;
  }
  if (pub.type == tpm_alg::kRsa) {
    if (pub.rsa_modulus.empty()) return InvalidArgument("TPMT_PUBLIC.unique.rsa: empty modulus");
    auto key = crypto::PublicKey::FromRsaModulus(pub.rsa_modulus, pub.rsa_exponent);
    if (!key.ok()) return key.status().WithContext("TPMT_PUBLIC.unique.rsa");
    return key;
  }
  return InvalidArgument("TPMT_PUBLIC.type: " + TpmAlgName(pub.type) + " is not an asymmetric key");
}

StatusOr<std::string> PublicKeyPem(const TpmtPublic& pub) {
  EW_ASSIGN_OR_RETURN(crypto::PublicKey key, PublicKeyOf(pub));
  return key.ToPem();
}

}  // namespace edgeward::attest
