#include "edgeward/bundle/rollback.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "edgeward/base/file.h"
#include "edgeward/bundle/time.h"
#include "edgeward/bundle/verify.h"
#include "edgeward/tpm/info.h"
#include "edgeward/tpm/nv.h"
#include "edgeward/tpm/nv_counter.h"
#include "edgeward/tpm/nv_write.h"

namespace edgeward::bundle {
namespace {

using Json = nlohmann::json;

void PutU64(Bytes& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint64_t GetU64(const Bytes& in, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | in[at + i];
  return v;
}

}  // namespace

StatusOr<RollbackGuard> RollbackGuard::Open(const std::string& state_dir, tpm::Tpm* tpm) {
  RollbackGuard g(state_dir + "/state.json", tpm);
  auto text = ReadFileToString(g.state_path_, 64 * 1024);
  if (text.ok()) {
    auto bad = [&](const std::string& why) { return DataLoss(g.state_path_ + ": " + why); };
    Json j = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return bad("not a JSON object");
    auto hv = j.find("highest_version");
    auto tf = j.find("time_floor");
    if (hv == j.end() || !hv->is_number_unsigned()) return bad("highest_version missing or not a number");
    if (tf == j.end() || !tf->is_string()) return bad("time_floor missing or not a string");
    g.disk_highest_ = hv->get<uint64_t>();
    auto floor = ParseRfc3339(tf->get<std::string>());
    if (!floor.ok()) return bad(floor.status().message());
    g.time_floor_ = *floor;
    if (auto c = j.find("tpm_clock_ms"); c != j.end()) {
      if (!c->is_number_unsigned()) return bad("tpm_clock_ms not a number");
      g.tpm_clock_at_floor_ = c->get<uint64_t>();
    }
  } else if (text.status().code() != StatusCode::kNotFound) {
    return text.status();
  }
  if (tpm != nullptr) EW_RETURN_IF_ERROR(g.LoadTpmAnchor());
  return g;
}

Status RollbackGuard::LoadTpmAnchor() {
  auto counter = tpm::ReadNvCounter(*tpm_, kRollbackCounterIndex);
  std::optional<uint64_t> value;
  if (counter.ok()) {
    counter_defined_ = true;
    value = *counter;
  } else if (counter.status().code() == StatusCode::kFailedPrecondition) {
    counter_defined_ = true;  // defined, never incremented
  } else if (counter.status().code() != StatusCode::kNotFound) {
    return counter.status();
  }
  auto base = tpm::ReadNv(*tpm_, kRollbackBaseIndex);
  if (!base.ok()) {
    if (base.status().code() == StatusCode::kNotFound || base.status().code() == StatusCode::kFailedPrecondition) {
      return Status::Ok();  // nothing accepted with this TPM yet
    }
    return base.status();
  }
  if (base->size() != 16) {
    return DataLoss("TPM anchor record 0x0100ed02 holds " + std::to_string(base->size()) + " bytes, not 16");
  }
  base_counter_ = GetU64(*base, 0);
  base_version_ = GetU64(*base, 8);
  // The base exists only after the counter was incremented; a counter that
  // is gone or below it was tampered with by someone holding owner auth.
  // Refuse rather than guess (docs/bundles.md: recovering an anchor).
  if (!value || *value < *base_counter_) {
    return DataLoss("TPM anti-rollback counter 0x0100ed01 is missing or below its anchor record; refusing to "
                    "guess the highest accepted version");
  }
  tpm_highest_ = *base_version_ + (*value - *base_counter_);
  return Status::Ok();
}

uint64_t RollbackGuard::EffectiveHighest() const {
  return std::max(disk_highest_, tpm_highest_.value_or(0));
}

StatusOr<int64_t> RollbackGuard::TrustedNow(int64_t wall_now) {
  int64_t now = std::max(wall_now, time_floor_);
  if (tpm_ != nullptr && tpm_clock_at_floor_) {
    EW_ASSIGN_OR_RETURN(tpm::ClockInfo clock, tpm::ReadClock(*tpm_));
    // The TPM Clock advances only while powered and never runs backwards
    // except after an unclean shutdown (or TPM2_Clear): a reading below the
    // recorded one proves nothing, so it is ignored.
    if (clock.clock_ms >= *tpm_clock_at_floor_) {
      now = std::max(now, time_floor_ + static_cast<int64_t>((clock.clock_ms - *tpm_clock_at_floor_) / 1000));
    }
  }
  return now;
}

Status RollbackGuard::Persist(uint64_t highest, int64_t floor) {
  std::optional<uint64_t> clock;
  if (tpm_ != nullptr) {
    EW_ASSIGN_OR_RETURN(tpm::ClockInfo c, tpm::ReadClock(*tpm_));
    clock = c.clock_ms;
  }
  Json j{{"format", 1}, {"highest_version", highest}, {"time_floor", FormatRfc3339(floor)}};
  if (clock) j["tpm_clock_ms"] = *clock;
  std::string text = j.dump(2) + "\n";
  EW_RETURN_IF_ERROR(WriteFileAtomic(state_path_, AsBytes(text), 0600));
  disk_highest_ = highest;
  time_floor_ = floor;
  tpm_clock_at_floor_ = clock;
  return Status::Ok();
}

Status RollbackGuard::AdvanceTpm(uint64_t version) {
  if (!base_version_) {
    // First accept with this TPM: one increment gives the counter a value
    // (a fresh counter starts at the highest any counter here ever held),
    // then the write-once base record pins what that value means.
    if (!counter_defined_) {
      Status d = tpm::DefineNvCounter(*tpm_, kRollbackCounterIndex);
      if (!d.ok() && d.code() != StatusCode::kAlreadyExists) return d;
      counter_defined_ = true;
    }
    EW_ASSIGN_OR_RETURN(uint64_t c, tpm::IncrementNvCounter(*tpm_, kRollbackCounterIndex));
    Status d = tpm::DefineNvIndex(*tpm_, kRollbackBaseIndex, 16, tpm::WriteOnceAttributes());
    if (!d.ok() && d.code() != StatusCode::kAlreadyExists) return d;
    Bytes record;
    PutU64(record, c);
    PutU64(record, version);
    EW_RETURN_IF_ERROR(tpm::WriteNvIndex(*tpm_, kRollbackBaseIndex, record));
    EW_RETURN_IF_ERROR(tpm::WriteLockNvIndex(*tpm_, kRollbackBaseIndex));
    base_counter_ = c;
    base_version_ = version;
    tpm_highest_ = version;
    return Status::Ok();
  }
  uint64_t current = tpm_highest_.value_or(*base_version_);
  if (version <= current) return Status::Ok();  // disk was ahead of the TPM: nothing to do here
  if (version - current > kMaxVersionJump) {
    return FailedPrecondition("the TPM counter would need " + std::to_string(version - current) +
                              " increments (at most " + std::to_string(kMaxVersionJump) + ")");
  }
  while (current < version) {
    EW_ASSIGN_OR_RETURN(uint64_t c, tpm::IncrementNvCounter(*tpm_, kRollbackCounterIndex));
    current = *base_version_ + (c - *base_counter_);
    tpm_highest_ = current;
  }
  return Status::Ok();
}

Status RollbackGuard::Accept(uint64_t version, int64_t issued_at, int64_t trusted_now) {
  const uint64_t highest = EffectiveHighest();
  if (version <= highest) {
    return FailedPrecondition("version " + std::to_string(version) + " is not greater than the highest accepted " +
                              std::to_string(highest));
  }
  if (highest > 0 && version - highest > kMaxVersionJump) {
    return FailedPrecondition("version " + std::to_string(version) + " jumps more than " +
                              std::to_string(kMaxVersionJump) + " past " + std::to_string(highest));
  }
  if (tpm_ != nullptr) EW_RETURN_IF_ERROR(AdvanceTpm(version));
  return Persist(version, std::max({time_floor_, trusted_now, issued_at}));
}

Status RollbackGuard::AdvanceTimeFloor(int64_t trusted_now) {
  return Persist(disk_highest_, std::max(time_floor_, trusted_now));
}

}  // namespace edgeward::bundle
