// Policy → decision table: collects the candidate rules for every syscall in
// precedence order (policy deny, dangerous set, policy allow, base profile),
// resolves them per syscall (decision.cc), and wraps the partially dangerous
// syscalls (clone, ioctl, personality) so their dangerous argument region
// always gets the dangerous action.
#include <errno.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <map>
#include <set>

#include "arch.h"
#include "build.h"
#include "edgeward/policy/syscalls.h"
#include "edgeward/seccomp/oci_profile.h"

namespace edgeward::seccomp::internal {
namespace {

using policy::ArgCondition;
using policy::ArgOp;
using policy::DangerKind;
using policy::SeccompAction;
using policy::SeccompActionKind;

constexpr SeccompAction kEperm{SeccompActionKind::kErrno, EPERM};
// clone3's flags live in a struct the filter can't read: all of it fails
// with ENOSYS so libc falls back to clone, whose flags we can check.
constexpr SeccompAction kEnosys{SeccompActionKind::kErrno, ENOSYS};
constexpr SeccompAction kAllowAll{SeccompActionKind::kAllow, 0};

constexpr uint64_t kCloneNewFlags[] = {0x00020000 /*NEWNS*/,  0x02000000 /*NEWCGROUP*/, 0x04000000 /*NEWUTS*/,
                                       0x08000000 /*NEWIPC*/, 0x10000000 /*NEWUSER*/,   0x20000000 /*NEWPID*/,
                                       0x40000000 /*NEWNET*/, 0x00000080 /*NEWTIME*/};
// Docker's allowed personas: PER_LINUX, PER_LINUX32, UNAME26,
// UNAME26|PER_LINUX32, and the query 0xffffffff.
constexpr uint64_t kPersonalityAllowed[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

std::string Where(const policy::SourceLocation& w) {
  if (w.line == 0) return w.file;
  return w.file + ":" + std::to_string(w.line) + ":" + std::to_string(w.column);
}

// Chains (one MASKED_EQ on `index` each) covering every value whose low
// `bits` bits are not in `values`: split on bits from the top; a prefix no
// value shares is one chain.
void CoverComplement(unsigned index, const std::vector<uint64_t>& values, int bit, uint64_t mask, uint64_t prefix,
                     std::vector<Chain>* out) {
  if (values.empty()) {
    out->push_back({mask == ~uint64_t{0} ? ArgCondition{index, ArgOp::kEq, prefix, 0}
                                         : ArgCondition{index, ArgOp::kMaskedEq, prefix, mask}});
    return;
  }
  if (bit < 0) return;
  uint64_t b = uint64_t{1} << bit;
  std::vector<uint64_t> zero, one;
  for (uint64_t v : values) ((v & b) != 0 ? one : zero).push_back(v);
  CoverComplement(index, zero, bit - 1, mask | b, prefix, out);
  CoverComplement(index, one, bit - 1, mask | b, prefix | b, out);
}

// A partially dangerous syscall: `safe` and `danger` partition the argument
// space (as unions of chains that intersect any rule representably).
struct Partition {
  std::vector<Chain> safe;
  std::vector<Chain> danger;
};

Partition PartitionFor(const policy::DangerousSyscall& d) {
  Partition p;
  if (d.kind == DangerKind::kNamespaceFlags) {  // clone (unshare/clone3 are whole)
    uint64_t all = 0;
    for (uint64_t f : kCloneNewFlags) {
      all |= f;
      p.danger.push_back({{0, ArgOp::kMaskedEq, f, f}});
    }
    p.safe.push_back({{0, ArgOp::kMaskedEq, 0, all}});
  } else if (d.kind == DangerKind::kIoctlTerminal) {
    // The kernel reads the request as 32 bits: compare the low 32 only, so
    // high garbage bits can't slip TIOCSTI past the filter.
    std::vector<uint64_t> bad = {TIOCSTI, TIOCLINUX};
    for (uint64_t v : bad) p.danger.push_back({{1, ArgOp::kMaskedEq, v, 0xffffffff}});
    CoverComplement(1, bad, 31, 0, 0, &p.safe);
  } else if (d.kind == DangerKind::kPersonality) {
    std::vector<uint64_t> ok(std::begin(kPersonalityAllowed), std::end(kPersonalityAllowed));
    for (uint64_t v : ok) p.safe.push_back({{0, ArgOp::kEq, v, 0}});
    CoverComplement(0, ok, 63, 0, 0, &p.danger);
  }
  return p;
}

// socket(2)'s families by the policy's network: none → AF_UNIX only;
// loopback/host → AF_UNIX, AF_INET, AF_INET6; plus any family a policy allow
// rule names exactly (`socket` with args [{index: 0, op: eq, value: N}]).
// Other families fail with EAFNOSUPPORT. AF_NETLINK and AF_PACKET (raw
// frames, routing and audit sockets: kernel attack surface) are denied as
// the dangerous set is, in every mode; the rest of the family filter is a
// policy decision that audit and learn relax (learn must see the ports).
constexpr uint64_t kAfUnix = 1, kAfInet = 2, kAfInet6 = 10, kAfNetlink = 16, kAfPacket = 17;
constexpr SeccompAction kEafnosupport{SeccompActionKind::kErrno, EAFNOSUPPORT};

struct SocketFilter {
  std::vector<uint64_t> allowed;
  Partition partition;  // danger: families not allowed
  std::vector<bool> danger_is_dangerous;  // per partition.danger chain
};

SocketFilter SocketFamilies(const policy::WorkloadPolicy& pol) {
  SocketFilter s;
  s.allowed = {kAfUnix};
  if (pol.network.mode != policy::NetworkMode::kNone) {
    s.allowed.push_back(kAfInet);
    s.allowed.push_back(kAfInet6);
  }
  for (const policy::SyscallRule& r : pol.seccomp.allow) {
    if (std::find(r.names.begin(), r.names.end(), "socket") == r.names.end()) continue;
    for (const ArgCondition& c : r.args) {
      if (c.index == 0 && c.op == ArgOp::kEq && c.value <= 0xffffffff) s.allowed.push_back(c.value);
    }
  }
  std::sort(s.allowed.begin(), s.allowed.end());
  s.allowed.erase(std::unique(s.allowed.begin(), s.allowed.end()), s.allowed.end());
  // Whole 64-bit values (as personality's): a family with garbage in the
  // high bits is denied, which is conservative (the kernel reads an int),
  // and equality merges with policy rules on the same argument.
  for (uint64_t v : s.allowed) s.partition.safe.push_back({{0, ArgOp::kEq, v, 0}});
  std::vector<uint64_t> listed = s.allowed;
  for (uint64_t v : {kAfNetlink, kAfPacket}) {
    if (std::find(s.allowed.begin(), s.allowed.end(), v) != s.allowed.end()) continue;
    s.partition.danger.push_back({{0, ArgOp::kEq, v, 0}});
    s.danger_is_dangerous.push_back(true);
    listed.push_back(v);
  }
  std::vector<Chain> rest;
  CoverComplement(0, listed, 63, 0, 0, &rest);
  for (Chain& c : rest) {
    s.partition.danger.push_back(std::move(c));
    s.danger_is_dangerous.push_back(false);
  }
  return s;
}

// Restricts an entry to the safe region and gives the rest the dangerous action.
StatusOr<SyscallEntry> WrapDangerous(SyscallEntry e, const Partition& p, const SeccompAction& danger_action,
                                     const SeccompAction& default_action,
                                     const std::vector<bool>* danger_is_dangerous = nullptr) {
  std::vector<ChainRule> chains;
  std::vector<ChainRule> inner = e.chains;
  if (e.unconditional) inner = {{Chain{}, *e.unconditional, e.dangerous}};
  for (const ChainRule& r : inner) {
    if (r.action == default_action) continue;
    for (const Chain& s : p.safe) {
      Chain both = r.chain;
      for (const ArgCondition& c : s) both.push_back(c);
      auto merged = MakeChain(both);
      if (!merged.ok()) {
        return InvalidArgument("syscall '" + e.name + "': a rule's argument conditions can't be combined with "
                               "the dangerous-set filter on the same argument: " + merged.status().message());
      }
      if (merged->has_value()) chains.push_back({std::move(**merged), r.action, r.dangerous});
    }
  }
  // Always explicit, even when the default would deny the same way: audit
  // and learn relax the default, never the dangerous region.
  for (size_t i = 0; i < p.danger.size(); ++i) {
    const bool dangerous = danger_is_dangerous == nullptr || (*danger_is_dangerous)[i];
    chains.push_back({p.danger[i], danger_action, dangerous});
  }
  SyscallEntry out;
  out.name = e.name;
  for (ChainRule& r : chains) {
    if (std::find(out.chains.begin(), out.chains.end(), r) == out.chains.end()) out.chains.push_back(std::move(r));
  }
  return out;
}

bool IsDenial(const SeccompAction& a) {
  return a.kind != SeccompActionKind::kAllow && a.kind != SeccompActionKind::kLog &&
         a.kind != SeccompActionKind::kNotify;
}

struct PerSyscall {
  std::string name;
  std::vector<Candidate> deny, dangerous, allow, profile;
};

}  // namespace

StatusOr<BuiltTable> BuildTable(const policy::WorkloadPolicy& pol, Arch arch) {
  const policy::SeccompSpec& spec = pol.seccomp;
  OciImportOptions io;
  io.arch = arch;
  io.capabilities = pol.capabilities;
  OciProfile profile;
  profile.default_action = kEperm;
  std::string profile_name;
  switch (spec.profile) {
    case policy::SeccompProfileKind::kBaseline: {
      EW_ASSIGN_OR_RETURN(profile, ShippedProfile("baseline", io));
      profile_name = "profile baseline";
      break;
    }
    case policy::SeccompProfileKind::kStrict: {
      EW_ASSIGN_OR_RETURN(profile, ShippedProfile("strict", io));
      profile_name = "profile strict";
      break;
    }
    case policy::SeccompProfileKind::kOciFile: {
      EW_ASSIGN_OR_RETURN(profile, LoadOciProfile(spec.profile_path, io));
      profile_name = "profile " + spec.profile_path;
      break;
    }
    case policy::SeccompProfileKind::kNone: break;
  }
  BuiltTable out;
  DecisionTable& t = out.table;
  t.arch = arch;
  t.mode = pol.mode;
  t.default_action = spec.default_action.value_or(profile.default_action);

  std::set<std::string> skipped(profile.unknown_syscalls.begin(), profile.unknown_syscalls.end());
  skipped.insert(profile.other_arch_syscalls.begin(), profile.other_arch_syscalls.end());
  std::map<int, PerSyscall> by_nr;
  auto slot = [&](const std::string& name) -> PerSyscall* {
    int nr = SyscallNumber(arch, name);
    if (nr < 0) {
      skipped.insert(name);
      return nullptr;
    }
    PerSyscall& s = by_nr[nr];
    if (s.name.empty()) s.name = SyscallName(arch, nr);
    return &s;
  };
  auto add_rules = [&](const std::vector<policy::SyscallRule>& rules, const std::string& kind,
                       std::vector<Candidate> PerSyscall::*list) -> Status {
    for (const policy::SyscallRule& r : rules) {
      auto chain = MakeChain(r.args);
      const std::string origin = kind + " at " + Where(r.where);
      if (!chain.ok()) return InvalidArgument(origin + ": " + chain.status().message());
      if (!chain->has_value()) continue;  // conditions that never hold
      for (const std::string& n : r.names) {
        if (PerSyscall* s = slot(n)) (s->*list).push_back({**chain, r.action, origin});
      }
    }
    return Status::Ok();
  };
  EW_RETURN_IF_ERROR(add_rules(spec.deny, "deny rule", &PerSyscall::deny));
  EW_RETURN_IF_ERROR(add_rules(spec.allow, "allow rule", &PerSyscall::allow));
  EW_RETURN_IF_ERROR(add_rules(profile.rules, "rule", &PerSyscall::profile));

  auto opted_in = [&](std::string_view name) {
    return std::any_of(spec.allow_dangerous.begin(), spec.allow_dangerous.end(),
                       [&](const policy::DangerousOptIn& o) { return o.name == name; });
  };
  std::map<int, const policy::DangerousSyscall*> partial;
  std::set<int> whole_dangerous;
  for (const policy::DangerousSyscall& d : policy::DangerousSyscalls()) {
    if (opted_in(d.name)) continue;
    int nr = SyscallNumber(arch, std::string(d.name));
    if (nr < 0) continue;  // not on this arch (iopl/ioperm on aarch64)
    PerSyscall* s = slot(std::string(d.name));
    bool whole = d.kind == DangerKind::kWhole || d.name == "clone3" || d.name == "unshare";
    if (whole) {
      // A deny rule may pick a harsher action for a dangerous syscall, never
      // a permissive one (log/notify/allow would let it run unopted-in).
      std::erase_if(s->deny, [](const Candidate& c) { return !IsDenial(c.action); });
      s->dangerous.push_back({Chain{}, d.name == "clone3" ? kEnosys : kEperm, "dangerous set"});
      whole_dangerous.insert(nr);
    } else {
      partial[nr] = &d;
    }
  }

  // socket is always filtered by family (SocketFamilies()), whatever the
  // profile says about it.
  const SocketFilter sockets = SocketFamilies(pol);
  const int socket_nr = SyscallNumber(arch, "socket");
  if (socket_nr >= 0) slot("socket");

  for (auto& [nr, s] : by_nr) {
    std::vector<Candidate> all;
    for (auto* list : {&s.deny, &s.dangerous, &s.allow, &s.profile}) all.insert(all.end(), list->begin(), list->end());
    const bool whole = whole_dangerous.count(nr) != 0;
    // A whole dangerous syscall is resolved against "allow" as the default,
    // which none of its rules has (all are denials): so every rule stays
    // explicit in the table instead of falling through to a default that
    // audit and learn relax.
    EW_ASSIGN_OR_RETURN(SyscallEntry e, ResolveSyscall(s.name, all, whole ? kAllowAll : t.default_action));
    if (whole) {
      e.dangerous = e.unconditional.has_value();
      for (ChainRule& r : e.chains) r.dangerous = true;
    }
    if (auto p = partial.find(nr); p != partial.end()) {
      EW_ASSIGN_OR_RETURN(e, WrapDangerous(std::move(e), PartitionFor(*p->second), kEperm, t.default_action));
    }
    if (nr == socket_nr) {
      EW_ASSIGN_OR_RETURN(e, WrapDangerous(std::move(e), sockets.partition, kEafnosupport, t.default_action,
                                           &sockets.danger_is_dangerous));
    }
    if (e.unconditional || !e.chains.empty()) t.syscalls[nr] = std::move(e);
  }
  out.skipped.assign(skipped.begin(), skipped.end());
  return out;
}

const std::vector<std::string>& LearnCore() {
  static const std::vector<std::string> kCore = {
      "brk", "clock_gettime", "clock_nanosleep", "close", "epoll_pwait", "epoll_wait", "exit", "exit_group",
      "futex", "getpid", "gettid", "gettimeofday", "lseek", "madvise", "mmap", "mprotect", "munmap",
      "nanosleep", "poll", "ppoll", "pread64", "pwrite64", "read", "readv", "restart_syscall",
      "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sched_yield", "sendmsg", "write", "writev"};
  return kCore;
}

std::string CanonicalTable(const DecisionTable& t) {
  auto act = [](const SeccompAction& a) {
    return std::to_string(static_cast<int>(a.kind)) + "/" + std::to_string(a.errno_value);
  };
  std::string s = "arch=" + std::to_string(static_cast<int>(t.arch)) + " mode=" +
                  std::to_string(static_cast<int>(t.mode)) + " default=" + act(t.default_action) + "\n";
  for (const auto& [nr, e] : t.syscalls) {
    s += std::to_string(nr) + " " + e.name;
    if (e.unconditional) s += " = " + act(*e.unconditional) + (e.dangerous ? "!" : "");
    for (const ChainRule& r : e.chains) {
      s += " |";
      for (const ArgCondition& c : r.chain) {
        s += " " + std::to_string(c.index) + ":" + std::to_string(static_cast<int>(c.op)) + ":" +
             std::to_string(c.value) + ":" + std::to_string(c.mask);
      }
      s += " -> " + act(r.action) + (r.dangerous ? "!" : "");
    }
    s += "\n";
  }
  return s;
}

}  // namespace edgeward::seccomp::internal
