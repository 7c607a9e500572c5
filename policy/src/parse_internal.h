// Pieces of the policy parser shared between its files (internal).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "diagnostics.h"
#include "edgeward/policy/policy.h"

namespace edgeward::policy::internal {

// spec.seccomp → `out`; every problem goes to `diag`.
void ParseSeccompSection(const YAML::Node& node, const std::string& path, SeccompSpec& out,
                         Diagnostics& diag);

}  // namespace edgeward::policy::internal
