// edgeward measure PATH...
#include <nlohmann/json.hpp>

#include <iostream>
#include <sstream>

#include "cli/common.h"
#include "edgeward/attest_node/measure.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::cli {
namespace {

struct MeasureArgs {
  std::vector<std::string> paths;
  uint32_t pcr = attest_node::kDefaultMeasurementPcr;
  bool json = false;
};

int RunMeasure(Globals& g, const MeasureArgs& a) {
  auto tpm = tpm::Tpm::Open(g.tcti);
  if (!tpm.ok()) return Fail(tpm.status());
  auto report = attest_node::Measure(*tpm, a.paths, {g.state_dir, a.pcr});
  if (!report.ok()) return Fail(report.status());
  if (a.json) {
    nlohmann::json j;
    j["pcr"] = a.pcr;
    j["log"] = attest_node::MeasurementLogPath(g.state_dir);
    j["extended"] = nlohmann::json::array();
    for (const auto& f : report->extended) j["extended"].push_back({{"path", f.path}, {"sha256", HexEncode(f.sha256)}});
    j["unchanged"] = nlohmann::json::array();
    for (const auto& f : report->unchanged) j["unchanged"].push_back({{"path", f.path}, {"sha256", HexEncode(f.sha256)}});
    j["notes"] = report->notes;
    return Fail(Emit(j.dump(2), ""));
  }
  std::ostringstream o;
  for (const auto& n : report->notes) o << "note: " << n << "\n";
  for (const auto& f : report->extended) o << "measured   " << HexEncode(f.sha256) << "  " << f.path << "\n";
  for (const auto& f : report->unchanged) o << "unchanged  " << HexEncode(f.sha256) << "  " << f.path << "\n";
  o << report->extended.size() << " new measurement(s) extended into PCR " << a.pcr << ", "
    << report->unchanged.size() << " unchanged; log: " << attest_node::MeasurementLogPath(g.state_dir) << "\n";
  return Fail(Emit(o.str(), ""));
}

}  // namespace

void AddMeasureCommand(CLI::App& app, Globals& g) {
  auto args = std::make_shared<MeasureArgs>();
  CLI::App* cmd = app.add_subcommand(
      "measure", "Hash files (SHA-256), log each in the CEL measurement log, extend the measurement PCR");
  cmd->add_option("paths", args->paths, "files or directories (walked recursively)")->required();
  cmd->add_option("--pcr", args->pcr, "measurement PCR (default 15; not 16 or 23)");
  cmd->add_flag("--json", args->json, "machine-readable output");
  AddTctiOption(cmd, g);
  AddStateDirOption(cmd, g);
  cmd->callback([&g, args] { g.exit_code = RunMeasure(g, *args); });
}

}  // namespace edgeward::cli
