// Bundle verify + apply with 1,000 policies, and the Ed25519 check alone
// against `openssl speed -seconds 1 ed25519` run in the same process run.
// Prints one JSON object; bench/run turns it into ratios.
//   bundle_bench SOURCE_DIR
#include <cstdio>
#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "edgeward/base/file.h"
#include "edgeward/bundle/bundle.h"
#include "edgeward/bundle/store.h"
#include "edgeward/bundle/verify.h"
#include "edgeward/crypto/ed25519.h"
#include "edgeward/policy/parse.h"

namespace {

using namespace edgeward;
using Clock = std::chrono::steady_clock;
constexpr int64_t kNow = 1795392000;

[[noreturn]] void Die(const Status& s) {
  std::cerr << "bundle_bench: " << s.ToString() << "\n";
  std::exit(1);
}
template <typename T>
T Must(StatusOr<T> v) {
  if (!v.ok()) Die(v.status());
  return std::move(*v);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Status Validate(bundle::FileKind kind, std::string_view path, std::string_view bytes) {
  if (kind != bundle::FileKind::kPolicy) return Status::Ok();
  return policy::ParsePolicy(bytes, std::string(path)).status();
}

// verify/s of `openssl speed -seconds 1 ed25519` (its last "253 bits EdDSA (Ed25519)" line).
double OpensslSpeed() {
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen("openssl speed -seconds 1 ed25519 2>/dev/null", "r"), &::pclose);
  if (!p) return 0;
  char line[512];
  double verify = 0;
  while (std::fgets(line, sizeof line, p.get()) != nullptr) {
    std::string l = line;
    if (l.find("EdDSA (Ed25519)") == std::string::npos) continue;
    // "253 bits EdDSA (Ed25519)   0.0000s   0.0001s  43960.4  14905.1"
    std::vector<double> nums;
    size_t at = l.find(')');
    std::string rest = l.substr(at + 1);
    char* cur = rest.data();
    while (*cur) {
      char* end = nullptr;
      double d = std::strtod(cur, &end);
      if (end == cur) {
        ++cur;
        continue;
      }
      nums.push_back(d);
      cur = end;
    }
    if (nums.size() >= 4) verify = nums[3];
  }
  return verify;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: bundle_bench SOURCE_DIR\n";
    return 2;
  }
  std::string example =
      Must(ReadFileToString(std::string(argv[1]) + "/examples/policies/loopback-server.yaml", 1 << 20));
  const std::string name_line = "metadata: {name: local-api}";
  size_t name_at = example.find(name_line);
  if (name_at == std::string::npos) Die(Internal("example policy changed: no '" + name_line + "'"));
  std::map<std::string, std::string> files;
  for (int i = 0; i < 1000; ++i) {
    std::string p = example;
    p.replace(name_at, name_line.size(), "metadata: {name: svc-" + std::to_string(i) + "}");
    files["policies/svc-" + std::to_string(i) + ".yaml"] = p;
  }
  auto key = Must(crypto::Ed25519SigningKey::Generate());
  bundle::RootContent rc;
  rc.version = 1;
  rc.expires = kNow + 365 * 86400;
  rc.root_threshold = 1;
  rc.root_keys = {key.KeyId()};
  rc.policy_threshold = 1;
  rc.policy_keys = {bundle::PolicyKey{key.KeyId(), rc.expires}};
  rc.keys.emplace(key.KeyId(), key.public_key());
  bundle::RootDocument root = Must(bundle::MakeRootDocument(rc));

  constexpr int kRuns = 30;
  bundle::Targets all;
  all.all = true;
  std::vector<Bytes> bundles;
  for (int v = 1; v <= 2 * kRuns; ++v) {
    auto b = Must(bundle::MakeBundle(v, kNow - 60, kNow + 86400, all, files));
    if (Status s = bundle::SignBundle(b, key); !s.ok()) Die(s);
    bundles.push_back(bundle::EncodeBundle(b));
  }

  char tmpl[] = "/tmp/edgeward-bundle-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) Die(Internal("mkdtemp failed"));
  std::string state = tmpl;

  std::vector<double> verify_plain, verify_validated, apply_plain, apply_validated;
  {
    auto store = Must(bundle::BundleStore::Open(state));
    auto guard = Must(bundle::RollbackGuard::Open(state, nullptr));
    for (int i = 0; i < 2 * kRuns; ++i) {
      const bool validate = i % 2 == 1;
      bundle::VerifyOptions o;
      o.node = bundle::NodeIdentity{"edge-1", {}};
      if (validate) o.validate = Validate;
      o.trusted_now = kNow;
      o.highest_accepted = guard.EffectiveHighest();
      auto t0 = Clock::now();
      bundle::Verdict v = bundle::VerifyBundle(bundles[i], root, o);
      auto t1 = Clock::now();
      if (!v.accepted()) Die(Internal("verify: " + v.message));
      auto applied = Must(store.Apply(bundles[i], root, guard, o, kNow));
      auto t2 = Clock::now();
      if (!applied.accepted()) Die(Internal("apply: " + applied.message));
      double verify_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
      double apply_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
      (validate ? verify_validated : verify_plain).push_back(verify_ms);
      (validate ? apply_validated : apply_plain).push_back(apply_ms);
    }
  }
  // The storage floor: one WriteFileAtomic of a small file (two fsyncs) in
  // the same directory; an apply makes two of these plus a directory fsync.
  std::vector<double> atomic_write;
  for (int i = 0; i < kRuns; ++i) {
    Bytes small(100, 1);
    auto t0 = Clock::now();
    if (Status s = WriteFileAtomic(state + "/probe", small, 0600); !s.ok()) Die(s);
    atomic_write.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  if (std::system(("rm -rf '" + state + "'").c_str()) != 0) Die(Internal("rm -rf " + state + " failed"));

  // The signature check alone: Ed25519 over a 64-byte message, as openssl speed does.
  Bytes msg(64, 0x5a);
  crypto::Ed25519Signature sig = key.Sign(msg);
  constexpr int kSigs = 20000;
  auto s0 = Clock::now();
  int good = 0;
  for (int i = 0; i < kSigs; ++i) good += crypto::Ed25519Verify(key.public_key(), msg, sig);
  double sig_s = std::chrono::duration<double>(Clock::now() - s0).count();
  if (good != kSigs) Die(Internal("Ed25519Verify failed"));
  double openssl = OpensslSpeed();

  nlohmann::json out{{"policies", 1000},
                     {"bundle_bytes", bundles[0].size()},
                     {"verify_ms", Median(verify_plain)},
                     {"verify_validated_ms", Median(verify_validated)},
                     {"apply_ms", Median(apply_plain)},
                     {"apply_validated_ms", Median(apply_validated)},
                     {"write_file_atomic_ms", Median(atomic_write)},
                     {"ed25519_verify_per_s", kSigs / sig_s},
                     {"openssl_speed_ed25519_verify_per_s", openssl}};
  std::cout << out.dump() << "\n";
  return 0;
}
