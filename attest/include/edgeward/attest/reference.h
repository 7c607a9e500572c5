// Reference values: what a verifier compares evidence against — golden PCR
// values and the digests each measured file is allowed to have — read from a
// YAML file (schema and example: docs/reference-values.md).
//
// Parse errors are kInvalidArgument and carry the source name, line and
// column (1-based) and the field, e.g.
// "ref.yaml:7:5: pcrs.sha256.7: value is 62 hex digits, sha256 needs 64";
// a misspelt key gets a suggestion ("unknown key 'unknwon_files' (did you
// mean 'unknown_files'?)"). All functions are thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "edgeward/attest/evidence.h"
#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/hash.h"
#include "edgeward/tpm/pcr_types.h"

namespace edgeward::attest {

inline constexpr int kReferenceVersion = 1;
inline constexpr size_t kMaxReferenceBytes = 64u << 20;

// What to do with a measured file that has no entry in `files`.
enum class UnknownFilePolicy { kFail, kWarn, kIgnore };
std::string_view UnknownFilePolicyName(UnknownFilePolicy p);  // "fail", "warn", "ignore"

struct AllowedDigest {
  crypto::HashAlg alg = crypto::HashAlg::kSha256;
  Bytes digest;
  bool operator==(const AllowedDigest&) const = default;
};
// "sha256:9f86d0..." — the form used in the file and in verdicts.
std::string FormatDigest(crypto::HashAlg alg, ByteView digest);

// A runtime measurement log the evidence must carry and that must explain
// a PCR: the PCR has no golden value because its value depends on what was
// measured; the log's files are checked instead. Without this requirement,
// leaving the log out of the evidence would hide every file measurement.
struct RequiredLog {
  EventLogFormat format = EventLogFormat::kCel;  // kIma or kCel
  uint32_t pcr = 0;
  bool operator==(const RequiredLog&) const = default;
  auto operator<=>(const RequiredLog&) const = default;
};

struct ReferenceValues {
  int version = kReferenceVersion;
  std::optional<std::string> node_id;  // when set, evidence must come from this node
  // The TPM name of the node's AK (nameAlg || H(TPMT_PUBLIC)). When set,
  // evidence signed by another AK fails (unless the verifier pins one itself).
  std::optional<Bytes> ak_name;
  // Each (format, PCR): the PCR must be in the quote and a log of that
  // format in the evidence must replay to its quoted value.
  std::vector<RequiredLog> runtime_logs;
  tpm::PcrValues pcrs;                 // golden PCR values (bank → index → value)
  // path → the digests the file may have (any one matches).
  std::unordered_map<std::string, std::vector<AllowedDigest>> files;
  UnknownFilePolicy unknown_files = UnknownFilePolicy::kFail;
  // Measured paths starting with one of these are not checked at all.
  std::vector<std::string> exclude;

  bool IsExcluded(std::string_view path) const;
};

// Parses YAML text; `source` names it in errors (usually the file path).
StatusOr<ReferenceValues> ParseReferenceValues(std::string_view yaml, std::string_view source = "reference values");
// Reads (at most kMaxReferenceBytes) and parses `path`.
StatusOr<ReferenceValues> LoadReferenceValues(const std::string& path);
// YAML text that ParseReferenceValues reads back to the same values; keys
// are sorted so the output is stable.
std::string FormatReferenceValues(const ReferenceValues& ref);

// Reference values from a known-good node's evidence (for `edgeward attest
// reference --from evidence.json`): golden PCRs = the PCRs in the quote's
// signed selection, except those the IMA/CEL logs extend (their values
// depend on measurement order; their files are checked instead, and each
// such (format, PCR) becomes a runtime_logs requirement); allowed digests =
// every file in the IMA and CEL logs whose event the quote covers, one entry
// per path with each digest seen; ak_name = the name computed from the
// evidence's AK public area; unknown_files: fail.
// The evidence is first appraised against its own nonce (AK, signature,
// selection, pcrDigest, every log's replay); if any of that fails →
// kFailedPrecondition listing why, so unverifiable claims never become
// golden values. Freshness is the caller's business: appraise against the
// real challenge before trusting the node at all.
StatusOr<ReferenceValues> ReferenceFromEvidence(const Evidence& evidence);

}  // namespace edgeward::attest
