#include "edgeward/seccomp/filter.h"

#include <linux/audit.h>

#include <chrono>

#include "arch.h"
#include "build.h"
#include "cache.h"
#include "edgeward/base/bytes.h"
#include "edgeward/crypto/hash.h"

#include <spdlog/spdlog.h>

namespace edgeward::seccomp {

Arch NativeArch() {
#if defined(__x86_64__)
  return Arch::kX86_64;
#elif defined(__aarch64__)
  return Arch::kAarch64;
#else
#error "edgeward supports x86_64 and aarch64"
#endif
}

std::string_view ArchName(Arch arch) { return arch == Arch::kX86_64 ? "x86_64" : "aarch64"; }

PreparedFilter::PreparedFilter() = default;
PreparedFilter::PreparedFilter(PreparedFilter&&) noexcept = default;
PreparedFilter& PreparedFilter::operator=(PreparedFilter&&) noexcept = default;
PreparedFilter::~PreparedFilter() = default;

size_t PreparedFilter::instruction_count() const { return main_.size() + sendmsg_.size(); }

Decision PreparedFilter::Decide(int nr, std::span<const uint64_t, 6> args) const {
  Decision d;
  // x32 numbers on x86_64 take the bad-arch action, as in the BPF.
  constexpr int kX32Bit = 0x40000000;
  if (arch_ == Arch::kX86_64 && (nr & kX32Bit) != 0) {
    d.action = {policy::SeccompActionKind::kKillProcess, 0};
    d.violation = true;
    return d;
  }
  d.action = internal::Evaluate(*table_, nr, args);
  d.violation = d.action.kind != policy::SeccompActionKind::kAllow;
  auto it = table_->syscalls.find(nr);
  if (it != table_->syscalls.end()) d.name = it->second.name;
  return d;
}

StatusOr<PreparedFilter> PrepareFilter(const policy::WorkloadPolicy& policy, const PrepareOptions& options) {
  EW_ASSIGN_OR_RETURN(internal::BuiltTable built, internal::BuildTable(policy, options.arch));
  PreparedFilter f;
  f.arch_ = options.arch;
  f.mode_ = policy.mode;
  f.skipped_ = std::move(built.skipped);

  std::optional<internal::Programs> programs;
  std::string key;
  if (!options.cache_dir.empty()) {
    key = internal::CacheKey(built.table, options.supervise);
    programs = internal::CacheLoad(options.cache_dir, key);
    f.from_cache_ = programs.has_value();
  }
  if (!programs) {
    EW_ASSIGN_OR_RETURN(programs, internal::CompilePrograms(built.table, options.supervise));
    if (!options.cache_dir.empty()) {
      // The cache only saves time: a launch never fails because of it.
      Status s = internal::CacheStore(options.cache_dir, key, *programs);
      if (!s.ok()) spdlog::warn("seccomp cache: {}", s.ToString());
    }
  }
  f.main_ = std::move(programs->main);
  f.sendmsg_ = std::move(programs->sendmsg);
  f.needs_supervisor_ = programs->needs_supervisor;
  crypto::Hasher h(crypto::HashAlg::kSha256);
  h.Update({reinterpret_cast<const uint8_t*>(f.main_.data()), f.main_.size() * sizeof(sock_filter)});
  h.Update({reinterpret_cast<const uint8_t*>(f.sendmsg_.data()), f.sendmsg_.size() * sizeof(sock_filter)});
  f.hash_hex_ = HexEncode(h.Finish());
  f.table_ = std::make_shared<const internal::DecisionTable>(std::move(built.table));
  return f;
}

}  // namespace edgeward::seccomp
