// Fuzzes the OCI seccomp import and, for what it accepts, the chain algebra
// that maps first-match rules onto libseccomp's model: every rule set that
// resolves must decide like a direct first-match evaluation.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string_view>

#include "../policy/seccomp/src/decision.h"
#include "edgeward/seccomp/oci_profile.h"

using namespace edgeward;
using namespace edgeward::seccomp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  OciImportOptions o;
  o.arch = Arch::kX86_64;
  o.capabilities = {"CAP_SYS_PTRACE"};
  o.kernel_release = "6.1.0";
  auto profile = ParseOciProfile(text, "fuzz.json", o);
  if (!profile.ok()) {
    if (profile.status().message().rfind("fuzz.json", 0) != 0) abort();  // errors are located
    return 0;
  }
  std::map<std::string, std::vector<internal::Candidate>> by_name;
  for (const auto& r : profile->rules) {
    auto chain = internal::MakeChain(r.args);
    if (!chain.ok() || !chain->has_value()) continue;
    for (const auto& n : r.names) by_name[n].push_back({**chain, r.action, r.where.file});
  }
  for (const auto& [name, cands] : by_name) {
    if (cands.size() > 6) continue;  // keep each input fast
    auto entry = internal::ResolveSyscall(name, cands, profile->default_action);
    if (!entry.ok()) continue;
    // Probe with the values the rules mention and their neighbours.
    std::vector<uint64_t> probes = {0, 1, ~uint64_t{0}};
    for (const auto& c : cands) {
      for (const auto& a : c.chain) {
        for (uint64_t v : {a.value, a.value + 1, a.value - 1, a.mask, a.value | ~a.mask}) probes.push_back(v);
      }
    }
    if (probes.size() > 24) probes.resize(24);
    for (uint64_t v : probes) {
      for (uint64_t w : probes) {
        for (unsigned i = 0; i < 6; ++i) {
          uint64_t args[6] = {w, w, w, w, w, w};
          args[i] = v;
          policy::SeccompAction want = profile->default_action;
          for (const auto& c : cands) {
            if (internal::ChainHolds(c.chain, args)) {
              want = c.action;
              break;
            }
          }
          policy::SeccompAction got = profile->default_action;
          if (entry->unconditional) {
            got = *entry->unconditional;
          } else {
            bool seen = false;
            for (const auto& r : entry->chains) {
              if (!internal::ChainHolds(r.chain, args)) continue;
              if (seen && !(got == r.action)) abort();  // overlapping chains disagree
              got = r.action;
              seen = true;
            }
          }
          if (!(got == want)) abort();
        }
      }
    }
  }
  return 0;
}
