// Spool: the node's durable, encrypted outbound queue (store-and-forward).
// Messages for the cloud (attestation reports, events, telemetry) are
// appended here first and delivered in sequence order when the cloud can
// be reached (docs/spool.md has the format and every rule below).
//
// Durability. Append() returns once the record is in the kernel (one
// write(2)): a process crash or SIGKILL loses nothing that Append returned
// for. Records reach the disk in batches (fsync every
// `fsync_every_records` appends or `fsync_interval`, whichever first) and on
// Flush(): after a power loss, everything up to the last Flush() (or batch
// sync) survives; a torn tail is detected and quarantined.
//
// Delivery. Peek(n) returns the first n unacknowledged messages in sequence
// order; Ack(ids) removes them (persisted, so a restart does not resend
// them; an ack lost to power loss only causes a resend). Sequence numbers
// are monotonic across restarts. Delivery is at-least-once; the verifier
// deduplicates by message id, which makes it exactly-once end to end.
//
// Bound and drop rule. Live (unacknowledged) record bytes stay within
// max_bytes. When an append would exceed it, the oldest message of the
// least important priority present is dropped, but never one more
// important than the message being appended: if only more important
// messages remain, the new message is refused (kResourceExhausted).
// Attestation is therefore dropped only when nothing but attestation
// remains and the new message is attestation too. Drops are counted per
// priority in stats().
//
// Corruption. A segment that fails authentication or ends in a torn record
// is moved to <dir>/quarantine/ at Open(); its intact, unacknowledged prefix
// is copied to a new segment first, so it is still delivered. Each such
// event is counted and reported in quarantine_reports().
//
// Ownership and threads: one Spool per directory per host (an flock on
// <dir>/lock refuses a second opener with kUnavailable). Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "edgeward/base/bytes.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/status.h"
#include "edgeward/channel/spool_segment.h"
#include "edgeward/crypto/sodium.h"

namespace edgeward::channel {

struct SpoolOptions {
  std::string dir;                          // created 0700; files 0600
  uint64_t max_bytes = 64u << 20;           // live record bytes (headers included)
  uint64_t segment_bytes = 4u << 20;        // rotate the active segment past this
  uint32_t fsync_every_records = 64;        // 1 = fsync every record
  std::chrono::milliseconds fsync_interval{200};
};

struct SpoolMessage {
  MessageId id{};
  uint64_t seq = 0;
  Priority priority = Priority::kEvent;
  Bytes payload;
};

struct SpoolStats {
  uint64_t appended = 0;                    // since Open
  uint64_t acked = 0;                       // since Open
  uint64_t dropped[kNumPriorities] = {};    // evicted by the drop rule, since Open
  uint64_t refused[kNumPriorities] = {};    // Append refused because full, since Open
  uint64_t quarantined_segments = 0;        // since Open
  uint64_t live_records = 0;
  uint64_t live_bytes = 0;
  uint64_t disk_bytes = 0;                  // segment files, dead records included
  uint64_t fsyncs = 0;                      // since Open
};

class Spool {
 public:
  // Opens (or creates) the spool in options.dir with the 32-byte data key
  // (see spool_key.h). Scans every segment; damaged ones are quarantined as
  // described above (that is not an error). Errors: bad options or key size
  // → kInvalidArgument; directory/file I/O → the errno status naming the
  // call and path; a spool locked by another process → kUnavailable.
  static StatusOr<std::unique_ptr<Spool>> Open(const SpoolOptions& options, crypto::GuardedBytes key);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends one message; returns its id and sequence number (payload left
  // empty). Payload larger than kMaxRecordPayloadBytes → kInvalidArgument;
  // full and nothing droppable → kResourceExhausted "spool full".
  StatusOr<SpoolMessage> Append(Priority priority, ByteView payload);
  // Makes every appended record and ack durable (fdatasync).
  Status Flush();
  // The first `n` unacknowledged messages in sequence order.
  StatusOr<std::vector<SpoolMessage>> Peek(size_t n);
  // Acknowledges delivered messages. Unknown (or already acked) ids are
  // ignored. Segments whose records are all acknowledged are deleted.
  Status Ack(std::span<const MessageId> ids);

  const SpoolStats& stats() const { return stats_; }
  // One kDataLoss status per quarantined segment, naming the file and the
  // damage; since Open.
  const std::vector<Status>& quarantine_reports() const { return quarantine_reports_; }
  uint64_t next_seq() const { return next_seq_; }

  struct Segment;  // defined in spool.cc

 private:
  struct Live {
    MessageId id{};
    Priority priority = Priority::kEvent;
    uint64_t segment = 0;  // key in segments_
    uint64_t offset = 0;
    uint32_t bytes = 0;
  };

  Spool(SpoolOptions options, crypto::GuardedBytes key);
  Status Load();
  Status ScanSegment(const std::string& name, const std::set<uint64_t>& dead);
  Status NewActiveSegment();
  StatusOr<uint64_t> CreateSegment();
  Status WriteRecord(uint64_t segment, const MessageId& id, uint64_t seq, Priority priority, ByteView payload);
  Status AppendAckLog(uint8_t type, uint64_t seq);
  Status RewriteAckLog();
  Status Kill(uint64_t seq, uint8_t type);  // ack or drop one live record
  Status MaybeDeleteSegment(uint64_t segment);
  Status MakeRoom(Priority priority, uint64_t bytes);
  Status SyncIfDue(bool force);
  StatusOr<Bytes> ReadPayload(const Live& live, uint64_t seq);

  SpoolOptions options_;
  crypto::GuardedBytes key_;
  UniqueFd lock_fd_;
  UniqueFd ack_fd_;
  uint64_t ack_log_bytes_ = 0;
  std::map<uint64_t, std::unique_ptr<Segment>> segments_;  // in creation order
  uint64_t next_segment_key_ = 0;
  uint64_t active_ = 0;  // key of the segment appends go to
  std::map<uint64_t, Live> live_;                 // by seq
  std::map<MessageId, uint64_t> seq_by_id_;
  std::set<uint64_t> by_priority_[kNumPriorities];
  uint64_t next_seq_ = 1;
  uint32_t unsynced_records_ = 0;
  std::chrono::steady_clock::time_point last_sync_;
  SpoolStats stats_;
  std::vector<Status> quarantine_reports_;
};

}  // namespace edgeward::channel
