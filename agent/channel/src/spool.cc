#include "edgeward/channel/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "edgeward/base/errno_status.h"
#include "edgeward/base/file.h"
#include <spdlog/spdlog.h>
#include "edgeward/crypto/secure_bytes.h"
#include "internal/spool_format.h"

namespace edgeward::channel {

using internal::GetU32;
using internal::GetU64;
using internal::PutU32;
using internal::PutU64;

struct Spool::Segment {
  std::string name;  // file name inside the spool directory
  UniqueFd fd;
  uint64_t size = 0;
  uint64_t live = 0;
  uint64_t min_seq = UINT64_MAX;
  uint64_t max_seq = 0;
  bool writable = false;
  crypto_secretstream_xchacha20poly1305_state push{};
  // Read cursor: the stream state just before the record at cursor_offset.
  // Peek reads in sequence order, which is file order within a segment, so
  // each record is decrypted once in the common case.
  bool cursor_valid = false;
  crypto_secretstream_xchacha20poly1305_state pull{};
  uint64_t cursor_offset = 0;

  ~Segment() {
    sodium_memzero(&push, sizeof push);
    sodium_memzero(&pull, sizeof pull);
  }
};

namespace {

// Ack-log entry: type (1 byte), sequence number (8), CRC-32 of those 9 (4).
// The log only ever says "this sequence number is gone" (acked or dropped)
// or records the highest sequence number ever used (floor), so a torn or
// lost tail costs at most a resend.
constexpr uint8_t kAckEntry = 1;
constexpr uint8_t kDropEntry = 2;
constexpr uint8_t kFloorEntry = 3;
constexpr size_t kAckEntryBytes = 13;
constexpr uint64_t kMaxAckLogBytes = 4u << 20;
constexpr char kAckLogName[] = "acks.log";

uint32_t Crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

void EncodeAckEntry(uint8_t* out, uint8_t type, uint64_t seq) {
  out[0] = type;
  PutU64(out + 1, seq);
  PutU32(out + 9, Crc32(out, 9));
}

Status WriteAll(int fd, const uint8_t* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return EW_ERRNO("write", path);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

Status PreadAll(int fd, uint8_t* p, size_t n, uint64_t off, const std::string& path) {
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0) {
      if (errno == EINTR) continue;
      return EW_ERRNO("pread", path);
    }
    if (r == 0) return DataLoss(path + ": unexpected end of file at offset " + std::to_string(off));
    p += r;
    n -= static_cast<size_t>(r);
    off += static_cast<uint64_t>(r);
  }
  return Status::Ok();
}

bool IsSegmentName(const std::string& n) {
  return n.size() > 8 && n.compare(0, 4, "seg-") == 0 && n.compare(n.size() - 4, 4, ".ews") == 0;
}

}  // namespace

Spool::Spool(SpoolOptions options, crypto::GuardedBytes key) : options_(std::move(options)), key_(std::move(key)) {}

Spool::~Spool() {
  Status s = Flush();
  if (!s.ok()) spdlog::warn("spool {}: final flush failed: {}", options_.dir, s.ToString());
}

StatusOr<std::unique_ptr<Spool>> Spool::Open(const SpoolOptions& options, crypto::GuardedBytes key) {
  if (options.dir.empty()) return InvalidArgument("spool: options.dir is empty");
  if (key.size() != kSpoolKeyBytes) return InvalidArgument("spool: the data key must be 32 bytes");
  if (options.max_bytes < kRecordHeaderBytes + kRecordOverheadBytes) {
    return InvalidArgument("spool: max_bytes " + std::to_string(options.max_bytes) + " is too small");
  }
  if (options.segment_bytes < kSegmentHeaderBytes || options.fsync_every_records == 0) {
    return InvalidArgument("spool: segment_bytes and fsync_every_records must be positive");
  }
  EW_RETURN_IF_ERROR(crypto::EnsureSodium());
  std::unique_ptr<Spool> spool(new Spool(options, std::move(key)));
  EW_RETURN_IF_ERROR(spool->Load());
  return spool;
}

Status Spool::Load() {
  const std::string& dir = options_.dir;
  EW_RETURN_IF_ERROR(MakeDirs(dir, 0700, /*enforce_mode=*/true));
  EW_RETURN_IF_ERROR(MakeDirs(dir + "/quarantine", 0700, /*enforce_mode=*/true));
  std::string lock_path = dir + "/lock";
  lock_fd_ = UniqueFd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock_fd_.valid()) return EW_ERRNO("open", lock_path);
  if (::flock(lock_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Unavailable("spool " + dir + " is in use by another process");
    return EW_ERRNO("flock", lock_path);
  }

  // Ack log: stop at the first torn or corrupt entry (a crash mid-append).
  std::set<uint64_t> dead;
  uint64_t floor = 0;
  std::string ack_path = dir + "/" + kAckLogName;
  auto ack_log = ReadFileToString(ack_path, 1u << 30);
  if (ack_log.ok()) {
    const auto* p = reinterpret_cast<const uint8_t*>(ack_log->data());
    for (size_t off = 0; off + kAckEntryBytes <= ack_log->size(); off += kAckEntryBytes) {
      if (Crc32(p + off, 9) != GetU32(p + off + 9)) break;
      uint64_t seq = GetU64(p + off + 1);
      if (p[off] == kFloorEntry) {
        floor = std::max(floor, seq);
      } else if (p[off] == kAckEntry || p[off] == kDropEntry) {
        dead.insert(seq);
      } else {
        break;
      }
    }
  } else if (ack_log.status().code() != StatusCode::kNotFound) {
    return ack_log.status();
  }

  std::vector<std::string> names;
  {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return EW_ERRNO("opendir", dir);
    std::unique_ptr<DIR, int (*)(DIR*)> closer(d, ::closedir);
    errno = 0;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (IsSegmentName(n)) names.push_back(n);
    }
    if (errno != 0) return EW_ERRNO("readdir", dir);
  }
  std::sort(names.begin(), names.end());  // names carry the first sequence number in hex
  next_seq_ = floor + 1;
  for (const auto& n : names) EW_RETURN_IF_ERROR(ScanSegment(n, dead));

  EW_RETURN_IF_ERROR(RewriteAckLog());
  EW_RETURN_IF_ERROR(NewActiveSegment());
  last_sync_ = std::chrono::steady_clock::now();
  return Status::Ok();
}

Status Spool::ScanSegment(const std::string& name, const std::set<uint64_t>& dead) {
  std::string path = options_.dir + "/" + name;
  auto image = ReadFileToString(path, options_.segment_bytes + kMaxRecordPayloadBytes + 4096);
  std::string data;
  Status damage;
  if (image.ok()) {
    data = std::move(*image);
  } else if (image.status().code() == StatusCode::kResourceExhausted) {
    damage = DataLoss("segment larger than any the spool writes");
  } else {
    return image.status();
  }
  std::vector<RecordMeta> keep;
  uint64_t valid_bytes = 0;
  if (damage.ok()) {
    EW_ASSIGN_OR_RETURN(SegmentScan scan, ReadSegment(AsBytes(data), key_.view(),
                                                      [&](const RecordMeta& m, ByteView) {
                                                        next_seq_ = std::max(next_seq_, m.seq + 1);
                                                        // A copy left by an interrupted recovery.
                                                        if (!dead.count(m.seq) && !live_.count(m.seq)) {
                                                          keep.push_back(m);
                                                        }
                                                        return true;
                                                      }));
    damage = scan.damage;
    valid_bytes = scan.valid_bytes;
  }

  if (damage.ok()) {
    if (keep.empty()) {
      if (::unlink(path.c_str()) != 0) return EW_ERRNO("unlink", path);
      return Status::Ok();
    }
    auto seg = std::make_unique<Segment>();
    seg->name = name;
    seg->fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!seg->fd.valid()) return EW_ERRNO("open", path);
    seg->size = data.size();
    uint64_t key = next_segment_key_++;
    for (const auto& m : keep) {
      live_[m.seq] = Live{m.id, m.priority, key, m.offset, m.total_bytes};
      seq_by_id_[m.id] = m.seq;
      by_priority_[static_cast<int>(m.priority)].insert(m.seq);
      stats_.live_bytes += m.total_bytes;
      ++stats_.live_records;
    }
    seg->live = keep.size();
    seg->min_seq = keep.front().seq;
    seg->max_seq = keep.back().seq;
    stats_.disk_bytes += seg->size;
    segments_[key] = std::move(seg);
    return Status::Ok();
  }

  // Damaged: copy the intact live prefix to a new segment, then quarantine.
  if (!keep.empty()) {
    EW_ASSIGN_OR_RETURN(uint64_t key, CreateSegment());
    Segment& seg = *segments_[key];
    size_t i = 0;
    Status write_status;
    EW_ASSIGN_OR_RETURN(SegmentScan rescan,
                        ReadSegment(AsBytes(data).first(valid_bytes), key_.view(),
                                    [&](const RecordMeta& m, ByteView payload) {
                                      if (i < keep.size() && keep[i].seq == m.seq) {
                                        ++i;
                                        write_status = WriteRecord(key, m.id, m.seq, m.priority, payload);
                                        if (!write_status.ok()) return false;
                                        live_[m.seq] = Live{m.id, m.priority, key, seg.size - m.total_bytes,
                                                            m.total_bytes};
                                        seq_by_id_[m.id] = m.seq;
                                        by_priority_[static_cast<int>(m.priority)].insert(m.seq);
                                        stats_.live_bytes += m.total_bytes;
                                        ++stats_.live_records;
                                        ++seg.live;
                                        seg.min_seq = std::min(seg.min_seq, m.seq);
                                        seg.max_seq = std::max(seg.max_seq, m.seq);
                                      }
                                      return true;
                                    }));
    (void)rescan;
    EW_RETURN_IF_ERROR(write_status);
    seg.writable = false;
    if (::fdatasync(seg.fd.get()) != 0) return EW_ERRNO("fdatasync", options_.dir + "/" + seg.name);
    EW_RETURN_IF_ERROR(FsyncDir(options_.dir));
  }
  std::string qpath = options_.dir + "/quarantine/" + name;
  if (::rename(path.c_str(), qpath.c_str()) != 0) return EW_ERRNO("rename", path + " -> " + qpath);
  EW_RETURN_IF_ERROR(FsyncDir(options_.dir + "/quarantine"));
  EW_RETURN_IF_ERROR(FsyncDir(options_.dir));
  ++stats_.quarantined_segments;
  Status report = DataLoss("spool segment " + path + " quarantined to " + qpath + ": " + damage.message() + " (" +
                           std::to_string(keep.size()) + " intact records kept)");
  spdlog::warn("{}", report.message());
  quarantine_reports_.push_back(std::move(report));
  return Status::Ok();
}

StatusOr<uint64_t> Spool::CreateSegment() {
  uint32_t salt = randombytes_random();
  char name[64];
  std::snprintf(name, sizeof name, "seg-%016" PRIx64 "-%08" PRIx32 ".ews", next_seq_, salt);
  std::string path = options_.dir + "/" + name;
  auto seg = std::make_unique<Segment>();
  seg->name = name;
  seg->fd = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!seg->fd.valid()) return EW_ERRNO("open", path);
  uint8_t header[kSegmentHeaderBytes];
  std::memcpy(header, internal::kSegmentMagic, 8);
  crypto_secretstream_xchacha20poly1305_init_push(&seg->push, header + 8, key_.data());
  EW_RETURN_IF_ERROR(WriteAll(seg->fd.get(), header, sizeof header, path));
  // The directory entry is made durable once per segment, not per record.
  EW_RETURN_IF_ERROR(FsyncDir(options_.dir));
  seg->size = sizeof header;
  seg->writable = true;
  stats_.disk_bytes += seg->size;
  uint64_t key = next_segment_key_++;
  segments_[key] = std::move(seg);
  return key;
}

Status Spool::NewActiveSegment() {
  uint64_t old = active_;
  bool had_active = segments_.count(old) && segments_[old]->writable;
  if (had_active) {
    Segment& seg = *segments_[old];
    if (::fdatasync(seg.fd.get()) != 0) return EW_ERRNO("fdatasync", options_.dir + "/" + seg.name);
    seg.writable = false;
    sodium_memzero(&seg.push, sizeof seg.push);
  }
  EW_ASSIGN_OR_RETURN(active_, CreateSegment());
  if (had_active) EW_RETURN_IF_ERROR(MaybeDeleteSegment(old));
  return Status::Ok();
}

Status Spool::WriteRecord(uint64_t key, const MessageId& id, uint64_t seq, Priority priority, ByteView payload) {
  Segment& seg = *segments_[key];
  const uint32_t cipher_len = static_cast<uint32_t>(payload.size() + kRecordOverheadBytes);
  Bytes buf(kRecordHeaderBytes + cipher_len);
  internal::EncodeRecordHeader(buf.data(), cipher_len, id, seq, priority);
  crypto_secretstream_xchacha20poly1305_push(&seg.push, buf.data() + kRecordHeaderBytes, nullptr, payload.data(),
                                             payload.size(), buf.data(), kRecordHeaderBytes,
                                             crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
  Status s = WriteAll(seg.fd.get(), buf.data(), buf.size(), options_.dir + "/" + seg.name);
  if (!s.ok()) {
    // The stream state has moved past a record that is not (fully) on disk:
    // nothing more may go to this segment.
    seg.writable = false;
    return s;
  }
  seg.size += buf.size();
  stats_.disk_bytes += buf.size();
  return Status::Ok();
}

Status Spool::AppendAckLog(uint8_t type, uint64_t seq) {
  uint8_t e[kAckEntryBytes];
  EncodeAckEntry(e, type, seq);
  EW_RETURN_IF_ERROR(WriteAll(ack_fd_.get(), e, sizeof e, options_.dir + "/" + kAckLogName));
  ack_log_bytes_ += sizeof e;
  return Status::Ok();
}

Status Spool::RewriteAckLog() {
  // Keep the floor and the acks that still matter: those of records in
  // segments that exist. Records of deleted segments can never come back.
  Bytes out;
  auto add = [&out](uint8_t type, uint64_t seq) {
    uint8_t e[kAckEntryBytes];
    EncodeAckEntry(e, type, seq);
    out.insert(out.end(), e, e + sizeof e);
  };
  add(kFloorEntry, next_seq_ - 1);
  for (const auto& [key, seg] : segments_) {
    if (seg->min_seq > seg->max_seq) continue;
    for (uint64_t s = seg->min_seq; s <= seg->max_seq; ++s) {
      if (!live_.count(s)) add(kAckEntry, s);
    }
  }
  std::string path = options_.dir + "/" + kAckLogName;
  ack_fd_.Reset();
  EW_RETURN_IF_ERROR(WriteFileAtomic(path, out, 0600));
  ack_fd_ = UniqueFd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW));
  if (!ack_fd_.valid()) return EW_ERRNO("open", path);
  ack_log_bytes_ = out.size();
  return Status::Ok();
}

Status Spool::MaybeDeleteSegment(uint64_t key) {
  auto it = segments_.find(key);
  if (it == segments_.end() || key == active_ || it->second->live != 0) return Status::Ok();
  // The floor must be durable before the last record carrying the highest
  // sequence numbers disappears, or a restart could reuse them.
  EW_RETURN_IF_ERROR(AppendAckLog(kFloorEntry, next_seq_ - 1));
  std::string ack_path = options_.dir + "/" + kAckLogName;
  if (::fdatasync(ack_fd_.get()) != 0) return EW_ERRNO("fdatasync", ack_path);
  std::string path = options_.dir + "/" + it->second->name;
  if (::unlink(path.c_str()) != 0) return EW_ERRNO("unlink", path);
  stats_.disk_bytes -= it->second->size;
  segments_.erase(it);
  if (ack_log_bytes_ > kMaxAckLogBytes) EW_RETURN_IF_ERROR(RewriteAckLog());
  return Status::Ok();
}

Status Spool::Kill(uint64_t seq, uint8_t type) {
  auto it = live_.find(seq);
  if (it == live_.end()) return Status::Ok();
  EW_RETURN_IF_ERROR(AppendAckLog(type, seq));
  Live live = it->second;
  live_.erase(it);
  seq_by_id_.erase(live.id);
  by_priority_[static_cast<int>(live.priority)].erase(seq);
  stats_.live_bytes -= live.bytes;
  --stats_.live_records;
  Segment& seg = *segments_[live.segment];
  --seg.live;
  return MaybeDeleteSegment(live.segment);
}

Status Spool::MakeRoom(Priority priority, uint64_t bytes) {
  if (bytes > options_.max_bytes) {
    ++stats_.refused[static_cast<int>(priority)];
    return ResourceExhausted("spool full: a message of " + std::to_string(bytes) + " bytes exceeds max_bytes " +
                             std::to_string(options_.max_bytes));
  }
  while (stats_.live_bytes + bytes > options_.max_bytes) {
    int victim = kNumPriorities - 1;
    while (victim >= 0 && by_priority_[victim].empty()) --victim;
    if (victim < static_cast<int>(priority)) {
      ++stats_.refused[static_cast<int>(priority)];
      return ResourceExhausted("spool full: " + std::to_string(stats_.live_bytes) + " of " +
                               std::to_string(options_.max_bytes) +
                               " bytes held by messages more important than this one");
    }
    EW_RETURN_IF_ERROR(Kill(*by_priority_[victim].begin(), kDropEntry));
    ++stats_.dropped[victim];
  }
  return Status::Ok();
}

StatusOr<SpoolMessage> Spool::Append(Priority priority, ByteView payload) {
  if (static_cast<int>(priority) >= kNumPriorities) return InvalidArgument("spool: unknown priority");
  if (payload.size() > kMaxRecordPayloadBytes) {
    return InvalidArgument("spool: payload of " + std::to_string(payload.size()) + " bytes exceeds " +
                           std::to_string(kMaxRecordPayloadBytes));
  }
  const uint32_t total = static_cast<uint32_t>(kRecordHeaderBytes + payload.size() + kRecordOverheadBytes);
  EW_RETURN_IF_ERROR(MakeRoom(priority, total));
  if (!segments_[active_]->writable || segments_[active_]->size >= options_.segment_bytes) {
    EW_RETURN_IF_ERROR(NewActiveSegment());
  }
  SpoolMessage msg;
  randombytes_buf(msg.id.data(), msg.id.size());
  msg.seq = next_seq_;
  msg.priority = priority;
  EW_RETURN_IF_ERROR(WriteRecord(active_, msg.id, msg.seq, priority, payload));
  ++next_seq_;
  Segment& seg = *segments_[active_];
  live_[msg.seq] = Live{msg.id, priority, active_, seg.size - total, total};
  seq_by_id_[msg.id] = msg.seq;
  by_priority_[static_cast<int>(priority)].insert(msg.seq);
  ++seg.live;
  seg.min_seq = std::min(seg.min_seq, msg.seq);
  seg.max_seq = msg.seq;
  stats_.live_bytes += total;
  ++stats_.live_records;
  ++stats_.appended;
  ++unsynced_records_;
  EW_RETURN_IF_ERROR(SyncIfDue(false));
  return msg;
}

Status Spool::SyncIfDue(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && unsynced_records_ < options_.fsync_every_records && now - last_sync_ < options_.fsync_interval) {
    return Status::Ok();
  }
  return Flush();
}

Status Spool::Flush() {
  auto it = segments_.find(active_);
  if (it != segments_.end() && it->second->fd.valid()) {
    if (::fdatasync(it->second->fd.get()) != 0) return EW_ERRNO("fdatasync", options_.dir + "/" + it->second->name);
  }
  if (ack_fd_.valid() && ::fdatasync(ack_fd_.get()) != 0) {
    return EW_ERRNO("fdatasync", options_.dir + "/" + kAckLogName);
  }
  ++stats_.fsyncs;
  unsynced_records_ = 0;
  last_sync_ = std::chrono::steady_clock::now();
  return Status::Ok();
}

StatusOr<Bytes> Spool::ReadPayload(const Live& live, uint64_t seq) {
  Segment& seg = *segments_[live.segment];
  const std::string path = options_.dir + "/" + seg.name;
  if (!seg.cursor_valid || live.offset < seg.cursor_offset) {
    uint8_t header[kSegmentHeaderBytes];
    EW_RETURN_IF_ERROR(PreadAll(seg.fd.get(), header, sizeof header, 0, path));
    if (std::memcmp(header, internal::kSegmentMagic, 8) != 0 ||
        crypto_secretstream_xchacha20poly1305_init_pull(&seg.pull, header + 8, key_.data()) != 0) {
      return DataLoss(path + ": segment header changed on disk");
    }
    seg.cursor_valid = true;
    seg.cursor_offset = kSegmentHeaderBytes;
  }
  Bytes cipher;
  while (seg.cursor_offset <= live.offset) {
    uint8_t rh[kRecordHeaderBytes];
    EW_RETURN_IF_ERROR(PreadAll(seg.fd.get(), rh, sizeof rh, seg.cursor_offset, path));
    auto h = internal::ParseRecordHeader(rh, seg.cursor_offset);
    if (!h.ok()) {
      seg.cursor_valid = false;
      return h.status().WithContext(path);
    }
    cipher.resize(h->cipher_len);
    EW_RETURN_IF_ERROR(PreadAll(seg.fd.get(), cipher.data(), cipher.size(), seg.cursor_offset + sizeof rh, path));
    Bytes plain(h->cipher_len - kRecordOverheadBytes);
    unsigned char tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(&seg.pull, plain.data(), nullptr, &tag, cipher.data(),
                                                   cipher.size(), rh, sizeof rh) != 0) {
      seg.cursor_valid = false;
      return DataLoss(path + ": record at offset " + std::to_string(seg.cursor_offset) +
                      " no longer authenticates");
    }
    uint64_t at = seg.cursor_offset;
    seg.cursor_offset += sizeof rh + cipher.size();
    if (at == live.offset) {
      if (h->seq != seq) return DataLoss(path + ": record at offset " + std::to_string(at) + " changed");
      return plain;
    }
  }
  seg.cursor_valid = false;
  return Internal(path + ": record offset " + std::to_string(live.offset) + " is not a record boundary");
}

StatusOr<std::vector<SpoolMessage>> Spool::Peek(size_t n) {
  std::vector<SpoolMessage> out;
  for (auto it = live_.begin(); it != live_.end() && out.size() < n; ++it) {
    EW_ASSIGN_OR_RETURN(Bytes payload, ReadPayload(it->second, it->first));
    out.push_back(SpoolMessage{it->second.id, it->first, it->second.priority, std::move(payload)});
  }
  return out;
}

Status Spool::Ack(std::span<const MessageId> ids) {
  for (const auto& id : ids) {
    auto it = seq_by_id_.find(id);
    if (it == seq_by_id_.end()) continue;
    EW_RETURN_IF_ERROR(Kill(it->second, kAckEntry));
    ++stats_.acked;
  }
  return Status::Ok();
}

}  // namespace edgeward::channel
