// `policy learn` output: a minimal policy from what a workload was seen to
// use, and a reviewable diff against the policy it started from.
//
// The written policy keeps the start policy's identity, user, namespaces,
// capabilities, limits and tmpfs mounts, and replaces
//   - seccomp with `profile: none` + an allow list of exactly the used
//     syscalls (dangerous ones only where the start policy opted in; others
//     are left out and named in a comment, so the reviewer decides);
//   - filesystem readOnly/readWrite with the used paths collapsed to
//     directories (system trees like /usr to their top directory; a written
//     file to its directory; anything under a start entry to that entry);
//   - network tcpBind/tcpConnect with the used ports (mode none becomes
//     loopback when ports were used, since none can't carry them).
// The result always parses with ParsePolicy(). Pure functions.
#pragma once

#include <string>

#include "edgeward/policy/policy.h"

namespace edgeward::policy {

// The learned policy as YAML text. `start_yaml` is the start policy's text;
// its leading comment block is carried over.
std::string WriteLearnedPolicy(const WorkloadPolicy& start, const std::string& start_yaml, const LearnedUsage& used);

// A unified diff (like `diff -u`) of two texts, line by line, with `context`
// lines around each change; "" when they are equal. Lines are compared
// exactly; a missing final newline is shown as "\ No newline at end of file".
std::string UnifiedDiff(const std::string& a, const std::string& b, const std::string& a_label,
                        const std::string& b_label, int context = 3);

}  // namespace edgeward::policy
