// Interop with a peer: quotes made by tpm2-tools (tpm2_createak + tpm2_quote)
// on a real swtpm, packaged into our Evidence, verify with our Appraise —
// ECC and RSA AKs, an IMA-format log replaying into PCR 10, the EK
// certificate chained to swtpm's local CA. Then each kind of tampering gives
// its own finding. No mocks: every structure here came out of the TPM.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "edgeward/attest/appraisal.h"
#include "edgeward/base/file.h"
#include "edgeward/crypto/x509.h"
#include "swtpm.h"

namespace edgeward::attest {
namespace {

using crypto::HashAlg;
using testing::RunCommand;

struct ImaFile {
  std::string path;
  Bytes digest;  // sha256 of the content
};

void PutLe32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// ima-ng template data, as the kernel builds it: d-ng then n-ng, each with a
// little-endian u32 length.
Bytes ImaNgTemplate(const ImaFile& f) {
  Bytes d = {'s', 'h', 'a', '2', '5', '6', ':', 0};
  d.insert(d.end(), f.digest.begin(), f.digest.end());
  Bytes n(f.path.begin(), f.path.end());
  n.push_back(0);
  Bytes t;
  PutLe32(t, static_cast<uint32_t>(d.size()));
  t.insert(t.end(), d.begin(), d.end());
  PutLe32(t, static_cast<uint32_t>(n.size()));
  t.insert(t.end(), n.begin(), n.end());
  return t;
}

std::string ImaLine(const ImaFile& f) {
  return "10 " + HexEncode(crypto::Digest(HashAlg::kSha1, ImaNgTemplate(f))) + " ima-ng sha256:" +
         HexEncode(f.digest) + " " + f.path + "\n";
}

class AppraisalInterop : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tpm = testing::Swtpm::Start();
    ASSERT_TRUE(tpm.ok()) << tpm.status().ToString();
    tpm_ = std::move(tpm).value().release();
    dir_ = new testing::TempDir();
    ASSERT_NO_FATAL_FAILURE(Tool("tpm2_createek -G ecc -c " + F("ek.ctx") + " -u " + F("ek.pub")));
    for (const char* alg : {"ecc", "rsa"}) {
      const std::string a = alg;
      ASSERT_NO_FATAL_FAILURE(Tool("tpm2_createak -C " + F("ek.ctx") + " -c " + F("ak_" + a + ".ctx") + " -G " + a +
                                   " -g sha256 -s " + (a == "ecc" ? "ecdsa" : "rsassa") + " -u " +
                                   F("ak_" + a + ".pub") + " -n " + F("ak_" + a + ".name") + " -r " +
                                   F("ak_" + a + ".priv")));
    }
    // The EK certificate swtpm_setup stored in NV (RSA EK: 0x01c00002).
    ASSERT_NO_FATAL_FAILURE(Tool("tpm2_nvread 0x01c00002 -C o -o " + F("ek.der")));
    // An IMA-style measurement log, extended into PCR 10 in both banks.
    files_ = {{"/usr/bin/edge-app", crypto::Digest(HashAlg::kSha256, AsBytes("app v1"))},
              {"/etc/edge/app.conf", crypto::Digest(HashAlg::kSha256, AsBytes("conf v1"))},
              {"/tmp/scratch", crypto::Digest(HashAlg::kSha256, AsBytes("scratch"))}};
    ima_log_ = new std::string();
    for (const ImaFile& f : files_) {
      Bytes t = ImaNgTemplate(f);
      ASSERT_NO_FATAL_FAILURE(Tool("tpm2_pcrextend 10:sha1=" + HexEncode(crypto::Digest(HashAlg::kSha1, t)) +
                                   ",sha256=" + HexEncode(crypto::Digest(HashAlg::kSha256, t))));
      *ima_log_ += ImaLine(f);
    }
  }
  static void TearDownTestSuite() {
    delete tpm_;
    delete dir_;
    delete ima_log_;
    tpm_ = nullptr;
    dir_ = nullptr;
  }

  static std::string F(const std::string& name) { return dir_->File(name); }

  // Runs a shell script of tpm2-tools commands against the swtpm, then
  // flushes what it left loaded (there is no resource manager in front of
  // swtpm).
  static void Tool(const std::string& script) {
    const std::string env = "export TPM2TOOLS_TCTI='" + tpm_->tcti() + "'; ";
    auto r = RunCommand("(" + env + "set -e; " + script + ") 2>&1");
    ASSERT_EQ(r.exit_code, 0) << script << "\n" << r.output;
    RunCommand(env + "tpm2_flushcontext -t 2>&1; tpm2_flushcontext -s 2>&1");
  }

  // After a TPM Reset saved transient contexts are void: recreate the EK
  // (deterministic from the template) and load the ECC AK under it again.
  static void ReloadAk() {
    Tool("tpm2_createek -G ecc -c " + F("ek.ctx") + " -u " + F("ek.pub") + "; tpm2_flushcontext -t; " +
         "tpm2_startauthsession --policy-session -S " + F("s.ctx") + "; tpm2_policysecret -S " + F("s.ctx") +
         " -c e; tpm2_load -C " + F("ek.ctx") + " -u " + F("ak_ecc.pub") + " -r " + F("ak_ecc.priv") + " -c " +
         F("ak_ecc.ctx") + " -P session:" + F("s.ctx") + "; tpm2_flushcontext " + F("s.ctx"));
  }

  static Bytes Read(const std::string& name) {
    auto s = ReadFileToString(F(name), 1 << 20);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? Bytes(s->begin(), s->end()) : Bytes();
  }

  // tpm2_quote with `ak` ("ecc"/"rsa") over `pcrs`, packaged as Evidence.
  static Evidence Quote(const std::string& ak, const Bytes& nonce,
                        const std::string& pcrs = "sha256:0,1,2,3,7,10+sha1:10") {
    Evidence e;
    Tool("tpm2_quote -c " + F("ak_" + ak + ".ctx") + " -l " + pcrs + " -q " + HexEncode(nonce) + " -m " +
         F("q.attest") + " -s " + F("q.sig") + " -o " + F("q.pcrs") + " -F values -g sha256");
    e.node_id = "swtpm-node";
    e.collected_at = "2026-11-23T20:40:00Z";
    e.nonce = nonce;
    e.quote_attest = Read("q.attest");
    e.quote_signature = Read("q.sig");
    e.ak_public = Read("ak_" + ak + ".pub");
    e.ak_name = Read("ak_" + ak + ".name");
    auto pub = DecodeTpm2bPublic(e.ak_public);
    EXPECT_TRUE(pub.ok()) << pub.status().ToString();
    if (pub.ok()) e.ak_public_pem = *PublicKeyPem(*pub);
    // -F values: PCR values concatenated in the order of the selection.
    const Bytes values = Read("q.pcrs");
    auto attest = DecodeTpmsAttest(e.quote_attest);
    EXPECT_TRUE(attest.ok()) << attest.status().ToString();
    size_t off = 0;
    if (attest.ok()) {
      for (const TpmsPcrSelection& b : attest->quote.pcr_select.banks) {
        const HashAlg alg = *HashFromTpm(b.hash_alg);
        const size_t n = crypto::DigestSize(alg);
        for (uint32_t pcr : b.Pcrs()) {
          if (off + n > values.size()) break;
          e.pcrs[alg][pcr] = Bytes(values.begin() + off, values.begin() + off + n);
          off += n;
        }
      }
    }
    EXPECT_EQ(off, values.size());
    auto cert = crypto::Certificate::FromDer(Read("ek.der"));
    EXPECT_TRUE(cert.ok()) << cert.status().ToString();
    if (cert.ok()) {
      e.has_ek = true;
      e.ek_certificate_pem = *cert->ToPem();
    }
    e.event_logs.push_back({EventLogFormat::kIma, *ima_log_, HashAlg::kSha1});
    // Through JSON and back, as a verifier receives it.
    auto text = EncodeEvidence(e);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    auto decoded = DecodeEvidence(*text);
    EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
    return decoded.ok() ? std::move(decoded).value() : e;
  }

  static Verdict Check(const Evidence& e, ByteView nonce, AppraisalOptions o = {}) {
    auto bundle = testing::SwtpmCaBundlePath();
    EXPECT_TRUE(bundle.ok()) << bundle.status().ToString();
    if (bundle.ok() && o.ek_ca_bundle_path.empty()) o.ek_ca_bundle_path = *bundle;
    auto v = Appraise(e, nonce, o);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? std::move(v).value() : Verdict{};
  }

  static std::vector<std::string> Failed(const Verdict& v) {
    std::vector<std::string> out;
    for (const Finding& f : v.findings) {
      if (f.severity == Severity::kFail) out.push_back(f.check);
    }
    return out;
  }
  static const Finding* Find(const Verdict& v, const std::string& check) {
    for (const Finding& f : v.findings) {
      if (f.check == check) return &f;
    }
    return nullptr;
  }

  static inline testing::Swtpm* tpm_ = nullptr;
  static inline testing::TempDir* dir_ = nullptr;
  static inline std::vector<ImaFile> files_;
  static inline std::string* ima_log_ = nullptr;
};

const Bytes kNonce = *HexDecode("5a5b5c5d5e5f60616263646566676869");

TEST_F(AppraisalInterop, Tpm2QuoteWithEccAkVerifies) {
  Evidence e = Quote("ecc", kNonce);
  Verdict v = Check(e, kNonce);
  EXPECT_TRUE(v.pass) << FormatVerdictText(v);
  EXPECT_TRUE(v.signature_valid);
  ASSERT_EQ(v.log_verified.size(), 1u);
  EXPECT_TRUE(v.log_verified[0]);
}

TEST_F(AppraisalInterop, Tpm2QuoteWithRsaAkVerifies) {
  Evidence e = Quote("rsa", kNonce);
  EXPECT_EQ(e.signature.sig_alg, tpm_alg::kRsassa);
  Verdict v = Check(e, kNonce);
  EXPECT_TRUE(v.pass) << FormatVerdictText(v);
}

TEST_F(AppraisalInterop, ReferenceFromGoodEvidenceThenTamperedFileIsNamed) {
  Evidence good = Quote("ecc", kNonce);
  auto ref = ReferenceFromEvidence(good);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->files.size(), 3u);
  // PCR 10 is the log's: checked file by file, not as a golden value.
  EXPECT_TRUE(ref->pcrs.at(HashAlg::kSha256).count(7));
  EXPECT_FALSE(ref->pcrs.at(HashAlg::kSha256).count(10));
  EXPECT_FALSE(ref->pcrs.count(HashAlg::kSha1));
  // Through YAML and back, as an operator would keep it.
  auto parsed = ParseReferenceValues(FormatReferenceValues(*ref), "generated.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  AppraisalOptions o;
  o.reference = &*parsed;
  Verdict v = Check(good, kNonce, o);
  EXPECT_TRUE(v.pass) << FormatVerdictText(v);
  EXPECT_EQ(v.files_checked, 3u);

  // The reference allows a different digest for the app: the measured one
  // is reported with path, event index, expected and actual.
  ReferenceValues changed = *parsed;
  const Bytes other = crypto::Digest(HashAlg::kSha256, AsBytes("app v0"));
  changed.files["/usr/bin/edge-app"] = {{HashAlg::kSha256, other}};
  changed.files.erase("/etc/edge/app.conf");
  changed.exclude = {"/tmp/"};
  o.reference = &changed;
  v = Check(good, kNonce, o);
  EXPECT_EQ(Failed(v), (std::vector<std::string>{"file_digest", "unknown_file"})) << FormatVerdictText(v);
  const Finding* f = Find(v, "file_digest");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "/usr/bin/edge-app");
  EXPECT_EQ(f->event_index, 0u);
  EXPECT_EQ(f->pcr, 10u);
  EXPECT_EQ(f->expected, "sha256:" + HexEncode(other));
  EXPECT_EQ(f->actual, "sha256:" + HexEncode(files_[0].digest));
  EXPECT_EQ(Find(v, "unknown_file")->path, "/etc/edge/app.conf");
  EXPECT_NE(FormatVerdictText(v).find("FAIL file_digest: PCR 10 log 0 event 0 path /usr/bin/edge-app"),
            std::string::npos)
      << FormatVerdictText(v);

  changed.unknown_files = UnknownFilePolicy::kWarn;
  changed.files["/usr/bin/edge-app"].push_back({HashAlg::kSha256, files_[0].digest});
  v = Check(good, kNonce, o);
  EXPECT_TRUE(v.pass) << FormatVerdictText(v);
  EXPECT_EQ(Find(v, "unknown_file")->severity, Severity::kWarn);
}

TEST_F(AppraisalInterop, LogThatDoesNotReplayIsNotBelieved) {
  Evidence e = Quote("ecc", kNonce);
  // Hide the app: a log without its line (well-formed, but not what was
  // extended). Its files then count for nothing.
  std::string log;
  for (size_t i = 1; i < files_.size(); ++i) log += ImaLine(files_[i]);
  e.event_logs[0].data = log;
  ReferenceValues ref;
  ref.unknown_files = UnknownFilePolicy::kFail;
  AppraisalOptions o;
  o.reference = &ref;
  Verdict v = Check(e, kNonce, o);
  std::vector<std::string> want = {"replay", "replay"};  // sha1 and sha256 banks of PCR 10
  EXPECT_EQ(Failed(v), want) << FormatVerdictText(v);
  EXPECT_EQ(Find(v, "replay")->pcr, 10u);
  EXPECT_FALSE(v.log_verified[0]);
  EXPECT_EQ(v.files_checked, 0u);
}

// A runtime log read after the quote has more events than the quote covers:
// the quoted prefix verifies, the rest is reported and not believed.
TEST_F(AppraisalInterop, EventsAfterTheQuoteAreNotBelieved) {
  Evidence e = Quote("ecc", kNonce);
  e.event_logs[0].data += ImaLine({"/usr/bin/late", crypto::Digest(HashAlg::kSha256, AsBytes("late"))});
  auto ref = ReferenceFromEvidence(Quote("ecc", kNonce));
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  AppraisalOptions o;
  o.reference = &*ref;
  Verdict v = Check(e, kNonce, o);
  EXPECT_TRUE(v.pass) << FormatVerdictText(v);
  const Finding* f = Find(v, "replay");
  ASSERT_NE(f, nullptr) << FormatVerdictText(v);
  EXPECT_EQ(f->severity, Severity::kInfo);
  EXPECT_EQ(f->event_index, 3u);
  EXPECT_EQ(v.files_checked, 3u);  // /usr/bin/late is not among them
  // An event missing from the front is still caught.
  e.event_logs[0].data = e.event_logs[0].data.substr(e.event_logs[0].data.find('\n') + 1);
  v = Check(e, kNonce, o);
  EXPECT_FALSE(v.pass);
  EXPECT_EQ(Find(v, "replay")->severity, Severity::kFail) << FormatVerdictText(v);
}

TEST_F(AppraisalInterop, LogTouchingAnUnquotedPcrIsReported) {
  Evidence e = Quote("ecc", kNonce, "sha256:0,1,2,3");
  Verdict v = Check(e, kNonce);
  EXPECT_EQ(Failed(v), std::vector<std::string>{"replay"}) << FormatVerdictText(v);
  EXPECT_EQ(Find(v, "replay")->pcr, 10u);
}

TEST_F(AppraisalInterop, EachTamperingGivesItsFinding) {
  const Evidence good = Quote("ecc", kNonce);
  {
    Evidence e = good;
    e.quote_attest[e.quote_attest.size() - 1] ^= 1;  // last byte of pcrDigest
    ASSERT_TRUE(DecodeEvidenceWire(e).ok());
    Verdict v = Check(e, kNonce);
    EXPECT_EQ(Failed(v), (std::vector<std::string>{"signature", "pcr_digest", "replay"})) << FormatVerdictText(v);
  }
  {
    Evidence e = good;
    e.quote_signature[8] ^= 0x10;
    ASSERT_TRUE(DecodeEvidenceWire(e).ok());
    Verdict v = Check(e, kNonce);
    EXPECT_EQ(Failed(v), (std::vector<std::string>{"signature", "replay"})) << FormatVerdictText(v);
  }
  {
    Evidence e = good;
    e.pcrs[HashAlg::kSha256][7][0] ^= 1;
    Verdict v = Check(e, kNonce);
    EXPECT_EQ(Failed(v), (std::vector<std::string>{"pcr_digest", "replay"})) << FormatVerdictText(v);
  }
  {
    Bytes wrong = kNonce;
    wrong.back() ^= 1;
    Verdict v = Check(good, wrong);
    EXPECT_EQ(Failed(v), (std::vector<std::string>{"nonce", "evidence_nonce"})) << FormatVerdictText(v);
  }
  {
    Evidence e = good;
    e.pcrs[HashAlg::kSha256][15] = Bytes(32, 0);  // CVE-2024-29039 shape
    Verdict v = Check(e, kNonce);
    EXPECT_EQ(Failed(v), std::vector<std::string>{"pcr_selection"}) << FormatVerdictText(v);
    EXPECT_EQ(Find(v, "pcr_selection")->pcr, 15u);
  }
  {
    Evidence e = good;  // another AK of the same TPM, consistent in itself
    e.ak_public = Read("ak_rsa.pub");
    e.ak_name = Read("ak_rsa.name");
    e.ak_public_pem = *PublicKeyPem(*DecodeTpm2bPublic(e.ak_public));
    ASSERT_TRUE(DecodeEvidenceWire(e).ok());
    AppraisalOptions o;
    o.expected_ak_name = Read("ak_ecc.name");
    Verdict v = Check(e, kNonce, o);
    EXPECT_EQ(Failed(v), (std::vector<std::string>{"ak_identity", "signature", "replay"})) << FormatVerdictText(v);
  }
}

TEST_F(AppraisalInterop, EkCertificateMustChainToTheConfiguredCa) {
  Evidence e = Quote("ecc", kNonce);
  // A CA that did not issue it: the EK certificate itself as the only anchor.
  const std::string wrong_ca = F("wrong-ca.pem");
  ASSERT_TRUE(WriteFileAtomic(wrong_ca, AsBytes(e.ek_certificate_pem), 0600).ok());
  AppraisalOptions o;
  o.ek_ca_bundle_path = wrong_ca;
  Verdict v = Check(e, kNonce, o);
  EXPECT_EQ(Failed(v), std::vector<std::string>{"ek_certificate"}) << FormatVerdictText(v);
  e.has_ek = false;
  v = Check(e, kNonce);
  EXPECT_EQ(Failed(v), std::vector<std::string>{"ek_certificate"}) << FormatVerdictText(v);
}

TEST_F(AppraisalInterop, ResetIsReportedAndOldQuoteIsCaught) {
  AppraisalOptions pinned;
  pinned.expected_ak_name = Read("ak_ecc.name");  // the state advances only for a pinned AK
  Verdict first = Check(Quote("ecc", kNonce), kNonce, pinned);
  ASSERT_TRUE(first.pass) << FormatVerdictText(first);
  Evidence old = Quote("ecc", kNonce);  // made before the reboot
  ASSERT_TRUE(tpm_->Restart().ok());
  ASSERT_NO_FATAL_FAILURE(ReloadAk());
  // PCR 10 starts from zero again: extend the same log as a rebooted node would.
  for (const ImaFile& f : files_) {
    Bytes t = ImaNgTemplate(f);
    Tool("tpm2_pcrextend 10:sha1=" + HexEncode(crypto::Digest(HashAlg::kSha1, t)) +
         ",sha256=" + HexEncode(crypto::Digest(HashAlg::kSha256, t)));
  }
  const Bytes nonce2 = *HexDecode("0102030405060708");
  Evidence after = Quote("ecc", nonce2);
  AppraisalOptions o = pinned;
  o.previous = first.state;
  Verdict v = Check(after, nonce2, o);
  EXPECT_TRUE(v.pass) << FormatVerdictText(v);
  ASSERT_NE(Find(v, "reset"), nullptr) << FormatVerdictText(v);
  EXPECT_EQ(Find(v, "reset")->severity, Severity::kInfo);
  // The pre-reboot quote, replayed after the state moved on, goes backwards.
  o.previous = v.state;
  Verdict replayed = Check(old, kNonce, o);
  EXPECT_EQ(Failed(replayed), std::vector<std::string>{"clock"}) << FormatVerdictText(replayed);
}

}  // namespace
}  // namespace edgeward::attest
