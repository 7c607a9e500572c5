// Events the rules engine consumes: a fixed schema of event types, each with
// typed fields named by their dotted JSON path (docs/events.md lists them).
//
// Field names are resolved to a FieldId once (when rules load); an Event keeps
// each field's value in the slot of its FieldId, so a lookup in the hot path
// is an array index. An Event owns its strings; reusing one Event for many
// inputs (Clear() then set) keeps string capacity, so steady-state parsing
// does not allocate either. Not thread-safe; copyable.
//
// Layout: the per-field slots (presence, hash, int, where the string is) sit
// together, and the bytes of all string fields share one buffer, so the
// fields a rule set reads span a few cache lines (the engine is bound by
// memory traffic when events are not hot in cache). A string_view from
// GetString stays valid until the event is next modified.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace edgeward::rules {

enum class EventType : uint8_t {
  kSandboxViolation,
  kWorkloadStart,
  kWorkloadExit,
  kWorkloadCrashLoop,
  kAttestationVerdict,
  kMeasurementChanged,
  kBundleAccepted,
  kBundleRejected,
  kTpmFault,
  kSpoolOverflow,
  kCertRenewalFailed,
  kNodeReregistered,
};
inline constexpr int kEventTypeCount = 12;
// Bit i set ⇔ EventType(i) is included.
using EventTypeMask = uint32_t;
inline constexpr EventTypeMask kAllEventTypes = (1u << kEventTypeCount) - 1;

enum class FieldType : uint8_t { kString, kInt, kBool, kStringList, kIntList };

// Every field any event type can carry. The numbering is internal (not a wire
// format); rule conditions name fields by their dotted path.
enum class FieldId : uint8_t {
  kEventType,  // "event.type", always present (the "type" key)
  kNodeId,
  kWorkloadName,
  kWorkloadPid,
  kSyscallName,
  kSyscallNr,
  kSyscallArch,
  kSyscallArgs,
  kAction,
  kMode,
  kExitCode,
  kExitSignal,
  kCrashLoopRestarts,
  kCrashLoopWithinS,
  kVerdictPass,
  kVerdictReasons,
  kVerdictVerifier,
  kMeasurementPath,
  kMeasurementPcr,
  kMeasurementOld,
  kMeasurementNew,
  kBundleId,
  kBundleVersion,
  kBundleSigner,
  kBundleReason,
  kTpmOperation,
  kTpmRc,
  kTpmMessage,
  kSpoolName,
  kSpoolDropped,
  kSpoolBytes,
  kCertName,
  kCertReason,
  kCertNotAfter,
  kCertDaysLeft,
  kRegistrationReason,
};
inline constexpr int kFieldCount = 36;

struct FieldInfo {
  std::string_view name;  // dotted path, e.g. "workload.pid"
  FieldType type;
  EventTypeMask carried_by;  // event types that may carry the field
  EventTypeMask required_by;  // event types that must carry it
};

// The dotted type name, e.g. "sandbox.violation".
std::string_view EventTypeName(EventType t);
// nullptr-free lookups: false / nullptr when the name is unknown.
bool ParseEventTypeName(std::string_view name, EventType* out);
const FieldInfo& GetFieldInfo(FieldId id);
const FieldInfo* FindField(std::string_view name, FieldId* id);
std::string_view FieldTypeName(FieldType t);
// All field names / all event type names (for "did you mean").
std::vector<std::string_view> AllFieldNames();
std::vector<std::string_view> AllEventTypeNames();

// 64-bit FNV-1a. Events keep the hash of each string field (computed when
// the field is set), so the engine compares hashes before bytes.
inline uint64_t HashString(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

class Event {
 public:
  Event();

  // Forgets every field (keeps string/list capacity for reuse).
  void Clear();

  EventType type() const { return type_; }
  // Milliseconds since the Unix epoch, from the event's "time".
  int64_t time_ms() const { return time_ms_; }
  void set_type(EventType t);
  void set_time_ms(int64_t t) { time_ms_ = t; }

  bool Has(FieldId f) const { return (present_ >> Slot(f)) & 1u; }
  // Accessors return the stored value; callers check Has() (an absent field
  // reads as "" / 0 / false / empty).
  std::string_view GetString(FieldId f) const {  // event.type included
    if (f == FieldId::kEventType) return EventTypeName(type_);
    const Value& v = values_[Slot(f)];
    return std::string_view(text_.data() + v.offset, v.length);
  }
  // HashString(GetString(f)), precomputed.
  uint64_t GetStringHash(FieldId f) const { return values_[Slot(f)].hash; }
  int64_t GetInt(FieldId f) const { return values_[Slot(f)].num; }
  bool GetBool(FieldId f) const { return values_[Slot(f)].num != 0; }
  std::span<const std::string> GetStringList(FieldId f) const;
  std::span<const int64_t> GetIntList(FieldId f) const;

  // Setters do not check the schema; EventParser and tests use the schema.
  void SetString(FieldId f, std::string_view v);
  void SetInt(FieldId f, int64_t v);
  void SetBool(FieldId f, bool v) { SetInt(f, v ? 1 : 0); }
  void SetStringList(FieldId f, std::span<const std::string> v);
  void AddToStringList(FieldId f, std::string_view v);
  void SetIntList(FieldId f, std::span<const int64_t> v);

 private:
  static unsigned Slot(FieldId f) { return static_cast<unsigned>(f); }
  // Drops the bytes of replaced strings from text_ (in place, no allocation).
  void CompactText();
  struct List;
  // The list storage of field f, created on first use (then kept, emptied
  // by Clear, so reuse doesn't allocate).
  List& ListFor(FieldId f);
  const List* FindList(FieldId f) const;

  struct Value {
    uint64_t hash = 0;    // string fields: HashString of the value
    int64_t num = 0;      // int and bool fields
    uint32_t offset = 0;  // string fields: the value is text_[offset, offset + length)
    uint32_t length = 0;
  };

  EventType type_ = EventType::kSandboxViolation;  // set_type() keeps values_[0].hash in step
  uint64_t present_ = 1;  // event.type is always present
  int64_t time_ms_ = 0;
  std::array<Value, kFieldCount> values_{};
  std::string text_;        // every string field's bytes
  size_t live_text_ = 0;    // bytes of text_ that some field still refers to
  // List fields are few and cold: kept out of line, found by a short scan.
  struct List {
    FieldId field;
    std::vector<std::string> strings;
    std::vector<int64_t> ints;
  };
  std::vector<List> lists_;
};

static_assert(kFieldCount <= 64, "presence bits live in one uint64_t");

}  // namespace edgeward::rules
