#include "internal/public_key.h"

#include "edgeward/crypto/hash.h"
#include "internal/marshal.h"

namespace edgeward::tpm::internal {

StatusOr<crypto::PublicKey> PublicKeyFromTpmt(const TPMT_PUBLIC& pub) {
  switch (pub.type) {
    case TPM2_ALG_RSA:
      return crypto::PublicKey::FromRsaModulus(ByteView(pub.unique.rsa.buffer, pub.unique.rsa.size),
                                               pub.parameters.rsaDetail.exponent);
    case TPM2_ALG_ECC: {
      auto curve = crypto::EcCurveFromTpmId(pub.parameters.eccDetail.curveID);
      if (!curve) {
        return Unimplemented("ECC curve " + std::to_string(pub.parameters.eccDetail.curveID) +
                             " is not supported");
      }
      return crypto::PublicKey::FromEcPoint(*curve, ByteView(pub.unique.ecc.x.buffer, pub.unique.ecc.x.size),
                                            ByteView(pub.unique.ecc.y.buffer, pub.unique.ecc.y.size));
    }
    default:
      return Unimplemented("public key type " + std::to_string(pub.type) + " is not supported");
  }
}

StatusOr<Bytes> ObjectName(const TPMT_PUBLIC& pub) {
  auto alg = crypto::HashAlgFromTpmId(pub.nameAlg);
  if (!alg) return Unimplemented("name algorithm " + std::to_string(pub.nameAlg) + " is not supported");
  EW_ASSIGN_OR_RETURN(Bytes marshalled, EW_MU_MARSHAL(TPMT_PUBLIC, pub));
  Bytes digest = crypto::Digest(*alg, marshalled);
  Bytes name{static_cast<uint8_t>(pub.nameAlg >> 8), static_cast<uint8_t>(pub.nameAlg & 0xFF)};
  name.insert(name.end(), digest.begin(), digest.end());
  return name;
}

}  // namespace edgeward::tpm::internal
