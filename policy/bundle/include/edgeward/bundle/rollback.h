// RollbackGuard: a node's monotonic trust state (docs/bundles.md
// "Anti-rollback" and "Trusted time").
//
// * Highest accepted bundle version: in <state>/state.json (0600, written
//   atomically) AND, with a TPM, in an NV counter at kRollbackCounterIndex
//   anchored by a write-once record at kRollbackBaseIndex:
//     base = {u64be counter value at the first accept, u64be first version}
//     TPM highest = first version + (counter - counter at first accept).
//   Effective highest = max(disk, TPM): wiping the state directory or
//   restoring an old backup of it cannot lower it.
// * Time floor: trusted now = max(wall clock, floor, floor + TPM Clock ms
//   elapsed since the floor was recorded / 1000, the latter only while the
//   TPM's Clock reads >= the recorded value). The floor only moves forward:
//   to trusted now and to every accepted bundle's issued_at.
//
// Not thread-safe; one guard per state directory at a time (BundleStore
// holds the directory lock). The Tpm is borrowed and must outlive the guard.
// Errors: a corrupt state.json or TPM anchor → kDataLoss; TPM failures as in
// edgeward/tpm/tpm.h; an Accept that would not advance → kFailedPrecondition.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "edgeward/base/status.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::bundle {

inline constexpr uint32_t kRollbackCounterIndex = 0x0100ED01;
inline constexpr uint32_t kRollbackBaseIndex = 0x0100ED02;

class RollbackGuard {
 public:
  // Reads <state_dir>/state.json (missing: a fresh node) and, when `tpm` is
  // not null, the TPM anchor (indices not yet defined: no TPM record yet).
  static StatusOr<RollbackGuard> Open(const std::string& state_dir, tpm::Tpm* tpm);

  uint64_t disk_highest() const { return disk_highest_; }
  // nullopt: no TPM, or nothing accepted with this TPM yet.
  std::optional<uint64_t> tpm_highest() const { return tpm_highest_; }
  uint64_t EffectiveHighest() const;

  int64_t time_floor() const { return time_floor_; }
  // See above. Reads the TPM Clock when a TPM is present.
  StatusOr<int64_t> TrustedNow(int64_t wall_now);

  // Records `version` as accepted: advances the TPM counter to it (one
  // increment per version), then writes state.json with the new highest
  // and the floor moved to max(floor, trusted_now, issued_at). `version`
  // not above EffectiveHighest(), or more than kMaxVersionJump above it →
  // kFailedPrecondition, nothing changed. A failure part-way leaves the TPM
  // somewhere between the old and new version (never beyond).
  Status Accept(uint64_t version, int64_t issued_at, int64_t trusted_now);

  // Moves the floor forward to `trusted_now` and persists it.
  Status AdvanceTimeFloor(int64_t trusted_now);

  const std::string& state_path() const { return state_path_; }

 private:
  RollbackGuard(std::string state_path, tpm::Tpm* tpm) : state_path_(std::move(state_path)), tpm_(tpm) {}
  Status LoadTpmAnchor();
  Status AdvanceTpm(uint64_t version);
  Status Persist(uint64_t highest, int64_t floor);

  std::string state_path_;
  tpm::Tpm* tpm_ = nullptr;  // borrowed
  uint64_t disk_highest_ = 0;
  int64_t time_floor_ = 0;
  std::optional<uint64_t> tpm_clock_at_floor_;  // TPM Clock (ms) when the floor was recorded
  std::optional<uint64_t> tpm_highest_;
  // The anchor, when the base record exists.
  std::optional<uint64_t> base_counter_;
  std::optional<uint64_t> base_version_;
  bool counter_defined_ = false;
};

}  // namespace edgeward::bundle
