// `policy explain`: what a workload under a policy can and cannot do, an
// exposure score, and which protections this node can't provide.
//
// The score is in the spirit of `systemd-analyze security`: every check has
// a weight and a badness in [0, 1]; exposure = 10 * sum(weight * badness) /
// sum(weight), 0.0 best, 10.0 worst. Checks see the node: a rule the kernel
// can't enforce (e.g. TCP ports without Landlock ABI 4) counts as exposed.
// Weights and checks are listed in docs/policy.md. Pure functions.
#pragma once

#include <string>
#include <vector>

#include "edgeward/policy/node_features.h"
#include "edgeward/policy/policy.h"

namespace edgeward::policy {

// One scored check.
struct ExposureFinding {
  std::string id;           // stable, e.g. "user.root", "seccomp.dangerous"
  std::string description;  // what was found, one line
  double weight = 0;        // how much this check matters
  double badness = 0;       // 0 = protected ... 1 = fully exposed
};

// A titled group of statements about the workload.
struct ExplainSection {
  std::string title;                // "Filesystem", "Network", ...
  std::vector<std::string> can;     // what the workload can do
  std::vector<std::string> cannot;  // what it is stopped from doing
};

struct Explanation {
  std::string policy_name;
  Mode mode = Mode::kEnforce;
  std::vector<ExplainSection> sections;
  std::vector<ExposureFinding> findings;  // every check, exposed or not, by weight*badness desc
  double exposure = 0;                    // 0.0 .. 10.0, one decimal
  std::string rating;                     // "OK" < 2.0 <= "MEDIUM" < 5.0 <= "EXPOSED" < 8.0 <= "UNSAFE"
  // Protections the policy asks for that this node can't provide, one line
  // each; empty on a fully capable node.
  std::vector<std::string> node_gaps;
  NodeFeatures node;
};

Explanation Explain(const WorkloadPolicy& policy, const NodeFeatures& node);

// Human-readable report (what `edgeward policy explain` prints).
std::string FormatExplanation(const Explanation& e);

// The same as one JSON object (`--json`): {"policy", "mode", "exposure",
// "rating", "sections": [{"title","can","cannot"}], "findings":
// [{"id","description","weight","badness"}], "node_gaps": [...], "node": {...}}.
std::string FormatExplanationJson(const Explanation& e);

}  // namespace edgeward::policy
