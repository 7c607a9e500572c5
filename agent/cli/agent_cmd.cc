// `edgeward agent` (the daemon) and the client commands that talk to a
// running agent over its control socket: status, workloads, events,
// attest now, policy show, quarantine release. Each prints text, or the
// agent's JSON with --json.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/common.h"
#include "edgeward/daemon/config.h"
#include "edgeward/daemon/control.h"
#include "edgeward/daemon/daemon.h"

namespace edgeward::cli {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr milliseconds kClientTimeout(10000);

struct ClientArgs {
  std::string socket;
  bool json = false;
  bool follow = false;
  uint64_t since = 0;
};

void AddClientOptions(CLI::App* cmd, ClientArgs& a) {
  const char* env = std::getenv("EDGEWARD_CONTROL_SOCKET");
  a.socket = env != nullptr && *env != '\0' ? env : "/run/edgeward/control.sock";
  cmd->add_option("--socket", a.socket,
                  "the agent's control socket (default: $EDGEWARD_CONTROL_SOCKET or /run/edgeward/control.sock)");
  cmd->add_flag("--json", a.json, "print the agent's answer as JSON");
}

StatusOr<std::string> Ask(const ClientArgs& a, const std::string& request) {
  EW_ASSIGN_OR_RETURN(auto client, daemon::ControlClient::Connect(a.socket, kClientTimeout));
  return client.Call(request, kClientTimeout);
}

std::string Str(const json& j, const char* key, const char* fallback = "-") {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return fallback;
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

std::string FormatStatus(const json& s) {
  std::ostringstream out;
  out << "node:        " << Str(s.value("node", json::object()), "id") << "\n"
      << "agent:       pid " << Str(s, "pid") << ", up " << Str(s, "uptime_s") << " s, " << Str(s, "mode") << "\n"
      << "config:      " << Str(s, "config") << "\n";
  const json w = s.value("workloads", json::object());
  out << "workloads:   " << Str(w, "total", "0") << " (";
  bool first = true;
  for (auto it = w.begin(); it != w.end(); ++it) {
    if (it.key() == "total") continue;
    out << (first ? "" : ", ") << it.key() << " " << it.value().dump();
    first = false;
  }
  out << ")\n";
  const json b = s.value("bundle", json::object());
  out << "bundle:      " << (Str(b, "version", "0") == "0" ? Str(b, "source", "none") : "version " + Str(b, "version") + " (" + Str(b, "source") + ")") << "\n";
  if (s.contains("metrics")) out << "metrics:     " << Str(s["metrics"], "url") << "\n";
  const json q = s.value("quarantine", json());
  if (q.is_object()) {
    const json active = q.value("active", json());
    if (active.is_boolean() && active.get<bool>()) {
      out << "quarantine:  ACTIVE, network cut but loopback and the verifier (table " << Str(q, "table") << ")";
      if (q.contains("rule")) out << ", by rule '" << Str(q, "rule") << "' at " << Str(q, "since");
      out << "; lift with `edgeward quarantine release`\n";
    } else if (active.is_boolean()) {
      out << "quarantine:  none\n";
    } else {
      out << "quarantine:  UNKNOWN: " << Str(q, "error") << "\n";
    }
    if (q.contains("last_error")) out << "             last attempt FAILED, network NOT cut: " << Str(q, "last_error") << "\n";
  }
  const json r = s.value("rules", json::object());
  out << "rules:       " << Str(r, "loaded", "0") << " loaded, " << Str(r, "firings", "0") << " fired\n";
  const json c = s.value("cloud", json());
  if (c.is_object()) {
    if (Str(c, "url", "").empty()) {
      out << "verifier:    none (local-only)\n";
    } else {
      out << "verifier:    " << Str(c, "url") << (c.value("registered", false) ? ", registered" : ", not registered")
          << "\n";
    }
    const json v = c.value("last_verdict", json());
    out << "attestation: "
        << (v.is_object() ? std::string(v.value("pass", false) ? "pass" : "FAIL") + " at " + Str(v, "time")
                          : std::string("no verdict yet"))
        << "\n"
        << "tpm:         " << (c.value("tpm_ok", false) ? "ok" : "FAULT: " + Str(c, "tpm_error")) << "\n"
        << "spool:       " << Str(c, "spool_messages", "0") << " messages, " << Str(c, "spool_bytes", "0")
        << " bytes\n";
  } else {
    out << "verifier:    none (local-only)\n";
  }
  return out.str();
}

std::string FormatWorkloads(const json& r) {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof line, "%-24s %-11s %8s %8s  %s\n", "NAME", "STATE", "PID", "RESTARTS", "LAST EXIT");
  out << line;
  for (const auto& w : r.value("workloads", json::array())) {
    std::snprintf(line, sizeof line, "%-24s %-11s %8s %8s  %s\n", Str(w, "name").c_str(), Str(w, "state").c_str(),
                  Str(w, "pid").c_str(), Str(w, "restarts", "0").c_str(), Str(w, "last_exit").c_str());
    out << line;
  }
  return out.str();
}

std::string FormatEvent(const json& e) {
  const json ev = e.value("event", json::object());
  std::string line = Str(ev, "time") + "  " + Str(ev, "type");
  if (ev.contains("workload") && ev["workload"].is_object()) line += "  workload=" + Str(ev["workload"], "name");
  if (ev.contains("syscall") && ev["syscall"].is_object()) line += "  syscall=" + Str(ev["syscall"], "name");
  if (ev.contains("exit") && ev["exit"].is_object()) line += "  exit=" + ev["exit"].dump();
  if (ev.contains("rule")) line += "  rule=" + Str(ev, "rule");
  return line + "\n";
}

int RunClient(const ClientArgs& a, const std::string& request, std::string (*format)(const json&)) {
  auto result = Ask(a, request);
  if (!result.ok()) return Fail(result.status());
  if (a.json) return Fail(Emit(*result, ""));
  json j = json::parse(*result, nullptr, false);
  if (j.is_discarded()) return Fail(DataLoss("malformed answer from the agent"));
  return Fail(Emit(format(j), ""));
}

int RunEvents(const ClientArgs& a) {
  auto client = daemon::ControlClient::Connect(a.socket, kClientTimeout);
  if (!client.ok()) return Fail(client.status());
  json req = {{"request", "events"}, {"since", a.since}};
  if (a.follow) req["follow"] = true;
  Status sent = client->Send(req.dump());
  if (!sent.ok()) return Fail(sent);
  auto first = client->ReadLine(kClientTimeout);
  if (!first.ok()) return Fail(first.status());
  auto result = daemon::DecodeControlResponse(*first);
  if (!result.ok()) return Fail(result.status());
  json backlog = json::parse(*result, nullptr, false);
  if (backlog.is_discarded()) return Fail(DataLoss("malformed answer from the agent"));
  auto print = [&](const json& e) {
    std::cout << (a.json ? e.dump() + "\n" : FormatEvent(e));
    std::cout.flush();
  };
  for (const auto& e : backlog.value("events", json::array())) print(e);
  if (!a.follow) return kExitOk;
  for (;;) {
    auto line = client->ReadLine(milliseconds(0));
    if (!line.ok()) return Fail(line.status());  // the agent went away
    json e = json::parse(*line, nullptr, false);
    if (e.is_discarded()) return Fail(DataLoss("malformed event line from the agent"));
    print(e);
  }
}

std::string FormatAttest(const json& r) { return "attestation requested: " + Str(r, "message", "queued") + "\n"; }

std::string FormatRelease(const json& r) { return Str(r, "message", "done") + "\n"; }

std::string FormatPolicy(const json& r) {
  std::ostringstream out;
  const json b = r.value("bundle", json::object());
  out << "bundle:    " << (Str(b, "version", "0") == "0" ? Str(b, "source", "none") : "version " + Str(b, "version") + " (" + Str(b, "source") + ")") << "\n";
  if (b.contains("digest")) out << "digest:    " << Str(b, "digest") << "\n";
  out << "policies:\n";
  for (const auto& p : r.value("policies", json::array())) {
    out << "  " << Str(p, "workload") << ": " << Str(p, "policy") << " (sha256 " << Str(p, "digest") << ")\n";
  }
  const json rules = r.value("rules", json::object());
  out << "rules:     " << Str(rules, "loaded", "0") << " loaded\n";
  for (const auto& f : rules.value("files", json::array())) out << "  file " << (f.is_string() ? f.get<std::string>() : f.dump()) << "\n";
  for (const auto& x : rules.value("list", json::array())) {
    out << "  " << Str(x, "name") << " [" << Str(x, "priority") << "]";
    for (const auto& a : x.value("actions", json::array())) out << " " << (a.is_string() ? a.get<std::string>() : a.dump());
    out << "\n";
  }
  return out.str();
}

}  // namespace

void AddAgentCommands(CLI::App& app, Globals& g) {
  auto config = std::make_shared<std::string>("/etc/edgeward/agent.yaml");
  auto check_only = std::make_shared<bool>(false);
  CLI::App* agent = app.add_subcommand("agent", "run the agent daemon (attest, enforce, update, report)");
  agent->add_option("--config", *config, "agent config file (default /etc/edgeward/agent.yaml)");
  agent->add_flag("--check-config", *check_only, "only validate the config (exit 0 ok, 2 with located errors)");
  agent->callback([&g, config, check_only] {
    if (*check_only) {
      auto c = daemon::LoadAgentConfig(*config);
      g.exit_code = c.ok() ? kExitOk : Fail(c.status());
      if (c.ok()) std::cout << *config << ": ok\n";
      return;
    }
    g.exit_code = daemon::RunAgent(*config);
  });

  auto status = std::make_shared<ClientArgs>();
  CLI::App* st = app.add_subcommand("status", "the running agent's state: node, workloads, bundle, attestation");
  AddClientOptions(st, *status);
  st->callback([&g, status] { g.exit_code = RunClient(*status, R"({"request":"status"})", FormatStatus); });

  auto workloads = std::make_shared<ClientArgs>();
  CLI::App* wl = app.add_subcommand("workloads", "the supervised workloads and their states");
  AddClientOptions(wl, *workloads);
  wl->callback([&g, workloads] { g.exit_code = RunClient(*workloads, R"({"request":"workloads"})", FormatWorkloads); });

  auto events = std::make_shared<ClientArgs>();
  CLI::App* ev = app.add_subcommand("events", "recent events seen by the agent (--follow to stream)");
  AddClientOptions(ev, *events);
  ev->add_flag("-f,--follow", events->follow, "keep printing new events until interrupted");
  ev->add_option("--since", events->since, "only events after this sequence number");
  ev->callback([&g, events] { g.exit_code = RunEvents(*events); });

  // `attest now`: a subcommand of the existing `attest`.
  auto found = app.get_subcommands([](CLI::App* sub) { return sub->get_name() == "attest"; });
  CLI::App* attest = found.empty() ? app.add_subcommand("attest", "attestation") : found.front();
  auto now = std::make_shared<ClientArgs>();
  CLI::App* an = attest->add_subcommand("now", "ask the running agent to attest now");
  AddClientOptions(an, *now);
  an->callback([&g, now] { g.exit_code = RunClient(*now, R"({"request":"attest_now"})", FormatAttest); });

  CLI::App* quarantine = app.add_subcommand("quarantine", "the node's network quarantine (see `edgeward status`)");
  quarantine->require_subcommand(1);
  auto release = std::make_shared<ClientArgs>();
  CLI::App* rel = quarantine->add_subcommand(
      "release", "lift the network quarantine (remove table inet edgeward_quarantine); stopped workloads stay stopped");
  AddClientOptions(rel, *release);
  rel->callback([&g, release] {
    g.exit_code = RunClient(*release, R"({"request":"quarantine_release"})", FormatRelease);
  });
}

void AddPolicyShowCommand(CLI::App& app, Globals& g) {
  auto found = app.get_subcommands([](CLI::App* sub) { return sub->get_name() == "policy"; });
  if (found.empty()) return;
  CLI::App& policy = *found.front();
  // bundle_cmd.cc already has an offline `policy show --state-dir` that reads
  // the bundle store on disk. Keep it for that case (and when no agent is
  // running); otherwise ask the agent, which knows what is enforced.
  CLI::App_p offline = policy.get_subcommand_ptr("show");
  if (offline) policy.remove_subcommand(offline.get());
  auto a = std::make_shared<ClientArgs>();
  auto state_dir = std::make_shared<std::string>();
  CLI::App* sh = policy.add_subcommand("show", "the running agent's bundle, policies and rules "
                                               "(--state-dir DIR: the bundle store on disk, no agent needed)");
  AddClientOptions(sh, *a);
  sh->add_option("--state-dir", *state_dir, "show the on-disk bundle store of this state directory instead");
  sh->callback([&g, a, state_dir, offline] {
    if (state_dir->empty()) {
      auto result = Ask(*a, R"({"request":"policy_show"})");
      const bool no_agent = !result.ok() && (result.status().code() == StatusCode::kNotFound ||
                                             result.status().code() == StatusCode::kUnavailable);
      if (!no_agent || !offline) {
        if (!result.ok()) {
          g.exit_code = Fail(result.status());
        } else if (a->json) {
          g.exit_code = Fail(Emit(*result, ""));
        } else {
          json j = json::parse(*result, nullptr, false);
          g.exit_code = j.is_discarded() ? Fail(DataLoss("malformed answer from the agent"))
                                         : Fail(Emit(FormatPolicy(j), ""));
        }
        return;
      }
      std::cerr << "edgeward: no agent on " << a->socket << "; showing the bundle store on disk\n";
    }
    std::vector<std::string> args;
    if (!state_dir->empty()) args = {*state_dir, "--state-dir"};  // CLI11 parses a reversed vector
    try {
      offline->parse(args);
    } catch (const CLI::ParseError& e) {
      g.exit_code = Fail(InvalidArgument(e.what()));
    }
  });
}

}  // namespace edgeward::cli
