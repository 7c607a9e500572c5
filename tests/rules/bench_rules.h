// The rules_bench workload, shared by bench/rules_bench.cc and the
// differential test (tests/rules/differential_test.cc): 100 rules of the
// issue's kinds with their lists and macros, and a deterministic event mix.
#pragma once

#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "edgeward/rules/event_parser.h"

namespace edgeward::rules::bench {

struct BenchRule {
  std::string name;
  std::string condition;
  bool threshold = false;  // {count: 5, within: 10s, per: workload.name}
  bool exception = false;  // [workload.name startswith wl-1 and syscall.name = ptrace] ...
};

const std::vector<std::string> kSyscalls = {
    "ptrace", "bpf", "mount", "umount2", "unshare", "setns", "init_module", "kexec_load", "keyctl", "add_key",
    "open_by_handle_at", "perf_event_open", "userfaultfd", "process_vm_readv", "process_vm_writev", "kcmp",
    "swapon", "reboot", "settimeofday", "clock_settime", "acct", "pivot_root", "chroot", "socket", "connect",
    "bind", "listen", "execve", "read", "write"};

inline std::string Lists(std::vector<std::pair<std::string, std::vector<std::string>>>* out) {
  std::string yaml;
  for (int k = 0; k < 10; ++k) {
    std::vector<std::string> items;
    for (int j = 0; j < 8; ++j) items.push_back("wl-" + std::to_string((k * 3 + j * 5) % 40));
    out->emplace_back("wl_list_" + std::to_string(k), items);
  }
  for (int k = 0; k < 5; ++k) {
    std::vector<std::string> items;
    for (int j = 0; j < 6; ++j) items.push_back(kSyscalls[(k * 6 + j) % kSyscalls.size()]);
    out->emplace_back("sys_list_" + std::to_string(k), items);
  }
  for (const auto& [name, items] : *out) {
    yaml += "- list: " + name + "\n  items: [";
    for (size_t i = 0; i < items.size(); ++i) yaml += (i ? ", " : "") + items[i];
    yaml += "]\n";
  }
  return yaml;
}

inline std::vector<std::pair<std::string, std::string>> Macros() {
  std::vector<std::pair<std::string, std::string>> m = {
      {"m_violation", "event.type = sandbox.violation"},
      {"m_enforce", "m_violation and mode = enforce"},
      {"m_exit", "event.type = workload.exit"},
  };
  for (int k = 0; k < 10; ++k) m.emplace_back("m_sensitive_" + std::to_string(k), "workload.name in (wl_list_" + std::to_string(k) + ")");
  return m;
}

inline std::vector<BenchRule> Rules() {
  std::vector<BenchRule> r;
  for (int i = 0; i < 100; ++i) {
    const std::string k = std::to_string(i % 10), k5 = std::to_string(i % 5), n = std::to_string(i);
    BenchRule b;
    b.name = "rule " + n;
    if (i < 20) {
      b.condition = i % 2 ? "m_exit and exit.code = " + std::to_string(i % 4) + " and workload.pid > " + std::to_string(i * 50)
                          : "event.type = sandbox.violation and syscall.nr = " + std::to_string(i * 7 % 300) +
                                " and workload.pid > " + std::to_string(i * 100);
    } else if (i < 40) {
      b.condition = "m_enforce and workload.name in (wl_list_" + k + ") and syscall.name in (sys_list_" + k5 + ")";
    } else if (i < 60) {
      b.condition = "m_sensitive_" + k + " and m_enforce and not syscall.name in (read, write) and syscall.nr < " +
                    std::to_string(50 + i);
    } else if (i < 80) {
      static const char* kOps[] = {"startswith", "contains", "endswith", "glob"};
      const char* op = kOps[i % 4];
      std::string pat = i % 4 == 0 ? "\"wl-" + k + "\"" : i % 4 == 1 ? "\"_vm_\"" : i % 4 == 2 ? "\"mod\"" : "\"*e?t*\"";
      std::string field = i % 4 == 0 ? "workload.name" : "syscall.name";
      b.condition = "m_violation and " + field + " " + op + " " + pat + " and action startswith errno";
    } else if (i < 90) {
      b.condition = "m_enforce and workload.name in (wl_list_" + k + ") and syscall.name in (sys_list_" + k5 + ")";
      b.threshold = true;
    } else {
      b.condition = "m_violation and syscall.name in (sys_list_" + k5 + ") and mode = enforce";
      b.exception = true;
    }
    r.push_back(b);
  }
  return r;
}

inline std::string Yaml(const std::string& lists, const std::vector<BenchRule>& rules) {
  std::string y = lists;
  for (const auto& [name, cond] : Macros()) y += "- macro: " + name + "\n  condition: " + cond + "\n";
  for (const auto& r : rules) {
    y += "- rule: " + r.name + "\n  condition: " + r.condition + "\n  actions: [log]\n";
    if (r.threshold) y += "  threshold: {count: 5, within: 10s, per: workload.name}\n";
    if (r.exception) {
      y += "  exceptions:\n    - name: known\n      fields: [workload.name, syscall.name]\n      comps: [startswith, =]\n"
           "      values: [[wl-1, ptrace], [wl-2, bpf]]\n";
    }
  }
  return y;
}

// ---------------------------------------------------------------- events
inline std::vector<std::string> EventLines(size_t n) {
  std::mt19937 rng(7);
  std::vector<std::string> out;
  char ts[64];
  for (size_t i = 0; i < n; ++i) {
    int64_t ms = 1795477200000 + static_cast<int64_t>(i) * 3;  // 2026-11-23T23:40Z + 3 ms steps
    std::string t = FormatRfc3339Ms(ms);
    snprintf(ts, sizeof ts, "%s", t.c_str());
    unsigned dice = rng() % 100;
    // Most events come from ordinary workloads doing ordinary (blocked)
    // things; one in five involves a watched workload, one in four a
    // watched system call — so a few percent of events fire a rule.
    std::string wl = rng() % 5 ? "svc-" + std::to_string(rng() % 200) : "wl-" + std::to_string(rng() % 40);
    int pid = 1000 + static_cast<int>(rng() % 4000);
    if (dice < 80) {
      static const std::vector<std::string> kCommon = {"openat", "ioctl", "fcntl", "prctl", "sched_setaffinity",
                                                       "setsockopt", "mprotect", "madvise", "statx", "getrandom"};
      const std::string& sc = rng() % 4 ? kCommon[rng() % kCommon.size()] : kSyscalls[rng() % kSyscalls.size()];
      out.push_back(std::string(R"({"type":"sandbox.violation","time":")") + ts + R"(","node":{"id":"edge-7"},"workload":{"name":")" +
                    wl + R"(","pid":)" + std::to_string(pid) + R"(},"syscall":{"name":")" + sc + R"(","nr":)" +
                    std::to_string(rng() % 300) + R"J(,"arch":"x86_64","args":[0,0,0,0,0,0]},"action":"errno(EPERM)","mode":")J" +
                    (rng() % 5 ? "enforce" : "audit") + R"("})");
    } else if (dice < 90) {
      out.push_back(std::string(R"({"type":"workload.exit","time":")") + ts + R"(","workload":{"name":")" + wl +
                    R"(","pid":)" + std::to_string(pid) + R"(},"exit":{"code":)" + std::to_string(rng() % 4) + "}}");
    } else if (dice < 95) {
      out.push_back(std::string(R"({"type":"workload.start","time":")") + ts + R"(","workload":{"name":")" + wl +
                    R"(","pid":)" + std::to_string(pid) + "}}");
    } else {
      out.push_back(std::string(R"({"type":"attestation.verdict","time":")") + ts +
                    R"(","node":{"id":"edge-7"},"verdict":{"pass":true,"reasons":[]}})");
    }
  }
  return out;
}

}  // namespace edgeward::rules::bench
