// Event logs and their replay: the common shape of the three log formats
// edgeward reads (UEFI firmware log, Linux IMA log, our CEL-JSON log).
//
// A parser turns outside bytes into a ParsedLog or an error that names the
// format, the event index and the byte offset or line. Replay computes the
// PCR values the log implies, starting from all-zero PCRs (UEFI PCR 0 may
// start from the locality in an EV_NO_ACTION StartupLocality event).
// Parsers never trust a field that replay does not reproduce: each event
// carries the digests that were extended, and — where the format allows a
// check — whether those digests match the event's own content.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/hash.h"
#include "edgeward/tpm/pcr_types.h"

namespace edgeward::attest {

using crypto::HashAlg;

enum class EventLogFormat { kUefi, kIma, kCel };
std::string_view EventLogFormatName(EventLogFormat f);  // "uefi", "ima", "cel"
std::optional<EventLogFormat> EventLogFormatFromName(std::string_view name);

struct LogEvent {
  size_t index = 0;        // 0-based position in the log
  uint32_t pcr = 0;
  std::string type;        // "EV_EFI_BOOT_SERVICES_APPLICATION", "ima-ng", "edgeward.file", ...
  // What was extended into each bank. For IMA, the template hash per bank.
  std::map<HashAlg, Bytes> digests;
  // For file measurements (IMA templates, our CEL file events): the path and
  // the file's content digest as recorded in the event; empty otherwise.
  std::string path;
  std::optional<HashAlg> file_digest_alg;
  Bytes file_digest;
  // A human-readable summary of the event data (a UEFI variable name, a
  // device path, an IMA signature's presence...). Never used for decisions.
  std::string description;
  // Whether the event carries a measurement that is not extended (e.g.
  // EV_NO_ACTION): true → it does not take part in replay.
  bool not_extended = false;
};

struct ParsedLog {
  EventLogFormat format = EventLogFormat::kUefi;
  std::vector<LogEvent> events;
  // The banks the log records digests for.
  std::vector<HashAlg> banks;
  // Non-fatal facts a verifier should see (e.g. "trailing partial record
  // at line 7 ignored"). Fatal problems are errors instead.
  std::vector<std::string> warnings;
};

// Input size caps: a log larger than this is rejected (kResourceExhausted).
inline constexpr size_t kMaxEventLogBytes = 64u << 20;

// TCG PC Client Platform Firmware Profile event log: the SHA-1-only format
// and the crypto-agile format (detected from the Spec ID event).
StatusOr<ParsedLog> ParseUefiLog(ByteView data);

// Linux IMA ascii_runtime_measurements: templates "ima", "ima-ng",
// "ima-sig" (and "ima-buf"). `template_hash_alg` is the bank the file's
// template-hash column is in (sha1 for ascii_runtime_measurements,
// sha256 for ascii_runtime_measurements_sha256). Other banks' template
// digests are computed from the template data so the log can replay into
// any bank.
StatusOr<ParsedLog> ParseImaLog(std::string_view text, HashAlg template_hash_alg = HashAlg::kSha1);

// edgeward's measurement log: TCG Canonical Event Log records in JSON, one
// record per line (see cel.h for the record layout and how we write it).
StatusOr<ParsedLog> ParseCelLog(std::string_view text);

// Replays `log` into the given banks: for every extended event, PCR[pcr] =
// H(PCR[pcr] || digest[bank]). Banks the log has no digest for are left
// out. For IMA, a template hash of all zeros (a violation) extends all 0xff.
// Result contains only the PCRs the log touches.
tpm::PcrValues Replay(const ParsedLog& log);

}  // namespace edgeward::attest
