// edgeward policy check FILE...          validate policies (exit 2 with every located error)
// edgeward policy explain FILE [--json]  what the workload can/cannot do, exposure, node gaps
//
// `policy` is created here with require_subcommand; `learn` (run_cmd.cc) and
// the bundle commands (bundle_cmd.cc) attach to it with get_subcommand.
#include <algorithm>
#include <iostream>
#include <memory>

#include "cli/common.h"
#include "edgeward/policy/explain.h"
#include "edgeward/policy/node_features.h"
#include "edgeward/policy/parse.h"

namespace edgeward::cli {
namespace {

// Prints a failed parse: located errors verbatim (one per line, already
// "FILE:LINE:COL: field ...: ..."), other failures through Fail().
int ReportParseFailure(const std::string& file, const Status& s) {
  if (s.code() != StatusCode::kInvalidArgument) return Fail(s);
  std::cerr << s.message() << "\n";
  const auto n = std::count(s.message().begin(), s.message().end(), '\n') + 1;
  std::cerr << "edgeward: error: " << file << ": " << n << " error(s); policy rejected\n";
  return kExitBadInput;
}

struct CheckArgs {
  std::vector<std::string> files;
};

int RunCheck(const CheckArgs& a) {
  int rc = kExitOk;
  for (const std::string& f : a.files) {
    auto p = policy::ParsePolicyFile(f);
    if (p.ok()) {
      std::cout << f << ": ok\n";
      continue;
    }
    rc = std::max(rc, ReportParseFailure(f, p.status()));
  }
  return rc;
}

struct ExplainArgs {
  std::string file;
  bool json = false;
};

int RunExplain(const ExplainArgs& a) {
  auto p = policy::ParsePolicyFile(a.file);
  if (!p.ok()) return ReportParseFailure(a.file, p.status());
  const policy::Explanation e = policy::Explain(*p, policy::ProbeNodeFeatures());
  return Fail(Emit(a.json ? policy::FormatExplanationJson(e) : policy::FormatExplanation(e), ""));
}

}  // namespace

void AddPolicyCommands(CLI::App& app, Globals& g) {
  CLI::App* pol = app.add_subcommand("policy", "Check and explain workload policies");
  pol->require_subcommand(1);

  auto check = std::make_shared<CheckArgs>();
  CLI::App* c = pol->add_subcommand("check", "Validate policy files (exit 2 with every located error)");
  c->add_option("files", check->files, "policy files (YAML)")->required();
  c->callback([&g, check] { g.exit_code = RunCheck(*check); });

  auto explain = std::make_shared<ExplainArgs>();
  CLI::App* x = pol->add_subcommand(
      "explain", "Show what a workload can and cannot do, its exposure score, and what this node can't enforce");
  x->add_option("file", explain->file, "policy file (YAML)")->required();
  x->add_flag("--json", explain->json, "machine-readable output");
  x->callback([&g, explain] { g.exit_code = RunExplain(*explain); });
}

}  // namespace edgeward::cli
