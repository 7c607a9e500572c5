#include "edgeward/attest_node/measure.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include <spdlog/spdlog.h>

#include "edgeward/attest/cel.h"
#include "edgeward/attest/eventlog.h"
#include "edgeward/base/errno_status.h"
#include "edgeward/base/fd.h"
#include "edgeward/base/file.h"
#include "edgeward/tpm/pcr.h"

namespace edgeward::attest_node {
namespace {

using crypto::HashAlg;

std::string CachePath(const std::string& state_dir) { return state_dir + "/measure-cache"; }

// Replays records [0, count) of `log` into `banks` for `pcr`.
std::map<HashAlg, Bytes> ReplayPrefix(const attest::ParsedLog& log, size_t count, uint32_t pcr,
                                      const std::vector<HashAlg>& banks) {
  std::map<HashAlg, Bytes> out;
  for (HashAlg b : banks) out[b] = Bytes(crypto::DigestSize(b), 0);
  for (size_t i = 0; i < count; ++i) {
    const attest::LogEvent& e = log.events[i];
    if (e.pcr != pcr || e.not_extended) continue;
    for (HashAlg b : banks) {
      auto it = e.digests.find(b);
      if (it != e.digests.end()) crypto::ExtendInPlace(b, out[b], it->second);
    }
  }
  return out;
}

bool AllZero(const std::map<HashAlg, Bytes>& values) {
  return std::all_of(values.begin(), values.end(), [](const auto& kv) {
    return std::all_of(kv.second.begin(), kv.second.end(), [](uint8_t c) { return c == 0; });
  });
}

std::string Describe(const std::map<HashAlg, Bytes>& values) {
  std::string s;
  for (const auto& [alg, v] : values) {
    if (!s.empty()) s += ", ";
    s += std::string(crypto::HashAlgName(alg)) + ":" + HexEncode(v);
  }
  return s;
}

}  // namespace

std::string MeasurementLogPath(const std::string& state_dir) { return state_dir + "/measurements.cel"; }

StatusOr<MeasurementLock> MeasurementLock::Acquire(const std::string& state_dir) {
  EW_RETURN_IF_ERROR(MakeDirs(state_dir, 0700, /*enforce_mode=*/true));
  const std::string path = state_dir + "/measure.lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return EW_ERRNO("open", path);
  int rc;
  do {
    rc = ::flock(fd.get(), LOCK_EX);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return EW_ERRNO("flock", path);
  return MeasurementLock(std::move(fd));
}

StatusOr<MeasureReport> Measure(tpm::Tpm& tpm, const std::vector<std::string>& paths,
                                const MeasureOptions& options) {
  if (options.pcr >= tpm::kNumPcrs || options.pcr == 16 || options.pcr == 23) {
    return InvalidArgument("measurement PCR " + std::to_string(options.pcr) +
                           " is not allowed: it must exist and must not be resettable by software (16, 23)");
  }
  if (paths.empty()) return InvalidArgument("measure: no paths given");
  EW_ASSIGN_OR_RETURN(MeasurementLock lock, MeasurementLock::Acquire(options.state_dir));

  MeasureReport report;
  const std::string log_path = MeasurementLogPath(options.state_dir);
  EW_ASSIGN_OR_RETURN(std::vector<HashAlg> banks, tpm::ActivePcrBanks(tpm));
  if (banks.empty()) return FailedPrecondition("the TPM has no active PCR bank");

  // 1. Reconcile the log with the TPM.
  attest::ParsedLog log;
  auto text = ReadFileToString(log_path, attest::kMaxEventLogBytes);
  if (text.ok()) {
    auto parsed = attest::ParseCelLog(*text);
    if (!parsed.ok()) return parsed.status().WithContext(log_path);
    log = std::move(*parsed);
  } else if (text.status().code() != StatusCode::kNotFound) {
    return text.status();
  }
  tpm::PcrSelection sel;
  for (HashAlg b : banks) sel[b].insert(options.pcr);
  EW_ASSIGN_OR_RETURN(tpm::PcrValues now, tpm::ReadPcrs(tpm, sel));
  std::map<HashAlg, Bytes> actual;
  for (HashAlg b : banks) actual[b] = now[b][options.pcr];

  const size_t n = log.events.size();
  std::map<HashAlg, Bytes> replayed = ReplayPrefix(log, n, options.pcr, banks);
  if (replayed != actual) {
    if (n > 0 && ReplayPrefix(log, n - 1, options.pcr, banks) == actual &&
        log.events.back().pcr == options.pcr) {
      // Died between the durable write and the extend: finish the extend.
      EW_RETURN_IF_ERROR(tpm::ExtendPcr(tpm, options.pcr, log.events.back().digests));
      report.notes.push_back("completed the extend of record " + std::to_string(n - 1) +
                             " that an interrupted run had logged");
    } else if (n > 0 && AllZero(actual)) {
      const std::string prev = log_path + ".prev";
      if (::rename(log_path.c_str(), prev.c_str()) != 0) return EW_ERRNO("rename", log_path);
      EW_RETURN_IF_ERROR(FsyncDir(options.state_dir));
      report.notes.push_back("PCR " + std::to_string(options.pcr) +
                             " was reset (new boot): previous log kept as " + prev);
      log = attest::ParsedLog{};
    } else {
      return FailedPrecondition(
          "measurement log " + log_path + " does not replay to PCR " + std::to_string(options.pcr) +
          ": something other than edgeward extended it (log replays to " + Describe(replayed) +
          ", TPM has " + Describe(actual) +
          "). Evidence from this boot will fail appraisal; choose a PCR nothing else uses");
    }
  }

  // 2. Latest digest per path in this boot's log.
  std::map<std::string, Bytes> latest;
  for (const auto& e : log.events) {
    if (!e.path.empty() && e.file_digest_alg == HashAlg::kSha256) latest[e.path] = e.file_digest;
  }
  EW_ASSIGN_OR_RETURN(uint64_t recnum, attest::NextCelRecnum(log_path));

  // 3. Hash, log durably, then extend — one file at a time.
  ScanCache cache = ScanCache::Load(CachePath(options.state_dir));
  EW_ASSIGN_OR_RETURN(std::vector<FileDigest> files, HashPaths(paths, &cache));
  for (FileDigest& f : files) {
    auto it = latest.find(f.path);
    if (it != latest.end() && it->second == f.sha256) {
      report.unchanged.push_back(std::move(f));
      continue;
    }
    attest::CelFileMeasurement m;
    m.path = f.path;
    m.file_hash_alg = HashAlg::kSha256;
    m.file_digest = f.sha256;
    m.size = f.identity.size;
    m.mtime = f.identity.mtime_ns / 1000000000;
    EW_ASSIGN_OR_RETURN(attest::CelRecord rec, attest::BuildCelFileRecord(recnum, options.pcr, m, banks));
    EW_RETURN_IF_ERROR(attest::AppendCelRecord(log_path, rec.line));
    EW_RETURN_IF_ERROR(tpm::ExtendPcr(tpm, options.pcr, rec.digests));
    ++recnum;
    latest[f.path] = f.sha256;
    report.extended.push_back(std::move(f));
  }
  if (Status s = cache.Save(CachePath(options.state_dir)); !s.ok()) {
    // The cache only saves work; measurements are already durable.
    spdlog::warn("could not save the scan cache: {}", s.ToString());
  }
  return report;
}

}  // namespace edgeward::attest_node
