// The event schema (docs/events.md is its prose twin: change both together).
#include "edgeward/rules/event.h"

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

constexpr std::string_view kEventTypeNames[kEventTypeCount] = {
    "sandbox.violation",   "workload.start",      "workload.exit",
    "workload.crash_loop", "attestation.verdict", "measurement.changed",
    "bundle.accepted",     "bundle.rejected",     "tpm.fault",
    "spool.overflow",      "cert.renewal_failed",
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
};
static_assert(static_cast<int>(FieldId::kCertDaysLeft) == kFieldCount - 1);
static_assert(static_cast<int>(EventType::kCertRenewalFailed) == kEventTypeCount - 1);

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
  hashes_[0] = HashString(EventTypeName(t));
}

void Event::Clear() {
  present_ = 1u;  // event.type is always present
  time_ms_ = 0;
  for (int i = 0; i < kFieldCount; ++i) {
    ints_[i] = 0;
    if (i > 0) hashes_[i] = 0;
    strings_[i].clear();
    lists_[i].clear();
    int_lists_[i].clear();
  }
}

std::string_view Event::GetString(FieldId f) const {
  if (f == FieldId::kEventType) return EventTypeName(type_);
  return strings_[Slot(f)];
}

void Event::SetString(FieldId f, std::string_view v) {
  strings_[Slot(f)].assign(v);
  hashes_[Slot(f)] = HashString(v);
  present_ |= uint64_t{1} << Slot(f);
}

void Event::SetInt(FieldId f, int64_t v) {
  ints_[Slot(f)] = v;
  present_ |= uint64_t{1} << Slot(f);
}

void Event::SetStringList(FieldId f, std::span<const std::string> v) {
  lists_[Slot(f)].assign(v.begin(), v.end());
  present_ |= uint64_t{1} << Slot(f);
}

void Event::AddToStringList(FieldId f, std::string_view v) {
  lists_[Slot(f)].emplace_back(v);
  present_ |= uint64_t{1} << Slot(f);
}

void Event::SetIntList(FieldId f, std::span<const int64_t> v) {
  int_lists_[Slot(f)].assign(v.begin(), v.end());
  present_ |= uint64_t{1} << Slot(f);
}

}  // namespace edgeward::rules
