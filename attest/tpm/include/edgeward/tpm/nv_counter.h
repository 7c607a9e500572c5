// TPM NV monotonic counters (TPM_NT_COUNTER): the anchor that lets a node
// refuse an older policy bundle even when its state directory is wiped or
// restored from a backup (docs/anti-rollback.md, the signed-bundles issue).
//
// A counter index only ever grows: TPM2_NV_Increment adds one, and when a
// counter index is first incremented the TPM starts it at the largest value
// any counter on this TPM has ever held, so undefining and redefining an
// index cannot move a count backwards either.
//
// Errors as in tpm.h: an index that is not defined → kNotFound; defining an
// index that exists → kAlreadyExists; a wrong owner authorization →
// kPermissionDenied.
#pragma once

#include <cstdint>

#include "edgeward/base/status.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::tpm {

// Attributes edgeward gives its counters: TPM_NT_COUNTER, written (incremented)
// only with owner authorization, readable with the owner's or the index's own
// empty authorization, exempt from dictionary-attack lockout, and NOT orderly
// (an orderly counter may jump forward after an unclean shutdown; ours
// advance only when we increment them).
uint32_t CounterAttributes();

// Defines a counter index in the owner hierarchy (owner authorization: the
// empty password, as TPMs ship and as swtpm is provisioned). The new index
// reads as "never written" until its first increment.
Status DefineNvCounter(Tpm& tpm, uint32_t index);

// Increments the counter once; returns the new value.
StatusOr<uint64_t> IncrementNvCounter(Tpm& tpm, uint32_t index);

// The counter's value. An index that was never incremented →
// kFailedPrecondition; an index that is not a counter → kInvalidArgument.
StatusOr<uint64_t> ReadNvCounter(Tpm& tpm, uint32_t index);

// Removes an NV index (owner authorization). For tests and decommissioning.
Status UndefineNvIndex(Tpm& tpm, uint32_t index);

}  // namespace edgeward::tpm
