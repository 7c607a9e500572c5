#include <algorithm>

#include "edgeward/attest/eventlog.h"
#include "eventlog_internal.h"

namespace edgeward::attest {
namespace {

bool AllZero(const Bytes& b) {
  return std::all_of(b.begin(), b.end(), [](uint8_t c) { return c == 0; });
}

}  // namespace

tpm::PcrValues Replay(const ParsedLog& log) {
  tpm::PcrValues out;
  // One hasher per bank, reused across events (replay of large IMA logs is
  // a hot path).
  std::map<HashAlg, internal::FastHasher> hashers;
  auto initial = [&](HashAlg bank, uint32_t pcr) {
    Bytes v(crypto::DigestSize(bank), 0);
    if (pcr == 0 && log.startup_locality) v.back() = *log.startup_locality;
    return v;
  };
  Bytes ff;
  for (const LogEvent& e : log.events) {
    if (e.not_extended || e.pcr >= tpm::kNumPcrs) continue;
    for (const auto& [bank, digest] : e.digests) {
      const size_t size = crypto::DigestSize(bank);
      if (digest.size() != size) continue;  // parsers reject this; never extend a wrong-size value
      auto& bank_pcrs = out[bank];
      auto it = bank_pcrs.find(e.pcr);
      if (it == bank_pcrs.end()) it = bank_pcrs.emplace(e.pcr, initial(bank, e.pcr)).first;
      auto h = hashers.find(bank);
      if (h == hashers.end()) h = hashers.emplace(bank, internal::FastHasher(bank)).first;
      if (log.format == EventLogFormat::kIma && AllZero(digest)) {
        ff.assign(size, 0xff);
        h->second.Extend(it->second, ff);
      } else {
        h->second.Extend(it->second, digest);
      }
    }
  }
  if (log.format == EventLogFormat::kUefi && log.startup_locality) {
    for (auto& [bank, pcrs] : out) {
      if (!pcrs.count(0)) pcrs.emplace(0, initial(bank, 0));
    }
  }
  return out;
}

}  // namespace edgeward::attest
