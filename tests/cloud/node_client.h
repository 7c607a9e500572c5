// A test-only node: a private swtpm, edgeward's TPM layer for the TPM side,
// and an httplib::SSLClient for HTTPS (the production node client lives in
// agent/channel). Everything the node sends is real: EK certificate, AK,
// ActivateCredential, quotes.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "edgeward/cloud/api.h"
#include "edgeward/cloud/verifier.h"
#include "edgeward/crypto/ed25519.h"
#include "edgeward/tpm/ek.h"
#include "edgeward/tpm/tpm.h"
#include "swtpm.h"

namespace edgeward::cloud::testing {

struct HttpResult {
  int status = 0;  // 0: no HTTP response (TLS or connection failure)
  std::string body;
  std::string etag;
  std::string error;  // httplib's error when status is 0
};

// Client identity for a request.
struct ClientCert {
  std::string cert_pem;
  std::string key_pem;
};

HttpResult Request(int port, const std::string& ca_pem, const std::optional<ClientCert>& cert, const std::string& method,
                   const std::string& path, const std::string& body, const std::string& if_none_match = "");

// The `error` field of a JSON error reply ("" if it isn't one).
std::string ErrorOf(const HttpResult& r);

class TestNode {
 public:
  static StatusOr<std::unique_ptr<TestNode>> Create(std::string node_id);
  ~TestNode();

  const std::string& node_id() const { return node_id_; }
  tpm::Tpm& tpm() { return *tpm_; }
  const std::string& state_dir() const { return state_.path(); }
  const Bytes& tls_spki() const { return tls_spki_; }
  const std::string& tls_key_pem() const { return tls_key_pem_; }
  const crypto::Ed25519SigningKey& signing_key() const { return *signing_; }

  // The registration request for this TPM's EK (RSA, or ECC when asked).
  StatusOr<RegisterRequest> MakeRegisterRequest(tpm::EkPreference ek = tpm::EkPreference::kAuto);
  // TPM2_ActivateCredential on the verifier's challenge.
  StatusOr<Bytes> Activate(const RegisterChallenge& challenge);
  // Evidence over `qualifying_data` (collect: EK, AK, quote), with the IMA
  // log (when MeasureIma was called) from entry `ima_start` on.
  StatusOr<attest::Evidence> Collect(ByteView qualifying_data, uint64_t ima_start = 0);

  // IMA as the kernel keeps it: one ima-ng line appended to a log in the
  // state dir and its template hash extended into PCR 10 (sha1, sha256).
  Status MeasureIma(const std::string& path, const std::string& content = "");
  size_t ima_entries() const { return ima_entries_; }
  const std::string& ima_log_path() const { return ima_log_path_; }
  // A power cycle: swtpm restarted (TPM2_Startup(CLEAR): resetCount + 1,
  // PCRs back to zero) and, as after a reboot, a new empty IMA log.
  Status Reboot();

 private:
  TestNode() = default;
  std::string node_id_;
  edgeward::testing::TempDir state_;
  std::unique_ptr<edgeward::testing::Swtpm> swtpm_;
  std::unique_ptr<tpm::Tpm> tpm_;  // destroyed before swtpm_ (declared after)
  std::optional<crypto::Ed25519SigningKey> signing_;
  std::string tls_key_pem_;
  Bytes tls_spki_;
  std::string ima_log_path_;
  size_t ima_entries_ = 0;
};

}  // namespace edgeward::cloud::testing
