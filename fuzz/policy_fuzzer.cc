// Policy YAML on arbitrary input: an error with a position, or a policy that
// explains without trouble and whose learned rewrite parses back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "edgeward/policy/explain.h"
#include "edgeward/policy/learn.h"
#include "edgeward/policy/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeward::policy;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto p = ParsePolicy(text, "fuzz.yaml");
  if (!p.ok()) {
    // Every rejection is located in the file it names.
    if (p.status().message().rfind("fuzz.yaml", 0) != 0) abort();
    return 0;
  }
  NodeFeatures node;
  node.landlock_abi = static_cast<int>(size % 8);
  node.cgroup_v1_memory = size % 2 == 0;
  const Explanation e = Explain(*p, node);
  if (e.exposure < 0.0 || e.exposure > 10.0) abort();
  (void)FormatExplanation(e);
  (void)FormatExplanationJson(e);

  LearnedUsage used;
  used.syscalls = {"read", "write", "exit_group", "ptrace"};
  used.paths_read = {"/usr/lib/libc.so.6", "/etc/ssl/certs/x.pem"};
  used.paths_written = {"/var/lib/app/db"};
  used.tcp_bind = {8080};
  const std::string learned = WriteLearnedPolicy(*p, text, used);
  // What we write we must read back.
  if (!ParsePolicy(learned, "learned.yaml").ok()) abort();
  (void)UnifiedDiff(text, learned, "a", "b");
  return 0;
}
