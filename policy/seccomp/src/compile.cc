// Decision table → BPF with libseccomp.
//
// libseccomp treats the syscall number given to seccomp_rule_add as the
// *native* number and translates it by name for each architecture in the
// filter, so rules are added with seccomp_syscall_resolve_name() (native or
// libseccomp's pseudo-number) even when compiling for another architecture.
#include <errno.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memory>

#include "arch.h"
#include "build.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/fd.h"

namespace edgeward::seccomp::internal {
namespace {

using policy::Mode;
using policy::SeccompAction;
using policy::SeccompActionKind;

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using ScmpCtx = std::unique_ptr<void, CtxDeleter>;

uint32_t Native(const SeccompAction& a) {
  switch (a.kind) {
    case SeccompActionKind::kAllow: return SCMP_ACT_ALLOW;
    case SeccompActionKind::kErrno: return SCMP_ACT_ERRNO(a.errno_value);
    case SeccompActionKind::kKillProcess: return SCMP_ACT_KILL_PROCESS;
    case SeccompActionKind::kKillThread: return SCMP_ACT_KILL_THREAD;
    case SeccompActionKind::kTrap: return SCMP_ACT_TRAP;
    // Without a listener a notification would fail the call with ENOSYS;
    // natively, "tell someone" is the kernel's log.
    case SeccompActionKind::kLog:
    case SeccompActionKind::kNotify: return SCMP_ACT_LOG;
  }
  return SCMP_ACT_KILL_PROCESS;
}

// What the kernel does for a policy action under the table's mode.
// `dangerous`: the action is a dangerous-set denial. audit relaxes only the
// other decisions, so those stay native (in the kernel: no supervisor bug or
// crash can let them through). learn notifies them too, so the supervisor
// can record the call as a finding, and it answers with the denial.
uint32_t Installed(const SeccompAction& a, Mode mode, bool supervise, bool dangerous) {
  if (dangerous && mode == Mode::kAudit) {
    uint32_t native = Native(a);
    // A dangerous-set action is always a denial (table.cc); never let a
    // permissive one through here.
    return native == SCMP_ACT_ALLOW || native == SCMP_ACT_LOG ? SCMP_ACT_ERRNO(EPERM) : native;
  }
  if (!supervise) return Native(a);
  if (a.kind == SeccompActionKind::kAllow) return SCMP_ACT_ALLOW;
  // kill_thread stays native in enforce: a notification can't kill one thread.
  if (mode == Mode::kEnforce && a.kind == SeccompActionKind::kKillThread) return SCMP_ACT_KILL_THREAD;
  return SCMP_ACT_NOTIFY;
}

scmp_compare Op(policy::ArgOp op) {
  switch (op) {
    case policy::ArgOp::kEq: return SCMP_CMP_EQ;
    case policy::ArgOp::kNe: return SCMP_CMP_NE;
    case policy::ArgOp::kLt: return SCMP_CMP_LT;
    case policy::ArgOp::kLe: return SCMP_CMP_LE;
    case policy::ArgOp::kGt: return SCMP_CMP_GT;
    case policy::ArgOp::kGe: return SCMP_CMP_GE;
    case policy::ArgOp::kMaskedEq: return SCMP_CMP_MASKED_EQ;
  }
  return SCMP_CMP_EQ;
}

StatusOr<ScmpCtx> NewCtx(Arch arch, uint32_t default_action) {
  ScmpCtx ctx(seccomp_init(default_action));
  if (!ctx) return Internal("seccomp_init: failed");
  uint32_t target = ScmpArch(arch);
  if (target != seccomp_arch_native()) {
    int rc = seccomp_arch_add(ctx.get(), target);
    if (rc != 0) return ScmpStatus("seccomp_arch_add", ArchName(arch), rc);
    rc = seccomp_arch_remove(ctx.get(), SCMP_ARCH_NATIVE);
    if (rc != 0) return ScmpStatus("seccomp_arch_remove", "native", rc);
  }
  // Every other architecture (i386, and x32 numbers on x86_64) kills.
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc != 0) return ScmpStatus("seccomp_attr_set", "SCMP_FLTATR_ACT_BADARCH", rc);
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (rc != 0) return ScmpStatus("seccomp_attr_set", "SCMP_FLTATR_CTL_OPTIMIZE", rc);
  // The launcher sets no_new_privs itself, before Landlock.
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  if (rc != 0) return ScmpStatus("seccomp_attr_set", "SCMP_FLTATR_CTL_NNP", rc);
  return ctx;
}

Status AddRule(void* ctx, uint32_t action, const std::string& name, const Chain& chain) {
  int nr = seccomp_syscall_resolve_name(name.c_str());
  if (nr == __NR_SCMP_ERROR) return InvalidArgument("seccomp_syscall_resolve_name(" + name + "): unknown");
  scmp_arg_cmp cmp[6];
  for (size_t i = 0; i < chain.size(); ++i) {
    const policy::ArgCondition& c = chain[i];
    cmp[i] = c.op == policy::ArgOp::kMaskedEq ? scmp_arg_cmp{c.index, SCMP_CMP_MASKED_EQ, c.mask, c.value}
                                              : scmp_arg_cmp{c.index, Op(c.op), c.value, 0};
  }
  int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(chain.size()), cmp);
  if (rc != 0) return ScmpStatus("seccomp_rule_add", name, rc);
  return Status::Ok();
}

// Adds one table entry with `map` applied to its actions; rules equal to the
// filter default are left out (libseccomp refuses them, and they'd fall
// through to the default anyway).
template <typename Map>
Status AddEntry(void* ctx, uint32_t def, const SyscallEntry& e, Map map) {
  if (e.unconditional) {
    uint32_t a = map(*e.unconditional, e.dangerous);
    return a == def ? Status::Ok() : AddRule(ctx, a, e.name, {});
  }
  for (const ChainRule& r : e.chains) {
    uint32_t a = map(r.action, r.dangerous);
    if (a != def) EW_RETURN_IF_ERROR(AddRule(ctx, a, e.name, r.chain));
  }
  return Status::Ok();
}

uint32_t NativeOf(const SeccompAction& a, bool) { return Native(a); }

StatusOr<std::vector<sock_filter>> Export(void* ctx) {
  UniqueFd fd(memfd_create("edgeward-bpf", MFD_CLOEXEC));
  if (!fd.valid()) return EW_ERRNO("memfd_create", "edgeward-bpf");
  int rc = seccomp_export_bpf(ctx, fd.get());
  if (rc != 0) return ScmpStatus("seccomp_export_bpf", "memfd", rc);
  off_t size = lseek(fd.get(), 0, SEEK_END);
  if (size < 0) return EW_ERRNO("lseek", "memfd");
  if (size == 0 || size % sizeof(sock_filter) != 0 || size > 65536 * 8) {
    return Internal("seccomp_export_bpf: unexpected program size " + std::to_string(size));
  }
  std::vector<sock_filter> prog(static_cast<size_t>(size) / sizeof(sock_filter));
  ssize_t n = pread(fd.get(), prog.data(), static_cast<size_t>(size), 0);
  if (n < 0) return EW_ERRNO("pread", "memfd");
  if (n != size) return Internal("pread(memfd): short read");
  if (prog.size() > BPF_MAXINSNS) {
    return InvalidArgument("the filter has " + std::to_string(prog.size()) + " instructions (kernel limit 4096)");
  }
  return prog;
}

const SyscallEntry* Find(const DecisionTable& t, const std::string& name) {
  int nr = SyscallNumber(t.arch, name);
  auto it = t.syscalls.find(nr);
  return it == t.syscalls.end() ? nullptr : &it->second;
}

// sendmsg (and seccomp) as the policy says, for the handoff exception.
SyscallEntry EntryOrDefault(const DecisionTable& t, const std::string& name) {
  if (const SyscallEntry* e = Find(t, name)) return *e;
  SyscallEntry d;
  d.name = name;
  d.unconditional = t.default_action;
  return d;
}

bool IsClone3Fallback(const SyscallEntry& e) {
  return e.name == "clone3" && e.unconditional && e.unconditional->kind == SeccompActionKind::kErrno &&
         e.unconditional->errno_value == ENOSYS;
}

bool AlwaysAllowed(const SyscallEntry& e) {
  return e.unconditional && e.unconditional->kind == SeccompActionKind::kAllow;
}

}  // namespace

Status ScmpStatus(std::string_view call, std::string_view what, int rc) {
  return ErrnoStatus(call, what, rc < 0 ? -rc : EINVAL);
}

StatusOr<Programs> CompilePrograms(const DecisionTable& t, bool supervise) {
  Programs out;
  if (!supervise && t.mode != Mode::kEnforce) {
    return FailedPrecondition("seccomp: audit and learn modes need the supervisor");
  }
  if (t.mode == Mode::kLearn) {
    EW_ASSIGN_OR_RETURN(ScmpCtx ctx, NewCtx(t.arch, SCMP_ACT_NOTIFY));
    for (const std::string& n : LearnCore()) {
      if (SyscallNumber(t.arch, n) >= 0) EW_RETURN_IF_ERROR(AddRule(ctx.get(), SCMP_ACT_ALLOW, n, {}));
    }
    // Everything else (the dangerous set included) is notified: the
    // supervisor records it and denies what the dangerous set denies.
    // clone3's ENOSYS stays native: it is libc's cue to use clone, which the
    // supervisor sees.
    for (const auto& [nr, e] : t.syscalls) {
      if (IsClone3Fallback(e)) EW_RETURN_IF_ERROR(AddEntry(ctx.get(), SCMP_ACT_NOTIFY, e, NativeOf));
    }
    EW_ASSIGN_OR_RETURN(out.main, Export(ctx.get()));
    out.needs_supervisor = true;
    return out;
  }
  auto map = [&](const SeccompAction& a, bool dangerous) { return Installed(a, t.mode, supervise, dangerous); };
  const uint32_t def = map(t.default_action, false);
  bool notifies = def == SCMP_ACT_NOTIFY;
  for (const auto& [nr, e] : t.syscalls) {
    if (IsClone3Fallback(e)) continue;
    if (e.unconditional && map(*e.unconditional, e.dangerous) == SCMP_ACT_NOTIFY) notifies = true;
    for (const ChainRule& r : e.chains) notifies = notifies || map(r.action, r.dangerous) == SCMP_ACT_NOTIFY;
  }
  out.needs_supervisor = supervise && notifies;
  // The listener is sent with sendmsg after the main filter is in place, so
  // the main filter allows sendmsg; a second filter without a listener then
  // applies the policy's native action to it (and to seccomp, which the
  // child needs to install that second filter). Only in enforce mode:
  // audit lets sendmsg through unrecorded (docs/seccomp.md).
  SyscallEntry sendmsg = EntryOrDefault(t, "sendmsg");
  SyscallEntry seccomp_call = EntryOrDefault(t, "seccomp");
  const bool handoff_exception = out.needs_supervisor && !AlwaysAllowed(sendmsg);
  const bool second_filter = handoff_exception && t.mode == Mode::kEnforce;

  EW_ASSIGN_OR_RETURN(ScmpCtx ctx, NewCtx(t.arch, def));
  for (const auto& [nr, e] : t.syscalls) {
    if (handoff_exception && (e.name == "sendmsg" || (second_filter && e.name == "seccomp"))) continue;
    if (IsClone3Fallback(e) && t.mode == Mode::kEnforce) {
      // clone3 → ENOSYS is libc's cue to fall back to clone (whose flags the
      // filter can check); every thread start would otherwise be an event.
      EW_RETURN_IF_ERROR(AddEntry(ctx.get(), def, e, NativeOf));
      continue;
    }
    EW_RETURN_IF_ERROR(AddEntry(ctx.get(), def, e, map));
  }
  if (handoff_exception && def != SCMP_ACT_ALLOW) {
    EW_RETURN_IF_ERROR(AddRule(ctx.get(), SCMP_ACT_ALLOW, "sendmsg", {}));
    if (second_filter && !AlwaysAllowed(seccomp_call)) {
      EW_RETURN_IF_ERROR(AddRule(ctx.get(), SCMP_ACT_ALLOW, "seccomp", {}));
    }
  }
  EW_ASSIGN_OR_RETURN(out.main, Export(ctx.get()));

  if (second_filter) {
    EW_ASSIGN_OR_RETURN(ScmpCtx ctx2, NewCtx(t.arch, SCMP_ACT_ALLOW));
    EW_RETURN_IF_ERROR(AddEntry(ctx2.get(), SCMP_ACT_ALLOW, sendmsg, NativeOf));
    EW_RETURN_IF_ERROR(AddEntry(ctx2.get(), SCMP_ACT_ALLOW, seccomp_call, NativeOf));
    EW_ASSIGN_OR_RETURN(out.sendmsg, Export(ctx2.get()));
  }
  return out;
}

}  // namespace edgeward::seccomp::internal
