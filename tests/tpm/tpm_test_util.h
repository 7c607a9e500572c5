// Shared fixtures and helpers for the swtpm-backed edgeward::tpm tests.
// Byte structures are decoded here by hand (not with the library under test).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "edgeward/base/bytes.h"
#include "edgeward/crypto/public_key.h"
#include "edgeward/tpm/tpm.h"
#include "swtpm.h"

namespace edgeward::tpm::test {

// A private swtpm per test and an open Tpm on it.
class SwtpmTest : public ::testing::Test {
 protected:
  void SetUp() override;
  Tpm& tpm() { return *tpm_; }
  testing::Swtpm& swtpm() { return *swtpm_; }
  // Closes and reopens the Tpm (same swtpm).
  void Reopen();

  std::unique_ptr<testing::Swtpm> swtpm_;
  std::optional<Tpm> tpm_;
};

// The fields of a TPMS_ATTEST quote that the tests look at.
struct ParsedQuote {
  uint32_t magic = 0;
  uint16_t type = 0;
  Bytes extra_data;  // the nonce
  uint32_t reset_count = 0;
  std::vector<std::pair<uint16_t, std::vector<uint32_t>>> selection;  // bank alg id → indices
  Bytes pcr_digest;
};
ParsedQuote ParseQuote(const Bytes& attest);

// Verifies a marshalled TPMT_SIGNATURE (ECDSA or RSASSA, SHA-256) over
// `message` with the PEM public key.
bool SignatureVerifies(const std::string& pem, const Bytes& signature, const Bytes& message);

Bytes ReadFile(const std::string& path);
void WriteFile(const std::string& path, const Bytes& data);

}  // namespace edgeward::tpm::test
