// The event schema (docs/events.md is its prose twin: change both together).
#include "edgeward/rules/event.h"

#include <cstring>

namespace edgeward::rules {
namespace {

constexpr EventTypeMask Bit(EventType t) { return 1u << static_cast<unsigned>(t); }

constexpr EventTypeMask kSv = Bit(EventType::kSandboxViolation);
constexpr EventTypeMask kWs = Bit(EventType::kWorkloadStart);
constexpr EventTypeMask kWe = Bit(EventType::kWorkloadExit);
constexpr EventTypeMask kWc = Bit(EventType::kWorkloadCrashLoop);
constexpr EventTypeMask kAv = Bit(EventType::kAttestationVerdict);
constexpr EventTypeMask kMc = Bit(EventType::kMeasurementChanged);
constexpr EventTypeMask kBa = Bit(EventType::kBundleAccepted);
constexpr EventTypeMask kBr = Bit(EventType::kBundleRejected);
constexpr EventTypeMask kTf = Bit(EventType::kTpmFault);
constexpr EventTypeMask kSo = Bit(EventType::kSpoolOverflow);
constexpr EventTypeMask kCr = Bit(EventType::kCertRenewalFailed);
constexpr EventTypeMask kNr = Bit(EventType::kNodeReregistered);

constexpr std::string_view kEventTypeNames[kEventTypeCount] = {
    "sandbox.violation",   "workload.start",      "workload.exit",
    "workload.crash_loop", "attestation.verdict", "measurement.changed",
    "bundle.accepted",     "bundle.rejected",     "tpm.fault",
    "spool.overflow",      "cert.renewal_failed", "node.reregistered",
};

using T = FieldType;
// Indexed by FieldId; order must match the enum (checked below).
constexpr FieldInfo kFields[kFieldCount] = {
    {"event.type", T::kString, kAllEventTypes, kAllEventTypes},
    {"node.id", T::kString, kAllEventTypes, 0},
    {"workload.name", T::kString, kSv | kWs | kWe | kWc, kSv | kWs | kWe | kWc},
    {"workload.pid", T::kInt, kSv | kWs | kWe, kSv | kWs | kWe},
    {"syscall.name", T::kString, kSv, kSv},
    {"syscall.nr", T::kInt, kSv, kSv},
    {"syscall.arch", T::kString, kSv, 0},
    {"syscall.args", T::kIntList, kSv, 0},
    {"action", T::kString, kSv, kSv},
    {"mode", T::kString, kSv, kSv},
    {"exit.code", T::kInt, kWe | kWc, kWe},
    {"exit.signal", T::kString, kWe | kWc, 0},
    {"crash_loop.restarts", T::kInt, kWc, kWc},
    {"crash_loop.within_s", T::kInt, kWc, kWc},
    {"verdict.pass", T::kBool, kAv, kAv},
    {"verdict.reasons", T::kStringList, kAv, 0},
    {"verdict.verifier", T::kString, kAv, 0},
    {"measurement.path", T::kString, kMc, kMc},
    {"measurement.pcr", T::kInt, kMc, 0},
    {"measurement.old_sha256", T::kString, kMc, 0},
    {"measurement.new_sha256", T::kString, kMc, 0},
    {"bundle.id", T::kString, kBa | kBr, kBa | kBr},
    {"bundle.version", T::kInt, kBa | kBr, 0},
    {"bundle.signer", T::kString, kBa | kBr, 0},
    {"bundle.reason", T::kString, kBr, kBr},
    {"tpm.operation", T::kString, kTf, kTf},
    {"tpm.rc", T::kInt, kTf, 0},
    {"tpm.message", T::kString, kTf, 0},
    {"spool.name", T::kString, kSo, kSo},
    {"spool.dropped", T::kInt, kSo, kSo},
    {"spool.bytes", T::kInt, kSo, 0},
    {"cert.name", T::kString, kCr, kCr},
    {"cert.reason", T::kString, kCr, kCr},
    {"cert.not_after", T::kString, kCr, 0},
    {"cert.days_left", T::kInt, kCr, 0},
    {"registration.reason", T::kString, kNr, kNr},
};
static_assert(static_cast<int>(FieldId::kRegistrationReason) == kFieldCount - 1);
static_assert(static_cast<int>(EventType::kNodeReregistered) == kEventTypeCount - 1);

}  // namespace

std::string_view EventTypeName(EventType t) { return kEventTypeNames[static_cast<unsigned>(t)]; }

bool ParseEventTypeName(std::string_view name, EventType* out) {
  for (int i = 0; i < kEventTypeCount; ++i) {
    if (kEventTypeNames[i] == name) {
      *out = static_cast<EventType>(i);
      return true;
    }
  }
  return false;
}

const FieldInfo& GetFieldInfo(FieldId id) { return kFields[static_cast<unsigned>(id)]; }

const FieldInfo* FindField(std::string_view name, FieldId* id) {
  for (int i = 0; i < kFieldCount; ++i) {
    if (kFields[i].name == name) {
      *id = static_cast<FieldId>(i);
      return &kFields[i];
    }
  }
  return nullptr;
}

std::string_view FieldTypeName(FieldType t) {
  switch (t) {
    case FieldType::kString: return "string";
    case FieldType::kInt: return "int";
    case FieldType::kBool: return "bool";
    case FieldType::kStringList: return "list of strings";
    case FieldType::kIntList: return "list of ints";
  }
  return "?";
}

std::vector<std::string_view> AllFieldNames() {
  std::vector<std::string_view> v;
  for (const auto& f : kFields) v.push_back(f.name);
  return v;
}

std::vector<std::string_view> AllEventTypeNames() {
  return {std::begin(kEventTypeNames), std::end(kEventTypeNames)};
}

Event::Event() { set_type(EventType::kSandboxViolation); }

void Event::set_type(EventType t) {
  type_ = t;
  values_[0].hash = HashString(EventTypeName(t));
}

void Event::Clear() {
  present_ = 1u;  // event.type is always present
  time_ms_ = 0;
  for (int i = 1; i < kFieldCount; ++i) values_[i] = Value();
  for (List& l : lists_) {
    l.strings.clear();
    l.ints.clear();
  }
  text_.clear();
  live_text_ = 0;
}

void Event::CompactText() {
  // Live strings in offset order, moved down over the dead bytes between
  // them. At most kFieldCount of them: an insertion sort on the stack.
  std::array<uint8_t, kFieldCount> order;
  int n = 0;
  for (int i = 1; i < kFieldCount; ++i) {
    if (values_[i].length == 0) values_[i].offset = 0;  // stays inside the shrunk buffer
    if (!((present_ >> i) & 1u) || values_[i].length == 0) continue;
    int k = n++;
    while (k > 0 && values_[order[k - 1]].offset > values_[i].offset) {
      order[k] = order[k - 1];
      --k;
    }
    order[k] = static_cast<uint8_t>(i);
  }
  size_t end = 0;
  for (int k = 0; k < n; ++k) {
    Value& v = values_[order[k]];
    if (v.offset != end) std::memmove(text_.data() + end, text_.data() + v.offset, v.length);
    v.offset = static_cast<uint32_t>(end);
    end += v.length;
  }
  text_.resize(end);
  live_text_ = end;
}

void Event::SetString(FieldId f, std::string_view v) {
  // Field values are bounded by the parser's line limit; a single string
  // over 4 GiB can't be addressed by the 32-bit offsets.
  if (v.size() > UINT32_MAX) v = v.substr(0, UINT32_MAX);
  const uint64_t hash = HashString(v);  // before v's bytes might move (v may alias text_)
  Value& slot = values_[Slot(f)];
  const bool had = Has(f);
  if (had && v.size() <= slot.length) {
    // Fits where the old value was: overwrite in place.
    std::memmove(text_.data() + slot.offset, v.data(), v.size());
    live_text_ -= slot.length - v.size();
  } else {
    if (had) live_text_ -= slot.length;
    slot.length = 0;
    // Replaced values leave dead bytes behind; reclaim them before they
    // outweigh the live ones (so setting fields repeatedly stays bounded).
    // Not when v points into text_: compaction would move its bytes.
    const bool aliases = v.data() >= text_.data() && v.data() < text_.data() + text_.size();
    if (!aliases && (text_.size() > 2 * live_text_ + 4096 || text_.size() + v.size() > UINT32_MAX)) CompactText();
    slot.offset = static_cast<uint32_t>(text_.size());
    text_.append(v.data(), v.size());  // append copes with v inside text_
    live_text_ += v.size();
  }
  slot.length = static_cast<uint32_t>(v.size());
  slot.hash = hash;
  present_ |= uint64_t{1} << Slot(f);
}

void Event::SetInt(FieldId f, int64_t v) {
  values_[Slot(f)].num = v;
  present_ |= uint64_t{1} << Slot(f);
}

Event::List& Event::ListFor(FieldId f) {
  for (List& l : lists_) {
    if (l.field == f) return l;
  }
  lists_.push_back(List{f, {}, {}});
  return lists_.back();
}

const Event::List* Event::FindList(FieldId f) const {
  for (const List& l : lists_) {
    if (l.field == f) return &l;
  }
  return nullptr;
}

std::span<const std::string> Event::GetStringList(FieldId f) const {
  const List* l = FindList(f);
  return l != nullptr ? std::span<const std::string>(l->strings) : std::span<const std::string>();
}

std::span<const int64_t> Event::GetIntList(FieldId f) const {
  const List* l = FindList(f);
  return l != nullptr ? std::span<const int64_t>(l->ints) : std::span<const int64_t>();
}

void Event::SetStringList(FieldId f, std::span<const std::string> v) {
  ListFor(f).strings.assign(v.begin(), v.end());
  present_ |= uint64_t{1} << Slot(f);
}

void Event::AddToStringList(FieldId f, std::string_view v) {
  ListFor(f).strings.emplace_back(v);
  present_ |= uint64_t{1} << Slot(f);
}

void Event::SetIntList(FieldId f, std::span<const int64_t> v) {
  ListFor(f).ints.assign(v.begin(), v.end());
  present_ |= uint64_t{1} << Slot(f);
}

}  // namespace edgeward::rules
