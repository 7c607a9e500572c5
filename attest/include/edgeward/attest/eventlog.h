// Event logs and their replay: the common shape of the three log formats
// edgeward reads (UEFI firmware log, Linux IMA log, our CEL-JSON log).
//
// A parser turns outside bytes into a ParsedLog or an error that names the
// format, the event index and the byte offset or line. Replay computes the
// PCR values the log implies, starting from all-zero PCRs (UEFI PCR 0 may
// start from the locality in an EV_NO_ACTION StartupLocality event).
// Parsers never trust a field that replay does not reproduce: each event
// carries the digests that were extended, and — where the format allows a
// check — those digests are checked against the event's own content (IMA
// template hashes, CEL file records); a mismatch is an error.
//
// Errors: kInvalidArgument for malformed input (message starts with the
// format name, e.g. "uefi log: event 12 at offset 0x1a2: ..." or
// "ima log: line 7: ..."), kResourceExhausted for input over the caps
// below. Everything here is pure computation: thread-safe on distinct
// inputs, no I/O (see cel.h for writing our log).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
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
  size_t index = 0;  // 0-based position in the log
  uint32_t pcr = 0;
  std::string type;  // "EV_EFI_BOOT_SERVICES_APPLICATION", "ima-ng", "edgeward.file", ...
  // What was extended into each bank. For IMA, the template hash per bank.
  std::map<HashAlg, Bytes> digests;
  // For file measurements (IMA templates, our CEL file events): the path and
  // the file's content digest as recorded in the event; empty otherwise.
  // file_digest_alg is unset when the algorithm is not one of HashAlg (an
  // IMA "md5:" digest, say); the name is then in `description`.
  std::string path;
  std::optional<HashAlg> file_digest_alg;
  Bytes file_digest;
  // A human-readable summary of the event data (a UEFI variable name, a
  // device path, an IMA signature's presence...). Never used for decisions.
  std::string description;
  // Whether the event carries a measurement that is not extended (e.g.
  // EV_NO_ACTION): true → it does not take part in replay.
  bool not_extended = false;
  // Where the event starts in the input: byte offset (UEFI) or 1-based
  // line number (IMA, CEL). For error messages and verdicts.
  size_t offset = 0;
  size_t line = 0;
};

struct ParsedLog {
  EventLogFormat format = EventLogFormat::kUefi;
  std::vector<LogEvent> events;
  // The banks the log records digests for.
  std::vector<HashAlg> banks;
  // Non-fatal facts a verifier should see (e.g. "trailing partial record
  // at line 7 ignored"). Fatal problems are errors instead.
  std::vector<std::string> warnings;
  // UEFI only: the locality of a StartupLocality EV_NO_ACTION event. PCR 0
  // then starts at 0x00..00<locality> in every bank instead of all zeros.
  std::optional<uint8_t> startup_locality;
};

// Input size caps: a log larger than this is rejected (kResourceExhausted);
// so is one with more events than kMaxEventLogEvents.
inline constexpr size_t kMaxEventLogBytes = 64u << 20;
inline constexpr size_t kMaxEventLogEvents = 2'000'000;

// TCG PC Client Platform Firmware Profile event log: the SHA-1-only format
// (TCG_PCR_EVENT records) and the crypto-agile format (a first
// EV_NO_ACTION "Spec ID Event03" record, then TCG_PCR_EVENT2 records).
// Digests for algorithms edgeward does not know are skipped (their size
// comes from the Spec ID event).
StatusOr<ParsedLog> ParseUefiLog(ByteView data);

// The banks ParseImaLog computes template hashes for by default.
inline constexpr HashAlg kDefaultImaBanks[] = {HashAlg::kSha1, HashAlg::kSha256};

// Linux IMA ascii_runtime_measurements: templates "ima", "ima-ng",
// "ima-sig" and "ima-buf". `template_hash_alg` is the bank the file's
// template-hash column is in (sha1 for ascii_runtime_measurements,
// sha256 for ascii_runtime_measurements_sha256). The template data is
// rebuilt from each line (the kernel's binary layout) and hashed: the
// column must equal its hash in `template_hash_alg` (else an error naming
// the line), and the hash in every bank of `banks` becomes that bank's
// digest, so the log replays into any bank. A zero template hash marks a
// violation: it is not checked, and replay extends all 0xff.
StatusOr<ParsedLog> ParseImaLog(std::string_view text, HashAlg template_hash_alg = HashAlg::kSha1,
                                std::span<const HashAlg> banks = kDefaultImaBanks);

// edgeward's measurement log: TCG Canonical Event Log records in JSON, one
// record per line (see cel.h for the record layout and how we write it).
// recnum must run 0, 1, 2, ... (a gap or duplicate is an error); each
// record's digests must equal the hash of its content in that bank. A last
// line without its newline that does not parse (a write cut short by a
// crash) is left out and reported in `warnings`.
StatusOr<ParsedLog> ParseCelLog(std::string_view text);

// Guesses the format from content: a CEL log starts with '{', an IMA log
// with a decimal PCR number followed by a space; anything else that is at
// least one TCG_PCR_EVENT header long is taken as UEFI binary. nullopt for
// empty input.
std::optional<EventLogFormat> DetectEventLogFormat(ByteView data);

// Parses `data` in `format`, or in the detected format when unset.
StatusOr<ParsedLog> ParseEventLog(ByteView data, std::optional<EventLogFormat> format = std::nullopt);

// Replays `log` into the given banks: for every extended event, PCR[pcr] =
// H(PCR[pcr] || digest[bank]). Banks the log has no digest for are left
// out. For IMA, a template hash of all zeros (a violation) extends all 0xff.
// Result contains only the PCRs the log touches (PCR 0 also when a
// StartupLocality event sets its initial value).
tpm::PcrValues Replay(const ParsedLog& log);

// Human text for `edgeward attest log`: one block per event, then the PCR
// values per bank (like tpm2_eventlog's "pcrs:" section).
std::string FormatLogText(const ParsedLog& log, const tpm::PcrValues& pcrs);
// The same as one JSON document: {"format", "events": [...], "pcrs":
// {bank: {index: hex}}, "warnings": [...]}.
std::string FormatLogJson(const ParsedLog& log, const tpm::PcrValues& pcrs);

// The name of a TCG PC Client event type ("EV_SEPARATOR"), or
// "EV_UNKNOWN_0x........" for a value the spec does not define.
std::string UefiEventTypeName(uint32_t type);

}  // namespace edgeward::attest
