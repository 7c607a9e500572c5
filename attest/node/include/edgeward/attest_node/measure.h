// `edgeward measure`: hashes files, records each measurement in the node's
// CEL log (cel.h) and extends it into the measurement PCR.
//
// Which PCR: 15 by default (kDefaultMeasurementPcr). PCRs 0-7 belong to
// firmware, 8-9 to the boot loader, 10 to IMA, 11-13 to systemd-stub/UKI,
// 14 to shim (MokList); 16 and 23 can be reset by software (useless for
// attestation), 17-22 are the dynamic-launch PCRs. 15 is free except on
// systems booted through a measured UKI, where systemd measures machine-id
// and file systems into it — on such nodes configure another PCR.
//
// If something other than edgeward extends our PCR, the log can no longer
// replay to it: Measure() refuses to add to a log that doesn't match the
// TPM (kFailedPrecondition, naming both values), and appraisal of the
// node fails with "log does not replay" until the next boot. Nothing is
// papered over.
//
// Crash safety: a record is fsync'd to the log before its extend. Measure()
// starts by reconciling log and PCR: if replaying all records but the last
// gives the PCR, the process died between the two, and the last record's
// digests are extended now. If the PCR is back at zeros while the log is
// not empty, the TPM was reset (a reboot): the old log is kept as
// measurements.cel.prev and a new one begins.
//
// A path whose digest is the same as in its latest record of this boot is
// not extended again (the log stays small under periodic measurement).
// Concurrent Measure() calls on one state directory are serialized with a
// lock file. Not thread-safe within a process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgeward/attest_node/file_scan.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/status.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::attest_node {

inline constexpr uint32_t kDefaultMeasurementPcr = 15;

struct MeasureOptions {
  std::string state_dir;  // holds measurements.cel and the scan cache (0700)
  uint32_t pcr = kDefaultMeasurementPcr;
};

struct MeasureReport {
  std::vector<FileDigest> extended;   // new measurements, in log order
  std::vector<FileDigest> unchanged;  // same digest as already logged this boot
  std::vector<std::string> notes;     // recoveries and resets, for the operator
};

// The log's path in `state_dir`: state_dir + "/measurements.cel".
std::string MeasurementLogPath(const std::string& state_dir);

// Exclusive hold on a state directory's measurement log (a flock on
// state_dir/measure.lock): Measure() takes it for a whole run, evidence
// collection from before its quote until it has read the log, so log and
// quote agree. Released on destruction. Creates state_dir (0700) if needed.
class MeasurementLock {
 public:
  static StatusOr<MeasurementLock> Acquire(const std::string& state_dir);
  MeasurementLock() = default;  // holds nothing
 private:
  explicit MeasurementLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

StatusOr<MeasureReport> Measure(tpm::Tpm& tpm, const std::vector<std::string>& paths,
                                const MeasureOptions& options);

}  // namespace edgeward::attest_node
