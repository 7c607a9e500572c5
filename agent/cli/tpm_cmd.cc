// edgeward tpm info
#include <nlohmann/json.hpp>

#include <sstream>

#include "cli/common.h"
#include "edgeward/base/bytes.h"
#include "edgeward/tpm/ek.h"
#include "edgeward/tpm/info.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::cli {
namespace {

struct InfoArgs {
  bool json = false;
};

int RunInfo(Globals& g, const InfoArgs& a) {
  auto tpm = tpm::Tpm::Open(g.tcti);
  if (!tpm.ok()) return Fail(tpm.status());
  auto info = tpm::GetTpmInfo(*tpm);
  if (!info.ok()) return Fail(info.status());
  auto certs = tpm::ReadEkCertificates(*tpm);
  if (!certs.ok()) return Fail(certs.status());

  nlohmann::json j;
  j["tcti"] = tpm->tcti().ToString();
  j["manufacturer"] = info->manufacturer;
  j["vendor"] = info->vendor;
  j["firmware_version"] = info->firmware_version;
  j["spec"] = {{"family", info->spec_family}, {"level", info->spec_level}, {"revision", info->spec_revision}};
  j["algorithms"] = {{"rsa2048", info->rsa_2048}, {"ecc_p256", info->ecc_p256}, {"ecc_p384", info->ecc_p384}};
  j["pcr_banks"] = nlohmann::json::array();
  for (auto b : info->pcr_banks) j["pcr_banks"].push_back(std::string(crypto::HashAlgName(b)));
  j["clock"] = {{"clock_ms", info->clock.clock_ms},
                {"reset_count", info->clock.reset_count},
                {"restart_count", info->clock.restart_count},
                {"safe", info->clock.safe}};
  j["ek_certificates"] = nlohmann::json::array();
  for (const auto& c : *certs) {
    char idx[16];
    std::snprintf(idx, sizeof idx, "0x%08x", c.nv_index);
    j["ek_certificates"].push_back({{"kind", std::string(tpm::EkKindName(c.kind))}, {"nv_index", idx},
                                    {"der_bytes", c.der.size()}});
  }
  if (a.json) return Fail(Emit(j.dump(2), ""));

  std::ostringstream o;
  o << "TPM           " << info->manufacturer << " (" << info->vendor << "), firmware "
    << info->firmware_version << "\n"
    << "Spec          TPM " << info->spec_family << " level " << info->spec_level << " revision "
    << info->spec_revision / 100 << "." << info->spec_revision % 100 << "\n"
    << "Transport     " << tpm->tcti().ToString() << "\n"
    << "Algorithms    RSA-2048 " << (info->rsa_2048 ? "yes" : "no") << ", ECC P-256 "
    << (info->ecc_p256 ? "yes" : "no") << ", ECC P-384 " << (info->ecc_p384 ? "yes" : "no") << "\n"
    << "PCR banks    ";
  for (auto b : info->pcr_banks) o << " " << crypto::HashAlgName(b);
  o << "\nClock         " << info->clock.clock_ms << " ms, resets " << info->clock.reset_count
    << ", restarts " << info->clock.restart_count << (info->clock.safe ? "" : " (not safe)") << "\n"
    << "EK certs     ";
  if (certs->empty()) o << " none";
  for (const auto& c : *certs) {
    char idx[16];
    std::snprintf(idx, sizeof idx, "0x%08x", c.nv_index);
    o << " " << tpm::EkKindName(c.kind) << " at " << idx << ";";
  }
  o << "\n";
  return Fail(Emit(o.str(), ""));
}

}  // namespace

void AddTpmCommands(CLI::App& app, Globals& g) {
  CLI::App* tpm = app.add_subcommand("tpm", "Inspect the TPM");
  tpm->require_subcommand(1);
  auto args = std::make_shared<InfoArgs>();
  CLI::App* info = tpm->add_subcommand("info", "Manufacturer, firmware, algorithms, PCR banks, clock, EK certificates");
  AddTctiOption(info, g);
  info->add_flag("--json", args->json, "machine-readable output");
  info->callback([&g, args] { g.exit_code = RunInfo(g, *args); });
}

}  // namespace edgeward::cli
