// Pieces of `policy explain` shared between its files (internal).
#pragma once

#include <string>
#include <vector>

#include "edgeward/policy/explain.h"

namespace edgeward::policy::internal {

// The scored checks (exposure.cc).
std::vector<ExposureFinding> ScoreExposure(const WorkloadPolicy& p, const NodeFeatures& node);

// Protections `p` asks for that `node` can't provide (node_gaps.cc).
std::vector<std::string> NodeGaps(const WorkloadPolicy& p, const NodeFeatures& node);

bool HasNamespace(const WorkloadPolicy& p, Namespace ns);
std::string JoinList(const std::vector<std::string>& items, std::string_view sep = ", ");
std::string FormatBytes(uint64_t bytes);  // "256Mi", "1.5Gi", "1000"
std::string FormatCpu(uint32_t millis);   // "0.5", "2", "0.125"

}  // namespace edgeward::policy::internal
