// TCG PC Client Platform Firmware Profile event log parser (SHA-1-only and
// crypto-agile formats). Every length read from the input is checked
// against what is left before it is used; the Spec ID event bounds digest
// sizes and counts.
#include <cstring>
#include <set>

#include "edgeward/attest/eventlog.h"
#include "eventlog_internal.h"

namespace edgeward::attest {
namespace {

constexpr uint32_t kEvNoAction = 0x00000003;
constexpr size_t kSha1Size = 20;
// TCG_PCR_EVENT: pcrIndex, eventType, digest[20], eventSize.
constexpr size_t kPcrEventHeaderSize = 4 + 4 + kSha1Size + 4;
// The Spec ID event may list at most this many algorithms (there are fewer
// than 16 TCG hash algorithms); more is garbage.
constexpr uint32_t kMaxSpecIdAlgorithms = 16;
constexpr char kSpecIdSignature03[] = "Spec ID Event03";         // 16 bytes with NUL
constexpr char kStartupLocalitySignature[] = "StartupLocality";  // 16 bytes with NUL

// A bounds-checked little-endian reader over the whole log.
class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}
  size_t pos() const { return pos_; }
  size_t left() const { return data_.size() - pos_; }
  bool AtEnd() const { return pos_ == data_.size(); }
  bool U16(uint16_t& v) { return Le(v); }
  bool U32(uint32_t& v) { return Le(v); }
  bool Take(size_t n, ByteView& out) {
    if (n > left()) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  template <typename T>
  bool Le(T& v) {
    if (sizeof(T) > left()) return false;
    uint64_t r = 0;
    for (size_t i = 0; i < sizeof(T); ++i) r |= uint64_t{data_[pos_ + i]} << (8 * i);
    v = static_cast<T>(r);
    pos_ += sizeof(T);
    return true;
  }
  ByteView data_;
  size_t pos_ = 0;
};

std::string Hex32(size_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%zx", v);
  return buf;
}

Status EventError(size_t index, size_t offset, const std::string& what) {
  return InvalidArgument("uefi log: event " + std::to_string(index) + " at offset " + Hex32(offset) + ": " +
                         what);
}

struct AlgSize {
  uint16_t id;
  uint16_t size;
};

struct SpecId {
  std::vector<AlgSize> algs;
};

// Parses TCG_EfiSpecIDEventStruct (Spec ID Event03).
Status ParseSpecId(ByteView ev, size_t offset, SpecId& out) {
  Reader r(ev);
  ByteView sig;
  uint32_t platform_class, num_algs;
  ByteView versions;  // minor, major, errata, uintnSize
  if (!r.Take(16, sig) || !r.U32(platform_class) || !r.Take(4, versions) || !r.U32(num_algs)) {
    return EventError(0, offset, "Spec ID event truncated (" + std::to_string(ev.size()) + " bytes)");
  }
  if (num_algs == 0 || num_algs > kMaxSpecIdAlgorithms) {
    return EventError(0, offset,
                      "Spec ID event lists " + std::to_string(num_algs) + " algorithms (1.." +
                          std::to_string(kMaxSpecIdAlgorithms) + " allowed)");
  }
  std::set<uint16_t> seen;
  for (uint32_t i = 0; i < num_algs; ++i) {
    AlgSize a{};
    if (!r.U16(a.id) || !r.U16(a.size)) return EventError(0, offset, "Spec ID algorithm list truncated");
    if (!seen.insert(a.id).second)
      return EventError(0, offset, "Spec ID lists algorithm " + Hex32(a.id) + " twice");
    if (a.size == 0 || a.size > 128) {
      return EventError(0, offset,
                        "Spec ID digest size " + std::to_string(a.size) + " for algorithm " + Hex32(a.id));
    }
    if (auto known = crypto::HashAlgFromTpmId(a.id); known && crypto::DigestSize(*known) != a.size) {
      return EventError(0, offset,
                        "Spec ID gives " + std::string(crypto::HashAlgName(*known)) + " digest size " +
                            std::to_string(a.size));
    }
    out.algs.push_back(a);
  }
  ByteView vendor_size;
  if (!r.Take(1, vendor_size)) return EventError(0, offset, "Spec ID vendorInfoSize missing");
  ByteView vendor;
  if (!r.Take(vendor_size[0], vendor)) return EventError(0, offset, "Spec ID vendorInfo truncated");
  return Status::Ok();
}

bool IsSpecId03(uint32_t type, ByteView ev) {
  return type == kEvNoAction && ev.size() >= 16 && std::memcmp(ev.data(), kSpecIdSignature03, 16) == 0;
}

// A StartupLocality EV_NO_ACTION event on PCR 0 sets PCR 0's initial value.
void NoteStartupLocality(uint32_t pcr, uint32_t type, ByteView ev, ParsedLog& log) {
  if (pcr == 0 && type == kEvNoAction && ev.size() >= 17 &&
      std::memcmp(ev.data(), kStartupLocalitySignature, 16) == 0) {
    log.startup_locality = ev[16];
  }
}

Status CheckPcr(const LogEvent& e, size_t index, size_t offset) {
  if (!e.not_extended && e.pcr >= tpm::kNumPcrs) {
    return EventError(index, offset, "PCR index " + std::to_string(e.pcr) + " out of range");
  }
  return Status::Ok();
}

void AddBank(ParsedLog& log, HashAlg alg) {
  for (HashAlg b : log.banks) {
    if (b == alg) return;
  }
  log.banks.push_back(alg);
}

}  // namespace

StatusOr<ParsedLog> ParseUefiLog(ByteView data) {
  if (data.size() > kMaxEventLogBytes) {
    return ResourceExhausted("uefi log: " + std::to_string(data.size()) + " bytes exceeds the cap of " +
                             std::to_string(kMaxEventLogBytes));
  }
  ParsedLog log;
  log.format = EventLogFormat::kUefi;
  Reader r(data);
  if (data.empty()) return InvalidArgument("uefi log: empty input");

  // The first record is always in the SHA-1 TCG_PCR_EVENT layout.
  bool agile = false;
  SpecId spec;
  {
    const size_t offset = r.pos();
    uint32_t pcr, type, size;
    ByteView digest, ev;
    if (!r.U32(pcr) || !r.U32(type) || !r.Take(kSha1Size, digest) || !r.U32(size)) {
      return EventError(0, offset,
                        "header truncated (" + std::to_string(data.size()) + " bytes, need " +
                            std::to_string(kPcrEventHeaderSize) + ")");
    }
    if (!r.Take(size, ev)) {
      return EventError(
          0, offset,
          "event size " + std::to_string(size) + " exceeds the " + std::to_string(r.left()) + " bytes left");
    }
    LogEvent e;
    e.index = 0;
    e.offset = offset;
    e.pcr = pcr;
    e.type = UefiEventTypeName(type);
    if (IsSpecId03(type, ev)) {
      agile = true;
      EW_RETURN_IF_ERROR(ParseSpecId(ev, offset, spec));
      e.not_extended = true;
      e.description = "Spec ID Event03:";
      for (const AlgSize& a : spec.algs) {
        auto known = crypto::HashAlgFromTpmId(a.id);
        e.description += " " + (known ? std::string(crypto::HashAlgName(*known)) : Hex32(a.id)) + "/" +
                         std::to_string(a.size);
        if (known) AddBank(log, *known);
      }
    } else {
      e.not_extended = (type == kEvNoAction);
      if (!e.not_extended) e.digests[HashAlg::kSha1].assign(digest.begin(), digest.end());
      e.description = internal::DescribeUefiEvent(type, ev);
      NoteStartupLocality(pcr, type, ev, log);
      AddBank(log, HashAlg::kSha1);
    }
    EW_RETURN_IF_ERROR(CheckPcr(e, 0, offset));
    log.events.push_back(std::move(e));
  }

  while (!r.AtEnd()) {
    const size_t index = log.events.size();
    const size_t offset = r.pos();
    if (index >= kMaxEventLogEvents) {
      return ResourceExhausted("uefi log: more than " + std::to_string(kMaxEventLogEvents) + " events");
    }
    LogEvent e;
    e.index = index;
    e.offset = offset;
    uint32_t pcr, type, size;
    if (!r.U32(pcr) || !r.U32(type)) return EventError(index, offset, "header truncated");
    e.pcr = pcr;
    e.type = UefiEventTypeName(type);
    e.not_extended = (type == kEvNoAction);
    if (agile) {
      uint32_t count;
      if (!r.U32(count)) return EventError(index, offset, "digest count truncated");
      if (count > spec.algs.size()) {
        return EventError(index, offset,
                          "digest count " + std::to_string(count) + " exceeds the " +
                              std::to_string(spec.algs.size()) + " algorithms of the Spec ID event");
      }
      for (uint32_t i = 0; i < count; ++i) {
        uint16_t alg_id;
        if (!r.U16(alg_id))
          return EventError(index, offset, "digest " + std::to_string(i) + " algorithm truncated");
        const AlgSize* as = nullptr;
        for (const AlgSize& a : spec.algs) {
          if (a.id == alg_id) as = &a;
        }
        if (as == nullptr) {
          return EventError(index, offset, "digest algorithm " + Hex32(alg_id) + " not in the Spec ID event");
        }
        ByteView d;
        if (!r.Take(as->size, d))
          return EventError(index, offset, "digest " + std::to_string(i) + " truncated");
        auto known = crypto::HashAlgFromTpmId(alg_id);
        if (!known) continue;  // an algorithm we can't replay; its size let us skip it
        if (!e.digests.emplace(*known, Bytes(d.begin(), d.end())).second) {
          return EventError(index, offset, "two " + std::string(crypto::HashAlgName(*known)) + " digests");
        }
      }
    } else {
      ByteView d;
      if (!r.Take(kSha1Size, d)) return EventError(index, offset, "SHA-1 digest truncated");
      e.digests[HashAlg::kSha1].assign(d.begin(), d.end());
    }
    if (!r.U32(size)) return EventError(index, offset, "event size truncated");
    ByteView ev;
    if (!r.Take(size, ev)) {
      return EventError(
          index, offset,
          "event size " + std::to_string(size) + " exceeds the " + std::to_string(r.left()) + " bytes left");
    }
    if (IsSpecId03(type, ev)) return EventError(index, offset, "a second Spec ID event");
    NoteStartupLocality(pcr, type, ev, log);
    EW_RETURN_IF_ERROR(CheckPcr(e, index, offset));
    if (e.not_extended) e.digests.clear();
    e.description = internal::DescribeUefiEvent(type, ev);
    log.events.push_back(std::move(e));
  }
  return log;
}

}  // namespace edgeward::attest
