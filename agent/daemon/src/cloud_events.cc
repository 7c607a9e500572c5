// The cloud worker's event lines, in the rules engine's schema
// (rules/src/event.cc, docs/events.md). Built with nlohmann::json so every
// string is escaped correctly, whatever a verifier reason or a path holds.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>

#include "cloud_agent_internal.h"

namespace edgeward::daemon::cloud_events {
namespace {

nlohmann::json Base(std::string_view type, const std::string& node_id) {
  nlohmann::json j;
  j["type"] = type;
  j["time"] = Now();
  if (!node_id.empty()) j["node"] = {{"id", node_id}};
  return j;
}

// Paths (measurement.changed) and verifier messages may hold bytes that
// are not UTF-8: replaced (U+FFFD) rather than letting dump() throw on the
// worker thread.
std::string Dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

std::string Rfc3339(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) == nullptr) return "1970-01-01T00:00:00Z";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The TSS response code our TPM layer puts in its messages as "(0x%08x)".
std::optional<int64_t> TpmRc(const std::string& message) {
  size_t at = message.rfind("(0x");
  if (at == std::string::npos || at + 13 > message.size() || message[at + 12] != ')') return std::nullopt;
  unsigned long v = 0;
  if (std::sscanf(message.c_str() + at + 1, "0x%8lx", &v) != 1) return std::nullopt;
  return static_cast<int64_t>(v);
}

}  // namespace

std::string Now() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (::gmtime_r(&secs, &tm) == nullptr) return "1970-01-01T00:00:00.000Z";
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

std::string AttestationVerdict(const std::string& node_id, bool pass, const std::vector<std::string>& reasons) {
  nlohmann::json j = Base("attestation.verdict", node_id);
  j["verdict"] = {{"pass", pass}, {"verifier", "cloud"}, {"reasons", reasons}};
  return Dump(j);
}

std::string MeasurementChanged(const std::string& node_id, const std::string& path, uint32_t pcr,
                               const std::string& old_sha256, const std::string& new_sha256) {
  nlohmann::json j = Base("measurement.changed", node_id);
  j["measurement"] = {{"path", path}, {"pcr", pcr}, {"old_sha256", old_sha256}, {"new_sha256", new_sha256}};
  return Dump(j);
}

std::string BundleAccepted(const std::string& node_id, const std::string& id, uint64_t version,
                           const std::string& signer) {
  nlohmann::json j = Base("bundle.accepted", node_id);
  j["bundle"] = {{"id", id}, {"version", version}};
  if (!signer.empty()) j["bundle"]["signer"] = signer;
  return Dump(j);
}

std::string BundleRejected(const std::string& node_id, const std::string& id, std::optional<uint64_t> version,
                           const std::string& reason, const std::string& message) {
  nlohmann::json j = Base("bundle.rejected", node_id);
  j["bundle"] = {{"id", id}, {"reason", reason}};
  if (version) j["bundle"]["version"] = *version;
  // Not in the rules schema (extra keys are ignored there): the specific
  // explanation for the operator and the cloud.
  if (!message.empty()) j["bundle"]["message"] = message;
  return Dump(j);
}

std::string TpmFault(const std::string& node_id, const std::string& operation, const Status& s) {
  nlohmann::json j = Base("tpm.fault", node_id);
  j["tpm"] = {{"operation", operation}, {"message", s.message()}};
  if (auto rc = TpmRc(s.message())) j["tpm"]["rc"] = *rc;
  return Dump(j);
}

std::string SpoolOverflow(const std::string& node_id, const std::string& name, uint64_t dropped, uint64_t bytes) {
  nlohmann::json j = Base("spool.overflow", node_id);
  j["spool"] = {{"name", name}, {"dropped", dropped}, {"bytes", bytes}};
  return Dump(j);
}

std::string NodeReregistered(const std::string& node_id, const std::string& reason) {
  nlohmann::json j = Base("node.reregistered", node_id);
  j["registration"] = {{"reason", reason}};
  return Dump(j);
}

std::string CertRenewalFailed(const std::string& node_id, const std::string& reason, int64_t not_after,
                              int64_t wall_now) {
  nlohmann::json j = Base("cert.renewal_failed", node_id);
  j["cert"] = {{"name", "client"}, {"reason", reason}};
  if (not_after > 0) {
    j["cert"]["not_after"] = Rfc3339(not_after);
    j["cert"]["days_left"] = (not_after - wall_now) / 86400;
  }
  return Dump(j);
}

}  // namespace edgeward::daemon::cloud_events
