// The daemon's bundle content validator sees the files of a signed bundle:
// outside input once a signing key is compromised or careless. Any set of
// files must give Ok or a non-empty error, never a crash or a hang, also
// through the cross-file paths (a workload naming a policy that isn't
// there → LoadWorkloads for the located message; duplicate names; rules
// compiled cumulatively).
//
// Input: files separated by "\n---8<---\n"; each file's first byte picks
// its directory (policies/, workloads/, rules/, reference/) and the rest is
// its content. Files are validated in path order, as VerifyBundle does.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "edgeward/daemon/bundle_content.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using edgeward::bundle::FileKind;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kSep = "\n---8<---\n";
  static constexpr FileKind kKinds[] = {FileKind::kPolicy, FileKind::kWorkload, FileKind::kRules,
                                        FileKind::kReference};
  static constexpr const char* kDirs[] = {"policies/", "workloads/", "rules/", "reference/"};
  std::map<std::string, std::pair<FileKind, std::string>> files;  // path order
  size_t pos = 0;
  for (int i = 0; pos <= in.size() && i < 16; ++i) {
    size_t end = in.find(kSep, pos);
    if (end == std::string_view::npos) end = in.size();
    std::string_view chunk = in.substr(pos, end - pos);
    pos = end + kSep.size();
    if (chunk.empty()) continue;
    const int k = static_cast<unsigned char>(chunk[0]) % 4;
    files[std::string(kDirs[k]) + "f" + std::to_string(i) + ".yaml"] = {kKinds[k], std::string(chunk.substr(1))};
  }
  auto validate = edgeward::daemon::MakeBundleContentValidator();
  for (const auto& [path, f] : files) {
    edgeward::Status s = validate(f.first, path, f.second);
    if (!s.ok()) {
      if (s.message().empty()) __builtin_trap();
      break;  // VerifyBundle stops at the first rejected file
    }
  }
  return 0;
}
