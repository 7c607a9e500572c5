// The ID object layout (Part 1 §24.1) and tpm2-tools' credential file,
// decoded with the shared bounds-checked reader.
#include <string>

#include "edgeward/attest/credential.h"
#include "wire_reader.h"

namespace edgeward::attest {
namespace {

void PutU32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

std::string Hex32(uint32_t v) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s.push_back(kDigits[(v >> shift) & 0xf]);
  return s;
}

// Reads a size-prefixed field and returns it with its prefix, as the TPM
// takes it.
Status ReadTpm2bWithPrefix(wire::Reader& r, std::string_view field, size_t max, Bytes& out) {
  Bytes body;
  EW_RETURN_IF_ERROR(r.Tpm2b(field, max, body));
  out.clear();
  out.push_back(static_cast<uint8_t>(body.size() >> 8));
  out.push_back(static_cast<uint8_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return Status::Ok();
}

}  // namespace

StatusOr<IdObject> DecodeIdObject(ByteView credential_blob) {
  wire::Reader outer(credential_blob);
  Bytes body;
  EW_RETURN_IF_ERROR(outer.Tpm2b("TPM2B_ID_OBJECT", kMaxIdObjectBytes, body));
  EW_RETURN_IF_ERROR(outer.ExpectEnd("TPM2B_ID_OBJECT"));
  wire::Reader r(body, 2);
  IdObject id;
  EW_RETURN_IF_ERROR(r.Tpm2b("TPMS_ID_OBJECT.integrityHMAC", kMaxDigestBytes, id.integrity_hmac));
  if (id.integrity_hmac.size() < 20) {
    return r.Error("TPMS_ID_OBJECT.integrityHMAC",
                   "size " + std::to_string(id.integrity_hmac.size()) + " is shorter than any digest");
  }
  // encIdentity is the rest: an encrypted TPM2B_DIGEST, so at least its size.
  if (r.remaining() < 2) return r.Error("TPMS_ID_OBJECT.encIdentity", "shorter than 2 bytes");
  if (r.remaining() > 2 + kMaxDigestBytes) {
    return r.Error("TPMS_ID_OBJECT.encIdentity", std::to_string(r.remaining()) + " bytes exceeds the maximum " +
                                                     std::to_string(2 + kMaxDigestBytes));
  }
  EW_RETURN_IF_ERROR(r.Raw("TPMS_ID_OBJECT.encIdentity", r.remaining(), id.enc_identity));
  return id;
}

Bytes EncodeCredentialFile(const Credential& credential) {
  Bytes out;
  out.reserve(8 + credential.credential_blob.size() + credential.encrypted_secret.size());
  PutU32(out, kCredentialFileMagic);
  PutU32(out, kCredentialFileVersion);
  out.insert(out.end(), credential.credential_blob.begin(), credential.credential_blob.end());
  out.insert(out.end(), credential.encrypted_secret.begin(), credential.encrypted_secret.end());
  return out;
}

StatusOr<Credential> DecodeCredentialFile(ByteView data) {
  auto decode = [&]() -> StatusOr<Credential> {
    wire::Reader r(data);
    uint32_t magic = 0;
    uint32_t version = 0;
    EW_RETURN_IF_ERROR(r.U32("magic", magic));
    if (magic != kCredentialFileMagic) {
      return wire::Reader::Error("magic", Hex32(magic) + " is not " + Hex32(kCredentialFileMagic), 0);
    }
    EW_RETURN_IF_ERROR(r.U32("version", version));
    if (version != kCredentialFileVersion) {
      return wire::Reader::Error("version", std::to_string(version) + " is not 1", 4);
    }
    Credential c;
    const size_t id_at = r.offset();
    EW_RETURN_IF_ERROR(ReadTpm2bWithPrefix(r, "TPM2B_ID_OBJECT", kMaxIdObjectBytes, c.credential_blob));
    auto id = DecodeIdObject(c.credential_blob);
    if (!id.ok()) {
      return Status(id.status().code(), id.status().message() + " (ID object at offset " + std::to_string(id_at) + ")");
    }
    EW_RETURN_IF_ERROR(
        ReadTpm2bWithPrefix(r, "TPM2B_ENCRYPTED_SECRET", kMaxEncryptedSecretBytes, c.encrypted_secret));
    if (c.encrypted_secret.size() == 2) return r.Error("TPM2B_ENCRYPTED_SECRET", "size 0");
    EW_RETURN_IF_ERROR(r.ExpectEnd("credential file"));
    return c;
  };
  auto c = decode();
  if (!c.ok()) return c.status().WithContext("credential file");
  return c;
}

}  // namespace edgeward::attest
