// edgeward's measurement log: TCG Canonical Event Log (CEL) records in the
// CEL JSON encoding, one record per line ("JSON lines"):
//
//   {"recnum":0,"pcr":14,"digests":[{"hashAlg":"sha1","digest":"<hex>"},
//    {"hashAlg":"sha256","digest":"<hex>"}],"content_type":"edgeward.file",
//    "content":{"path":"/usr/bin/x","file_hash_alg":"sha256",
//    "file_digest":"<hex>","size":123,"mtime":1700000000}}
//
// content_type "edgeward.file" is ours (a vendor content type; CEL's own
// are pcclient_std, ima_template, ima_tlv, cel). "path" is the file's path
// when it is valid UTF-8, otherwise "path_hex" holds its bytes in hex;
// "size" and "mtime" (seconds since the epoch) are optional.
//
// What is extended into each bank is H_bank(CanonicalFileContent(...)),
// a fixed binary encoding of the content (below) — not the JSON text, so
// a verifier in any language can recompute it. ParseCelLog (eventlog.h)
// recomputes it for every record and rejects a record whose digests don't
// match its content: a path or file digest in the log is only believed if
// the quoted PCR replays through it.
//
// Canonical content bytes (all integers big-endian):
//   "edgeward.file/1" 0x00             16-byte tag and version
//   u32 path length, path bytes        no NUL inside
//   u16 TPM_ALG_ID of the file digest, u16 digest length, digest bytes
//   u8 has_size  (0|1), then u64 size  if has_size
//   u8 has_mtime (0|1), then i64 mtime if has_mtime
//
// Writing: the caller builds a record (BuildCelFileRecord), appends it
// durably (AppendCelRecord) and only then extends the PCR with the
// returned digests. A crash between the two leaves a last record that the
// PCR lacks (replay then fails, visibly); a crash during the write leaves a
// partial last line, which ParseCelLog reports as a warning.
// One writer at a time: callers serialise appends (e.g. with a lock file).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "edgeward/base/bytes.h"
#include "edgeward/base/status.h"
#include "edgeward/crypto/hash.h"

namespace edgeward::attest {

inline constexpr std::string_view kCelFileContentType = "edgeward.file";
// Caps for outside input: a longer path or line is rejected.
inline constexpr size_t kMaxCelPathBytes = 4096;
inline constexpr size_t kMaxCelLineBytes = 64 * 1024;

struct CelFileMeasurement {
  std::string path;  // raw bytes; no NUL, 1..kMaxCelPathBytes
  crypto::HashAlg file_hash_alg = crypto::HashAlg::kSha256;
  Bytes file_digest;  // DigestSize(file_hash_alg) bytes
  std::optional<uint64_t> size;
  std::optional<int64_t> mtime;
};

// The canonical bytes above. kInvalidArgument for a path that is empty,
// too long or has a NUL, or a digest of the wrong size.
StatusOr<Bytes> CanonicalFileContent(const CelFileMeasurement& m);

struct CelRecord {
  std::string line;                          // one JSON object, no '\n'
  std::map<crypto::HashAlg, Bytes> digests;  // what to extend into `pcr`, per bank
};

// Builds record `recnum` for a file measurement extended into `pcr`, with a
// digest for every bank in `banks` (non-empty, no duplicates).
StatusOr<CelRecord> BuildCelFileRecord(uint64_t recnum, uint32_t pcr, const CelFileMeasurement& m,
                                       std::span<const crypto::HashAlg> banks);

// Appends `line` + '\n' to the log at `path` (created with mode 0600 if
// missing, its directory fsync'd then) and fsyncs it before returning, so
// the record is durable before the caller extends the PCR. If the file
// ends in a partial line (an earlier append cut short by a crash, whose
// extend therefore never happened) that tail is truncated away first and a
// warning is logged. Errors: kInvalidArgument for a line that is empty or
// contains '\n'; errno-derived statuses naming the failing call.
Status AppendCelRecord(const std::string& path, std::string_view line);

// The recnum the next record in the log at `path` must carry: the number of
// complete records (0 when the file does not exist). Fails if the log does
// not parse.
StatusOr<uint64_t> NextCelRecnum(const std::string& path);

}  // namespace edgeward::attest
