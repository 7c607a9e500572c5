#include <algorithm>
#include <array>

#include "edgeward/attest/eventlog.h"
#include "eventlog_internal.h"

namespace edgeward::attest {
namespace {

constexpr HashAlg kAllBanks[] = {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512,
                                 HashAlg::kSm3_256};
constexpr size_t kNumBanks = std::size(kAllBanks);

size_t BankSlot(HashAlg alg) {
  for (size_t i = 0; i < kNumBanks; ++i) {
    if (kAllBanks[i] == alg) return i;
  }
  return kNumBanks;
}

bool AllZero(const Bytes& b) {
  return std::all_of(b.begin(), b.end(), [](uint8_t c) { return c == 0; });
}

}  // namespace

tpm::PcrValues Replay(const ParsedLog& log) {
  tpm::PcrValues out;
  // Replay of large IMA logs is a hot path: hashers are reused per bank and
  // each (bank, PCR) value is found through a flat table, not a map lookup.
  std::array<std::optional<crypto::Hasher>, kNumBanks> hashers;
  std::array<std::array<Bytes*, tpm::kNumPcrs>, kNumBanks> slots{};
  Bytes ff;
  for (const LogEvent& e : log.events) {
    if (e.not_extended || e.pcr >= tpm::kNumPcrs) continue;
    for (const auto& [bank, digest] : e.digests) {
      const size_t b = BankSlot(bank);
      if (b == kNumBanks) continue;
      const size_t size = crypto::DigestSize(bank);
      if (digest.size() != size) continue;  // parsers reject this; never extend a wrong-size value
      Bytes*& pcr = slots[b][e.pcr];
      if (pcr == nullptr) {
        Bytes initial(size, 0);
        if (e.pcr == 0 && log.startup_locality) initial.back() = *log.startup_locality;
        pcr = &out[bank].emplace(e.pcr, std::move(initial)).first->second;  // map nodes are stable
      }
      if (!hashers[b]) hashers[b].emplace(bank);
      if (log.format == EventLogFormat::kIma && AllZero(digest)) {
        ff.assign(size, 0xff);
        hashers[b]->Extend(*pcr, ff);
      } else {
        hashers[b]->Extend(*pcr, digest);
      }
    }
  }
  // A StartupLocality event sets PCR 0 even when nothing extends it.
  if (log.format == EventLogFormat::kUefi && log.startup_locality) {
    for (auto& [bank, pcrs] : out) {
      if (!pcrs.count(0)) {
        Bytes initial(crypto::DigestSize(bank), 0);
        initial.back() = *log.startup_locality;
        pcrs.emplace(0, std::move(initial));
      }
    }
  }
  return out;
}

}  // namespace edgeward::attest
