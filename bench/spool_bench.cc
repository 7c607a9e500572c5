// Spool write throughput with fsync batching (every 64 records / 200 ms, the
// default) vs fsync on every record, in the same run on the same disk; and
// the bytes on the wire per sealed event (cloud/events.h envelope, JSON
// batch encoding) for one event alone and in a batch of 500.
// Prints one JSON object; bench/run turns it into ratios.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "edgeward/channel/cloud_client.h"
#include "edgeward/channel/spool.h"
#include "edgeward/cloud/events.h"

using namespace edgeward;

namespace {

std::string MakeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string t = std::string(base ? base : "/tmp") + "/edgeward-spool-bench-XXXXXX";
  if (::mkdtemp(t.data()) == nullptr) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  return t;
}

// A typical rules-engine event: ~220 bytes of JSON.
std::string EventPayload(int i) {
  return R"x({"time":1764000000123456789,"rule":"shell_in_container","priority":"warning","output":"shell spawned )x"
         R"x((user=root cmd=/bin/sh -c id container=web-)x" +
         std::to_string(i % 100) + R"x()","fields":{"proc.pid":)x" + std::to_string(10000 + i) + "}}";
}

double WriteRate(const std::string& dir, uint32_t fsync_every, int n) {
  channel::SpoolOptions o;
  o.dir = dir;
  o.fsync_every_records = fsync_every;
  o.max_bytes = 1ull << 30;
  auto key = crypto::GuardedBytes::CopyOf(Bytes(32, 1));
  auto spool = channel::Spool::Open(o, std::move(*key));
  if (!spool.ok()) {
    std::fprintf(stderr, "%s\n", spool.status().ToString().c_str());
    std::exit(1);
  }
  std::string p = EventPayload(0);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    if (!(*spool)->Append(channel::Priority::kEvent, AsBytes(p)).ok()) std::exit(1);
  }
  if (!(*spool)->Flush().ok()) std::exit(1);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return n / s;
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  std::string root = MakeTempDir();
  double batched = WriteRate(root + "/batched", 64, n);
  double per_record = WriteRate(root + "/per-record", 1, std::max(500, n / 20));
  std::system(("rm -rf '" + root + "'").c_str());

  auto vk = cloud::X25519KeyPair::Generate();
  auto sk = crypto::Ed25519SigningKey::Generate();
  if (!vk.ok() || !sk.ok()) return 1;
  auto seal = [&](int count) {
    cloud::EventBatch batch;
    size_t payload = 0;
    for (int i = 0; i < count; ++i) {
      cloud::EventMessage m;
      m.id = std::string(32, 'a' + (i % 6));
      m.seq = 1000000 + i;
      m.priority = 1;
      std::string p = EventPayload(i);
      payload += p.size();
      if (!cloud::SealEvent(*sk, vk->public_key(), "edge-node-0001", m, AsBytes(p)).ok()) std::exit(1);
      batch.messages.push_back(std::move(m));
    }
    return std::pair<size_t, size_t>(cloud::EncodeEventBatch(batch).size(), payload);
  };
  auto [one, one_payload] = seal(1);
  auto [many, many_payload] = seal(500);
  std::printf(
      "{\"events\": %d, \"batched_events_per_s\": %.0f, \"fsync_per_record_events_per_s\": %.0f, "
      "\"ratio\": %.1f, \"payload_bytes\": %zu, \"wire_bytes_single\": %zu, \"wire_bytes_per_event_batch500\": %.1f, "
      "\"payload_bytes_per_event_batch500\": %.1f}\n",
      n, batched, per_record, batched / per_record, one_payload, one, static_cast<double>(many) / 500,
      static_cast<double>(many_payload) / 500);
  return 0;
}
