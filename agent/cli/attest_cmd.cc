// edgeward attest quote | verify | reference | log
#include <nlohmann/json.hpp>

#include <iostream>

#include "cli/common.h"
#include "edgeward/attest/appraisal.h"
#include "edgeward/attest/eventlog.h"
#include "edgeward/attest/evidence.h"
#include "edgeward/attest/reference.h"
#include "edgeward/base/file.h"
#include "edgeward/attest_node/collect.h"
#include "edgeward/attest_node/measure.h"
#include "edgeward/tpm/ak.h"
#include "edgeward/tpm/ek.h"
#include "edgeward/tpm/tpm.h"

namespace edgeward::cli {
namespace {

struct QuoteArgs {
  std::string nonce_hex;
  std::string pcrs;
  std::string out;
  std::string node_id;
  uint32_t pcr = attest_node::kDefaultMeasurementPcr;
};

int RunQuote(Globals& g, const QuoteArgs& a) {
  attest_node::CollectOptions o;
  o.state_dir = g.state_dir;
  auto nonce = HexDecode(a.nonce_hex);
  if (!nonce.ok()) return Fail(nonce.status().WithContext("--nonce"));
  o.nonce = std::move(*nonce);
  if (!a.pcrs.empty()) {
    auto sel = tpm::ParsePcrSelection(a.pcrs);
    if (!sel.ok()) return Fail(sel.status().WithContext("--pcrs"));
    o.selection = std::move(*sel);
  }
  o.measurement_pcr = a.pcr;
  o.node_id = a.node_id;
  auto tpm = tpm::Tpm::Open(g.tcti);
  if (!tpm.ok()) return Fail(tpm.status());
  auto ev = attest_node::CollectEvidence(*tpm, o);
  if (!ev.ok()) return Fail(ev.status());
  auto json = attest::EncodeEvidence(*ev);
  if (!json.ok()) return Fail(json.status());
  return Fail(Emit(*json, a.out));
}

// An input file that is too large is bad input (exit 2), not a failure of
// the machine.
Status AsInputError(const Status& s) {
  if (s.code() == StatusCode::kResourceExhausted) return InvalidArgument(s.message());
  return s;
}

StatusOr<attest::Evidence> LoadEvidence(const std::string& path) {
  auto text = ReadFileToString(path, attest::kMaxEvidenceBytes);
  if (!text.ok()) return AsInputError(text.status());
  auto ev = attest::DecodeEvidence(*text);
  if (!ev.ok()) return AsInputError(ev.status()).WithContext(path);
  return ev;
}

struct AkArgs {
  bool json = false;
};

// Prints the node's AK (creating it on first use) for enrollment: the
// verifier pins its name (`attest verify --ak-name`, or a reference made by
// `attest reference`), after credential activation has tied it to the EK.
int RunAk(Globals& g, const AkArgs& a) {
  auto tpm = tpm::Tpm::Open(g.tcti);
  if (!tpm.ok()) return Fail(tpm.status());
  auto ek = tpm::Ek::Open(*tpm);
  if (!ek.ok()) return Fail(ek.status());
  auto ak = tpm::LoadOrCreateAk(*ek, g.state_dir);
  if (!ak.ok()) return Fail(ak.status());
  if (a.json) {
    nlohmann::json j;
    j["ak"] = {{"name", HexEncode(ak->name())},
               {"algorithm", std::string(tpm::AkAlgorithmName(ak->algorithm()))},
               {"public", Base64Encode(ak->public_area())},
               {"public_pem", ak->public_pem()}};
    j["ek"] = {{"kind", std::string(tpm::EkKindName(ek->kind()))},
               {"name", HexEncode(ek->name())},
               {"public", Base64Encode(ek->public_area())},
               {"has_certificate", ek->certificate().has_value()}};
    return Fail(Emit(j.dump(2), ""));
  }
  std::string out = "AK name   " + HexEncode(ak->name()) + "\nAK        " +
                    std::string(tpm::AkAlgorithmName(ak->algorithm())) + ", blob " + tpm::AkBlobPath(g.state_dir) +
                    "\nEK        " + std::string(tpm::EkKindName(ek->kind())) +
                    (ek->certificate() ? ", certificate in NV" : ", no certificate") + "\n" + ak->public_pem();
  return Fail(Emit(out, ""));
}

struct VerifyArgs {
  std::string evidence;
  std::string nonce_hex;
  std::string reference;
  std::string ca;
  std::string ak_name_hex;
  std::string state_file;
  bool json = false;
};

int RunVerify(const VerifyArgs& a) {
  auto nonce = HexDecode(a.nonce_hex);
  if (!nonce.ok()) return Fail(nonce.status().WithContext("--nonce"));
  auto ev = LoadEvidence(a.evidence);
  if (!ev.ok()) return Fail(ev.status());
  attest::AppraisalOptions opts;
  std::optional<attest::ReferenceValues> ref;
  if (!a.reference.empty()) {
    auto r = attest::LoadReferenceValues(a.reference);
    if (!r.ok()) return Fail(AsInputError(r.status()));
    ref = std::move(*r);
    opts.reference = &*ref;
  }
  opts.ek_ca_bundle_path = a.ca;
  if (!a.ak_name_hex.empty()) {
    auto name = HexDecode(a.ak_name_hex);
    if (!name.ok()) return Fail(name.status().WithContext("--ak-name"));
    opts.expected_ak_name = std::move(*name);
  }
  // A valid signature only proves that *some* key signed: without the
  // node's enrolled AK, a software key could have made the whole document.
  if (!opts.expected_ak_name && !(ref && ref->ak_name)) {
    return Fail(InvalidArgument(
        "no attestation key is pinned: pass --ak-name (from 'edgeward attest ak' at enrollment) or a "
        "--reference made by 'edgeward attest reference', which records the AK"));
  }
  if (!a.state_file.empty()) {
    auto text = ReadFileToString(a.state_file, 1 << 16);
    if (text.ok()) {
      auto st = attest::DecodeAppraisalState(*text);
      if (!st.ok()) return Fail(st.status().WithContext(a.state_file));
      opts.previous = std::move(*st);
    } else if (text.status().code() != StatusCode::kNotFound) {
      return Fail(text.status());
    }
  }
  auto verdict = attest::Appraise(*ev, *nonce, opts);
  if (!verdict.ok()) return Fail(verdict.status());
  if (!a.state_file.empty() && verdict->state) {
    std::string st = attest::EncodeAppraisalState(*verdict->state);
    if (Status s = WriteFileAtomic(a.state_file, AsBytes(st), 0600); !s.ok()) return Fail(s);
  }
  Status out = Emit(a.json ? attest::FormatVerdictJson(*verdict) : attest::FormatVerdictText(*verdict), "");
  if (!out.ok()) return Fail(out);
  return verdict->pass ? kExitOk : kExitVerdictFail;
}

struct ReferenceArgs {
  std::string from;
  std::string out;
};

int RunReference(const ReferenceArgs& a) {
  auto ev = LoadEvidence(a.from);
  if (!ev.ok()) return Fail(ev.status());
  auto ref = attest::ReferenceFromEvidence(*ev);
  if (!ref.ok()) {
    // Evidence that doesn't appraise can't vouch for reference values: that
    // is a problem with the input, reported with every reason.
    if (ref.status().code() == StatusCode::kFailedPrecondition) {
      return Fail(InvalidArgument(ref.status().message()).WithContext(a.from));
    }
    return Fail(ref.status().WithContext(a.from));
  }
  return Fail(Emit(attest::FormatReferenceValues(*ref), a.out));
}

struct LogArgs {
  std::string file;
  std::string format;
  bool json = false;
};

int RunLog(const LogArgs& a) {
  std::optional<attest::EventLogFormat> format;
  if (!a.format.empty()) {
    format = attest::EventLogFormatFromName(a.format);
    if (!format) return Fail(InvalidArgument("--format: '" + a.format + "' is not one of uefi, ima, cel"));
  }
  auto data = ReadFileToString(a.file, attest::kMaxEventLogBytes);
  if (!data.ok()) return Fail(AsInputError(data.status()));
  auto log = attest::ParseEventLog(AsBytes(*data), format);
  if (!log.ok()) return Fail(AsInputError(log.status()).WithContext(a.file));
  tpm::PcrValues pcrs = attest::Replay(*log);
  return Fail(Emit(a.json ? attest::FormatLogJson(*log, pcrs) : attest::FormatLogText(*log, pcrs), ""));
}

}  // namespace

void AddAttestCommands(CLI::App& app, Globals& g) {
  CLI::App* attest = app.add_subcommand("attest", "Produce and appraise TPM evidence");
  attest->require_subcommand(1);

  auto q = std::make_shared<QuoteArgs>();
  CLI::App* quote = attest->add_subcommand("quote", "Quote PCRs with the AK and write evidence JSON");
  quote->add_option("--nonce", q->nonce_hex, "the verifier's challenge, hex (1-64 bytes)")->required();
  quote->add_option("--pcrs", q->pcrs,
                    "PCR selection, e.g. sha256:0-9,15 (default: the measurement PCR and every PCR the "
                    "included logs touch, in every active bank)");
  quote->add_option("--out", q->out, "output file (default stdout)");
  quote->add_option("--node-id", q->node_id, "node id in the evidence (default: host name)");
  quote->add_option("--pcr", q->pcr, "measurement PCR (default 15)");
  AddTctiOption(quote, g);
  AddStateDirOption(quote, g);
  quote->callback([&g, q] { g.exit_code = RunQuote(g, *q); });

  auto k = std::make_shared<AkArgs>();
  CLI::App* akcmd = attest->add_subcommand(
      "ak", "Show the node's attestation key (created on first use) and EK, for enrollment");
  akcmd->add_flag("--json", k->json, "machine-readable output");
  AddTctiOption(akcmd, g);
  AddStateDirOption(akcmd, g);
  akcmd->callback([&g, k] { g.exit_code = RunAk(g, *k); });

  auto v = std::make_shared<VerifyArgs>();
  CLI::App* verify = attest->add_subcommand(
      "verify", "Appraise evidence: exit 0 pass, 1 fail (every reason printed), 2 bad input");
  verify->add_option("--evidence", v->evidence, "evidence JSON from 'attest quote'")->required();
  verify->add_option("--nonce", v->nonce_hex, "the challenge that was sent, hex")->required();
  verify->add_option("--reference", v->reference, "reference values YAML (golden PCRs, allowed files)");
  verify->add_option("--ca", v->ca, "EK CA bundle (PEM): the EK certificate must chain to it");
  verify->add_option("--ak-name", v->ak_name_hex,
                     "the AK name enrolled for this node, hex (required unless the reference pins one)");
  verify->add_option("--state-file", v->state_file,
                     "previous appraisal state (TPM clock and counters); read if present, then updated");
  verify->add_flag("--json", v->json, "machine-readable verdict");
  verify->callback([&g, v] { g.exit_code = RunVerify(*v); });

  auto r = std::make_shared<ReferenceArgs>();
  CLI::App* reference = attest->add_subcommand(
      "reference", "Reference values (golden PCRs, allowed file digests) from a known-good node's evidence");
  reference->add_option("--from", r->from, "evidence JSON")->required();
  reference->add_option("--out", r->out, "output YAML (default stdout)");
  reference->callback([&g, r] { g.exit_code = RunReference(*r); });

  auto l = std::make_shared<LogArgs>();
  CLI::App* log = attest->add_subcommand(
      "log", "Print an event log's events and the PCR values its replay yields (as tpm2_eventlog)");
  log->add_option("file", l->file, "the log (UEFI binary, IMA ascii, or edgeward CEL)")->required();
  log->add_option("--format", l->format, "uefi | ima | cel (default: detected)");
  log->add_flag("--json", l->json, "machine-readable output");
  log->callback([&g, l] { g.exit_code = RunLog(*l); });
}

}  // namespace edgeward::cli
