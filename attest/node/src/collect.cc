#include "edgeward/attest_node/collect.h"

#include <time.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "edgeward/attest/eventlog.h"
#include "edgeward/attest_node/measure.h"
#include "edgeward/base/file.h"
#include "edgeward/crypto/x509.h"
#include "edgeward/tpm/ak.h"
#include "edgeward/tpm/ek.h"
#include "edgeward/tpm/pcr.h"
#include "edgeward/tpm/quote.h"

namespace edgeward::attest_node {
namespace {

using crypto::HashAlg;

std::string NowRfc3339() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm {};
  ::gmtime_r(&ts.tv_sec, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

// Reads a log if it exists; a missing log is simply not part of the evidence.
StatusOr<std::optional<std::string>> ReadOptionalLog(const std::string& path) {
  auto text = ReadFileToString(path, attest::kMaxEventLogBytes);
  if (text.ok()) return std::optional<std::string>(std::move(*text));
  if (text.status().code() == StatusCode::kNotFound) return std::optional<std::string>();
  return text.status();
}

}  // namespace

StatusOr<attest::Evidence> CollectEvidence(tpm::Tpm& tpm, const CollectOptions& o) {
  if (o.nonce.empty() || o.nonce.size() > tpm::kMaxQuoteNonceBytes) {
    return InvalidArgument("nonce must be 1 to " + std::to_string(tpm::kMaxQuoteNonceBytes) + " bytes, got " +
                           std::to_string(o.nonce.size()));
  }
  attest::Evidence ev;
  ev.node_id = o.node_id.empty() ? HostName() : o.node_id;
  ev.nonce = o.nonce;

  // The logs are read twice. Before the quote, to learn which PCRs they
  // touch (those must be quoted). After the quote, for the evidence: a log
  // that only grows (IMA) then holds every event the quote covers, and the
  // verifier replays the prefix that matches. Our own log is held still by
  // the measurement lock from before the quote until it has been read.
  const std::pair<attest::EventLogFormat, std::string> sources[] = {
      {attest::EventLogFormat::kUefi, o.uefi_log_path},
      {attest::EventLogFormat::kIma, o.ima_log_path},
      {attest::EventLogFormat::kCel, MeasurementLogPath(o.state_dir)},
  };
  auto read_logs = [&]() -> StatusOr<std::vector<std::pair<attest::EvidenceEventLog, attest::ParsedLog>>> {
    std::vector<std::pair<attest::EvidenceEventLog, attest::ParsedLog>> logs;
    for (const auto& [format, path] : sources) {
      EW_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadOptionalLog(path));
      if (!text) continue;
      auto parsed = attest::ParseEventLog(AsBytes(*text), format);
      if (!parsed.ok()) return parsed.status().WithContext(path);
      attest::EvidenceEventLog l;
      l.format = format;
      l.data = std::move(*text);
      if (format == attest::EventLogFormat::kIma) l.template_hash_alg = HashAlg::kSha1;
      logs.emplace_back(std::move(l), std::move(*parsed));
    }
    return logs;
  };

  EW_ASSIGN_OR_RETURN(MeasurementLock lock, MeasurementLock::Acquire(o.state_dir));
  EW_ASSIGN_OR_RETURN(auto logs, read_logs());
  EW_ASSIGN_OR_RETURN(std::vector<HashAlg> banks, tpm::ActivePcrBanks(tpm));
  tpm::PcrSelection sel;
  if (o.selection) {
    sel = *o.selection;
  } else {
    for (HashAlg b : banks) sel[b].insert(o.measurement_pcr);
  }
  for (const auto& [meta, parsed] : logs) {
    for (const auto& e : parsed.events) {
      if (e.not_extended) continue;
      for (const auto& [alg, d] : e.digests) {
        // An explicit selection keeps its banks; the default takes every active one.
        bool wanted = o.selection ? sel.count(alg) > 0 : std::find(banks.begin(), banks.end(), alg) != banks.end();
        if (wanted) sel[alg].insert(e.pcr);
      }
    }
  }

  EW_ASSIGN_OR_RETURN(tpm::Ek ek, tpm::Ek::Open(tpm));
  EW_ASSIGN_OR_RETURN(tpm::Ak ak, tpm::LoadOrCreateAk(ek, o.state_dir));
  EW_ASSIGN_OR_RETURN(tpm::Quote quote, tpm::CreateQuote(ek, ak, o.nonce, sel));
  EW_ASSIGN_OR_RETURN(logs, read_logs());
  lock = MeasurementLock();  // measurements may go on

  ev.collected_at = NowRfc3339();
  ev.quote_attest = std::move(quote.attest);
  ev.quote_signature = std::move(quote.signature);
  ev.pcrs = std::move(quote.pcrs);
  ev.ak_public = ak.public_area();
  ev.ak_public_pem = ak.public_pem();
  ev.ak_name = ak.name();
  ev.ek_public = ek.public_area();
  if (ek.certificate()) {
    EW_ASSIGN_OR_RETURN(crypto::Certificate cert, crypto::Certificate::FromDer(ek.certificate()->der));
    EW_ASSIGN_OR_RETURN(ev.ek_certificate_pem, cert.ToPem());
    ev.has_ek = true;
  }
  for (auto& [meta, parsed] : logs) {
    if (meta.format == attest::EventLogFormat::kIma && o.ima_start_entry > 0 &&
        o.ima_start_entry <= parsed.events.size()) {
      // Only the entries after those the verifier has appraised. The cut
      // is at a line boundary: the parser accepted the whole text, so each
      // entry is one '\n'-terminated line (a last line may lack it).
      size_t pos = 0;
      for (uint64_t n = 0; n < o.ima_start_entry && pos != std::string::npos; ++n) {
        pos = meta.data.find('\n', pos);
        if (pos != std::string::npos) ++pos;
      }
      meta.data.erase(0, pos == std::string::npos ? meta.data.size() : pos);
      meta.start_entry = o.ima_start_entry;
    }
    ev.event_logs.push_back(std::move(meta));
  }
  EW_RETURN_IF_ERROR(attest::DecodeEvidenceWire(ev));
  return ev;
}

}  // namespace edgeward::attest_node
