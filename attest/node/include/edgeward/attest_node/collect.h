// Collecting evidence on the node: quote with the AK, add the PCR values,
// the AK and EK, and the event logs that explain the quoted PCRs.
#pragma once

#include <optional>
#include <string>

#include "edgeward/attest/evidence.h"
#include "edgeward/base/status.h"
#include "edgeward/tpm/pcr_types.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::attest_node {

inline constexpr char kUefiLogPath[] = "/sys/kernel/security/tpm0/binary_bios_measurements";
inline constexpr char kImaLogPath[] = "/sys/kernel/security/ima/ascii_runtime_measurements";

struct CollectOptions {
  std::string state_dir;  // AK blob and measurements.cel
  Bytes nonce;            // the verifier's challenge, 1..64 bytes
  // PCRs to quote. nullopt: every active bank, PCRs 0-9 when a firmware log
  // is present, 10 when an IMA log is present, and the measurement PCR.
  // Either way, every PCR an included log touches is added (in the
  // selection's banks), so that each log can be checked against the quote.
  std::optional<tpm::PcrSelection> selection;
  uint32_t measurement_pcr = 15;
  std::string node_id;    // default: the host name
  std::string uefi_log_path = kUefiLogPath;  // missing file → not included
  std::string ima_log_path = kImaLogPath;    // missing file → not included
  // Send the IMA log from this entry on (the verifier's Challenge::
  // ima_offset): an incremental log (EvidenceEventLog::start_entry). A log
  // with fewer entries than this (the node rebooted) is sent whole.
  uint64_t ima_start_entry = 0;
};

// Opens the EK, loads (or on first use creates) the AK in state_dir, quotes
// and assembles the Evidence (decoded fields filled). The caller encodes it.
StatusOr<attest::Evidence> CollectEvidence(tpm::Tpm& tpm, const CollectOptions& options);

}  // namespace edgeward::attest_node
