// Pieces of the policy parser shared between its files (internal).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <utility>

#include "edgeward/base/yaml_input.h"
#include "edgeward/policy/policy.h"

namespace edgeward::policy::internal {

using yaml_input::ClosestMatch;
using yaml_input::Field;
using yaml_input::Index;
using yaml_input::MapReader;
using yaml_input::ParseUintText;
using yaml_input::Quote;
using yaml_input::ReadSequence;
using yaml_input::ReadString;
using yaml_input::ReadUint;

// The policy's error report: yaml_input's default dialect (100 errors shown,
// 20000 values), locating errors as the SourceLocations the model keeps.
class Diagnostics : public yaml_input::Diagnostics {
 public:
  explicit Diagnostics(std::string file) : yaml_input::Diagnostics(std::move(file)) {}

  using yaml_input::Diagnostics::Add;
  void Add(const SourceLocation& where, std::string_view field, std::string_view text) {
    Add(where.line, where.column, field, text);
  }
  SourceLocation Where(const YAML::Mark& mark) const {
    const yaml_input::Position p = yaml_input::PositionOf(mark);
    return SourceLocation{file(), p.line, p.column};
  }
};

// spec.seccomp → `out`; every problem goes to `diag`.
void ParseSeccompSection(const YAML::Node& node, const std::string& path, SeccompSpec& out,
                         Diagnostics& diag);

}  // namespace edgeward::policy::internal
