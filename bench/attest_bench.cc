// Side-by-side benchmarks of the attestation core (Google Benchmark).
// Each edgeward figure has its peer in the same run; bench/run prints the
// ratios. Nothing here is asserted: these machines are shared and noisy.
//
//   Quote/edgeward_loaded_ak   TPM2_Quote in process, AK loaded once
//   Quote/edgeward_load_each   load AK + quote + flush, per quote
//   Quote/tpm2_quote_process   one `tpm2_quote` process per quote (AK made
//                              persistent so the tool need not load it)
//   Appraise/edgeward          full appraisal of a 10-PCR quote, no logs
//   Appraise/openssl_p256_verify  one ECDSA P-256 verify (EVP), the limit
//   ImaReplay/100k             parse + replay a 100,000-entry ima-ng log
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <memory>

#include "edgeward/attest/appraisal.h"
#include "edgeward/attest/eventlog.h"
#include "edgeward/attest/evidence.h"
#include "edgeward/crypto/openssl_ptr.h"
#include "edgeward/tpm/ak.h"
#include "edgeward/tpm/ek.h"
#include "edgeward/tpm/quote.h"
#include "swtpm.h"

extern char** environ;

namespace edgeward {
namespace {

using crypto::HashAlg;

void Die(const std::string& what) {
  std::fprintf(stderr, "bench setup failed: %s\n", what.c_str());
  std::exit(1);
}

// One swtpm, one EK and AK, shared by the quote benchmarks.
struct TpmFixture {
  std::unique_ptr<testing::Swtpm> swtpm;
  std::unique_ptr<testing::TempDir> dir;
  std::unique_ptr<tpm::Tpm> tpm;
  std::unique_ptr<tpm::Ek> ek;
  std::unique_ptr<tpm::Ak> ak;
  tpm::PcrSelection sel;

  static TpmFixture& Get() {
    static TpmFixture* f = [] {
      auto* x = new TpmFixture();
      auto s = testing::Swtpm::Start();
      if (!s.ok()) Die(s.status().ToString());
      x->swtpm = std::move(*s);
      x->dir = std::make_unique<testing::TempDir>();
      auto t = tpm::Tpm::Open(x->swtpm->tcti());
      if (!t.ok()) Die(t.status().ToString());
      x->tpm = std::make_unique<tpm::Tpm>(std::move(*t));
      auto ek = tpm::Ek::Open(*x->tpm);
      if (!ek.ok()) Die(ek.status().ToString());
      x->ek = std::make_unique<tpm::Ek>(std::move(*ek));
      auto ak = tpm::LoadOrCreateAk(*x->ek, x->dir->File("state"));
      if (!ak.ok()) Die(ak.status().ToString());
      x->ak = std::make_unique<tpm::Ak>(std::move(*ak));
      x->sel = *tpm::ParsePcrSelection("sha256:0-9");
      return x;
    }();
    return *f;
  }
};

const Bytes kNonce(20, 0x5a);

void BM_Quote_EdgewardLoadedAk(benchmark::State& state) {
  auto& f = TpmFixture::Get();
  auto loaded = tpm::LoadedAk::Load(*f.ek, *f.ak);
  if (!loaded.ok()) Die(loaded.status().ToString());
  for (auto _ : state) {
    auto q = tpm::CreateQuote(*loaded, kNonce, f.sel);
    if (!q.ok()) Die(q.status().ToString());
    benchmark::DoNotOptimize(q->attest.data());
  }
}
BENCHMARK(BM_Quote_EdgewardLoadedAk)->Name("Quote/edgeward_loaded_ak")->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_Quote_EdgewardLoadEach(benchmark::State& state) {
  auto& f = TpmFixture::Get();
  for (auto _ : state) {
    auto q = tpm::CreateQuote(*f.ek, *f.ak, kNonce, f.sel);
    if (!q.ok()) Die(q.status().ToString());
    benchmark::DoNotOptimize(q->attest.data());
  }
}
BENCHMARK(BM_Quote_EdgewardLoadEach)->Name("Quote/edgeward_load_each")->Unit(benchmark::kMillisecond)->MinTime(2.0);

int Spawn(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int st = 0;
  if (waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void BM_Quote_Tpm2Tools(benchmark::State& state) {
  auto& f = TpmFixture::Get();
  const std::string tcti = f.swtpm->tcti();
  const std::string d = f.dir->path();
  // The peer's own AK, made persistent so each tpm2_quote is just the
  // command a user would run: load nothing, quote, print.
  auto sh = [&](const std::string& cmd) {
    auto r = testing::RunCommand(cmd);
    if (r.exit_code != 0) Die(cmd + ": " + r.output);
  };
  sh("tpm2_createek -T " + tcti + " -c " + d + "/ek.ctx -G rsa -u " + d + "/ek.pub");
  sh("tpm2_createak -T " + tcti + " -C " + d + "/ek.ctx -c " + d + "/ak.ctx -G ecc -g sha256 -s ecdsa");
  sh("tpm2_flushcontext -T " + tcti + " -t");
  sh("tpm2_evictcontrol -T " + tcti + " -C o -c " + d + "/ak.ctx 0x81000123");
  sh("tpm2_flushcontext -T " + tcti + " -t");
  sh("tpm2_flushcontext -T " + tcti + " -s");
  const std::vector<std::string> argv = {"tpm2_quote", "-T", tcti, "-c", "0x81000123", "-l", "sha256:0,1,2,3,4,5,6,7,8,9",
                                         "-q", "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a", "-m", d + "/msg", "-s",
                                         d + "/sig", "-g", "sha256"};
  for (auto _ : state) {
    if (Spawn(argv) != 0) Die("tpm2_quote failed");
  }
  sh("tpm2_evictcontrol -T " + tcti + " -C o -c 0x81000123");
}
BENCHMARK(BM_Quote_Tpm2Tools)->Name("Quote/tpm2_quote_process")->Unit(benchmark::kMillisecond)->MinTime(2.0);

attest::Evidence& BenchEvidence() {
  static attest::Evidence* ev = [] {
    auto& f = TpmFixture::Get();
    auto q = tpm::CreateQuote(*f.ek, *f.ak, kNonce, f.sel);
    if (!q.ok()) Die(q.status().ToString());
    auto* e = new attest::Evidence();
    e->node_id = "bench";
    e->collected_at = "2026-11-23T00:00:00Z";
    e->nonce = kNonce;
    e->quote_attest = q->attest;
    e->quote_signature = q->signature;
    e->pcrs = q->pcrs;
    e->ak_public = f.ak->public_area();
    e->ak_public_pem = f.ak->public_pem();
    e->ak_name = f.ak->name();
    Status s = attest::DecodeEvidenceWire(*e);
    if (!s.ok()) Die(s.ToString());
    return e;
  }();
  return *ev;
}

void BM_Appraise_Edgeward(benchmark::State& state) {
  attest::Evidence& ev = BenchEvidence();
  attest::AppraisalOptions opts;
  for (auto _ : state) {
    auto v = attest::Appraise(ev, kNonce, opts);
    if (!v.ok() || !v->pass) Die("appraisal did not pass");
    benchmark::DoNotOptimize(v->pass);
  }
}
BENCHMARK(BM_Appraise_Edgeward)->Name("Appraise/edgeward")->MinTime(2.0);

// The floor under any appraisal: one ECDSA P-256 signature verification, as
// `openssl speed ecdsap256` measures it.
void BM_Appraise_OpensslVerify(benchmark::State& state) {
  crypto::EvpPkeyCtxPtr kctx(EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!kctx || EVP_PKEY_keygen_init(kctx.get()) != 1 ||
      EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kctx.get(), NID_X9_62_prime256v1) != 1 ||
      EVP_PKEY_keygen(kctx.get(), &raw) != 1) {
    Die("P-256 keygen");
  }
  crypto::EvpPkeyPtr key(raw);
  unsigned char digest[32] = {1, 2, 3};
  unsigned char sig[80];
  size_t siglen = sizeof sig;
  crypto::EvpPkeyCtxPtr sctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  if (EVP_PKEY_sign_init(sctx.get()) != 1 || EVP_PKEY_sign(sctx.get(), sig, &siglen, digest, 32) != 1) Die("sign");
  crypto::EvpPkeyCtxPtr vctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  if (EVP_PKEY_verify_init(vctx.get()) != 1) Die("verify_init");
  for (auto _ : state) {
    int ok = EVP_PKEY_verify(vctx.get(), sig, siglen, digest, 32);
    if (ok != 1) Die("verify");
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_Appraise_OpensslVerify)->Name("Appraise/openssl_p256_verify")->MinTime(2.0);

// A 100,000-entry ima-ng log with valid template hashes.
const std::string& ImaLog() {
  static std::string* log = [] {
    auto* s = new std::string();
    s->reserve(100000 * 160);
    char line[512];
    for (int i = 0; i < 100000; ++i) {
      std::string path = "/usr/lib/x86_64-linux-gnu/lib" + std::to_string(i) + ".so.1";
      Bytes fd = crypto::Digest(HashAlg::kSha256, AsBytes(path));
      // Template data: [u32 len]["sha256:" NUL digest] [u32 len][path NUL]
      Bytes td;
      auto put32 = [&](uint32_t v) { for (int k = 0; k < 4; ++k) td.push_back(static_cast<uint8_t>(v >> (8 * k))); };
      put32(8 + 32);
      for (char c : std::string("sha256:")) td.push_back(static_cast<uint8_t>(c));
      td.push_back(0);
      td.insert(td.end(), fd.begin(), fd.end());
      put32(static_cast<uint32_t>(path.size() + 1));
      td.insert(td.end(), path.begin(), path.end());
      td.push_back(0);
      std::string th = HexEncode(crypto::Digest(HashAlg::kSha1, td));
      std::snprintf(line, sizeof line, "10 %s ima-ng sha256:%s %s\n", th.c_str(), HexEncode(fd).c_str(),
                    path.c_str());
      *s += line;
    }
    return s;
  }();
  return *log;
}

void BM_ImaReplay(benchmark::State& state) {
  const std::string& text = ImaLog();
  const HashAlg banks[] = {HashAlg::kSha1, HashAlg::kSha256};
  for (auto _ : state) {
    auto log = attest::ParseImaLog(text, HashAlg::kSha1, banks);
    if (!log.ok()) Die(log.status().ToString());
    auto pcrs = attest::Replay(*log);
    benchmark::DoNotOptimize(pcrs.size());
  }
  state.SetItemsProcessed(state.iterations() * 100000);
}
BENCHMARK(BM_ImaReplay)->Name("ImaReplay/100k")->Unit(benchmark::kMillisecond)->MinTime(3.0);

}  // namespace
}  // namespace edgeward

BENCHMARK_MAIN();
