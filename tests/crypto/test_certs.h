// Builds small CAs and leaf certificates with OpenSSL for X.509 tests.
#pragma once

#include <string>
#include <vector>

#include "edgeward/base/bytes.h"
#include "edgeward/crypto/openssl_ptr.h"
#include "edgeward/crypto/x509.h"

namespace edgeward::crypto::testing {

struct RawExtension {
  std::string oid;  // dotted
  bool critical;
  Bytes der_value;  // the extnValue contents (DER of the extension's type)
};

struct CertSpec {
  std::string subject_cn;            // empty → empty subject name
  long not_before_offset_s = -3600;  // relative to now
  long not_after_offset_s = 86400;
  bool is_ca = false;
  std::string san_dirname;           // "" → none; else a critical SAN with this CN in a directoryName
  std::vector<std::string> ekus;     // dotted OIDs; empty → no extension
  std::vector<RawExtension> extra;
};

struct Issued {
  EvpPkeyPtr key;
  Certificate cert;
};

// Self-signed when `issuer` is null.
Issued Issue(const CertSpec& spec, const Issued* issuer);

}  // namespace edgeward::crypto::testing
