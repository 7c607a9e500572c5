// Workload declarations are outside input (bundles, local dirs): any bytes
// must give a WorkloadSpec or a located error, never a crash or a hang.
// Also feeds the same bytes to LoadWorkloads as a workload beside a policy,
// so the cross-file resolution sees hostile specs too.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "edgeward/daemon/workload_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto spec = edgeward::daemon::ParseWorkloadSpec(text, "fuzz.yaml");
  if (!spec.ok() && spec.status().message().empty()) __builtin_trap();
  static const std::string kPolicy =
      "apiVersion: edgeward/v1\nkind: WorkloadPolicy\nmetadata: {name: p}\nspec:\n  namespaces: [pid]\n";
  std::map<std::string, std::string> files = {{"policies/p.yaml", kPolicy}, {"workloads/w.yaml", text}};
  auto all = edgeward::daemon::LoadWorkloads(files);
  if (all.ok() && spec.ok() && all->size() != 1) __builtin_trap();
  return 0;
}
