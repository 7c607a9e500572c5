// Helpers for the event-log tests: an independent writer of IMA lines (the
// kernel's template layout written out again here, so a parser bug can't
// hide behind a shared helper) and tpm2-tools wrappers to extend and read a
// swtpm's PCRs.
#pragma once

#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "edgeward/base/bytes.h"
#include "edgeward/crypto/hash.h"
#include "swtpm.h"

namespace edgeward::attest::testutil {

using crypto::HashAlg;
using Digests = std::map<HashAlg, Bytes>;

inline void PutLe32(Bytes& b, size_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>((v >> (8 * i)) & 0xff));
}

// One IMA measurement, as the kernel would log and extend it.
struct ImaEntry {
  std::string line;       // without '\n'
  Digests template_hash;  // what the kernel extends into PCR 10 per bank
};

inline ImaEntry ImaLine(const std::string& tmpl, const std::string& algo, const Bytes& file_digest,
                        const std::string& name, const Bytes& extra = {}, bool violation = false) {
  Bytes data;
  std::string digest_text;
  if (tmpl == "ima") {
    data = file_digest;
    data.insert(data.end(), name.begin(), name.end());
    data.resize(file_digest.size() + 256, 0);
    digest_text = HexEncode(file_digest);
  } else {
    PutLe32(data, algo.size() + 2 + file_digest.size());
    data.insert(data.end(), algo.begin(), algo.end());
    data.push_back(':');
    data.push_back(0);
    data.insert(data.end(), file_digest.begin(), file_digest.end());
    PutLe32(data, name.size() + 1);
    data.insert(data.end(), name.begin(), name.end());
    data.push_back(0);
    if (tmpl == "ima-sig" || tmpl == "ima-buf") {
      PutLe32(data, extra.size());
      data.insert(data.end(), extra.begin(), extra.end());
    }
    digest_text = algo + ":" + HexEncode(file_digest);
  }
  ImaEntry e;
  for (HashAlg b : {HashAlg::kSha1, HashAlg::kSha256}) {
    e.template_hash[b] = violation ? Bytes(crypto::DigestSize(b), 0) : crypto::Digest(b, data);
  }
  e.line = "10 " + HexEncode(e.template_hash[HashAlg::kSha1]) + " " + tmpl + " " + digest_text + " " + name;
  if (tmpl == "ima-sig" || tmpl == "ima-buf") e.line += " " + HexEncode(extra);
  return e;
}

// What the TPM gets extended with for an IMA entry: a violation extends
// all 0xff in every bank.
inline Digests ImaExtendValue(const ImaEntry& e) {
  Digests out;
  for (const auto& [bank, d] : e.template_hash) {
    bool zero = true;
    for (uint8_t c : d) zero &= (c == 0);
    out[bank] = zero ? Bytes(d.size(), 0xff) : d;
  }
  return out;
}

// Extends `pcr` with each value in order, in batches of tpm2_pcrextend
// arguments. Returns "" or the failing command's output.
inline std::string ExtendPcr(const std::string& tcti, uint32_t pcr, const std::vector<Digests>& values) {
  for (size_t i = 0; i < values.size();) {
    std::string cmd = "tpm2_pcrextend -T '" + tcti + "'";
    for (size_t n = 0; n < 32 && i < values.size(); ++n, ++i) {
      cmd += " " + std::to_string(pcr) + ":";
      bool first = true;
      for (const auto& [bank, d] : values[i]) {
        cmd += (first ? "" : ",") + std::string(crypto::HashAlgName(bank)) + "=" + HexEncode(d);
        first = false;
      }
    }
    auto r = testing::RunCommand(cmd + " 2>&1");
    if (r.exit_code != 0) return cmd + ": " + r.output;
  }
  return "";
}

// Reads `pcr` in the sha1 and sha256 banks with tpm2_pcrread.
inline Digests ReadPcr(const std::string& tcti, uint32_t pcr) {
  auto r = testing::RunCommand("tpm2_pcrread -T '" + tcti + "' sha1:" + std::to_string(pcr) +
                               "+sha256:" + std::to_string(pcr) + " 2>&1");
  Digests out;
  std::istringstream in(r.output);
  std::string line;
  std::optional<HashAlg> bank;
  while (std::getline(in, line)) {
    auto first = line.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    std::string t = line.substr(first);
    if (!t.empty() && t.back() == ':') {
      bank = crypto::HashAlgFromName(t.substr(0, t.size() - 1));
    } else if (bank && t.find("0x") != std::string::npos) {
      auto hex = HexDecode(t.substr(t.find("0x") + 2));
      if (hex.ok()) out[*bank] = *hex;
    }
  }
  return out;
}

}  // namespace edgeward::attest::testutil
