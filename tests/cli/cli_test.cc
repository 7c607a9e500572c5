// The edgeward CLI end to end: a private swtpm, real files, real quotes,
// the appraisal verdict and exit codes; and interop with tpm2-tools'
// tpm2_checkquote in the direction "our quote, their verifier".
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "edgeward/base/bytes.h"
#include "edgeward/base/file.h"
#include "swtpm.h"

namespace edgeward {
namespace {

using testing::RunCommand;

const std::string kEdgeward = std::string(EDGEWARD_BINARY_DIR) + "/agent/edgeward";

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = testing::Swtpm::Start();
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tpm_ = std::move(*t);
    auto ca = testing::SwtpmCaBundlePath();
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = *ca;
    ASSERT_TRUE(MakeDirs(dir_.File("app/etc"), 0755).ok());
    Write("app/etc/sensor.yaml", "interval: 5s\n");
    Write("app/run.sh", "#!/bin/sh\nexec sensor\n");
  }

  void Write(const std::string& rel, std::string_view s) {
    ASSERT_TRUE(WriteFileAtomic(dir_.File(rel), AsBytes(s), 0644).ok());
  }

  // Runs edgeward with the swtpm and a private state directory.
  testing::CommandResult Ew(const std::string& args) {
    return RunCommand("EDGEWARD_TCTI='" + tpm_->tcti() + "' EDGEWARD_STATE_DIR='" + dir_.File("state") + "' " +
                      kEdgeward + " " + args);
  }

  std::string Quote(const std::string& nonce, const std::string& out, const std::string& extra = "") {
    auto r = Ew("attest quote --nonce " + nonce + " --out " + dir_.File(out) + " " + extra);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return dir_.File(out);
  }

  // The node's AK name, as an operator records it at enrollment.
  std::string AkName() {
    auto r = Ew("attest ak --json");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return nlohmann::json::parse(r.output)["ak"]["name"].get<std::string>();
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::Swtpm> tpm_;
  std::string ca_;
};

TEST_F(CliTest, TpmInfoReportsTheSimulatorAndItsEkCertificates) {
  auto r = Ew("tpm info --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["manufacturer"], "IBM");
  EXPECT_TRUE(j["algorithms"]["ecc_p256"].get<bool>());
  EXPECT_GE(j["ek_certificates"].size(), 1u);
  EXPECT_NE(std::find(j["pcr_banks"].begin(), j["pcr_banks"].end(), "sha256"), j["pcr_banks"].end());
}

TEST_F(CliTest, MeasureQuoteVerifyPassesThenTamperingFlipsTheVerdict) {
  auto m = Ew("measure " + dir_.File("app"));
  ASSERT_EQ(m.exit_code, 0) << m.output;
  EXPECT_NE(m.output.find("2 new measurement(s) extended into PCR 15"), std::string::npos) << m.output;

  std::string ev = Quote("00112233445566778899", "ev1.json");
  auto ref = Ew("attest reference --from " + ev + " --out " + dir_.File("ref.yaml"));
  ASSERT_EQ(ref.exit_code, 0) << ref.output;
  auto ok = Ew("attest verify --evidence " + ev + " --nonce 00112233445566778899 --reference " +
               dir_.File("ref.yaml") + " --ca " + ca_);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("PASS"), std::string::npos) << ok.output;

  // Measuring again without a change extends nothing.
  auto again = Ew("measure " + dir_.File("app"));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("0 new measurement(s)"), std::string::npos) << again.output;

  Write("app/etc/sensor.yaml", "interval: 5s\nupload: https://attacker.example/\n");
  ASSERT_EQ(Ew("measure " + dir_.File("app")).exit_code, 0);
  std::string ev2 = Quote("aabbccdd", "ev2.json");
  auto bad = Ew("attest verify --evidence " + ev2 + " --nonce aabbccdd --reference " + dir_.File("ref.yaml"));
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("FAIL"), std::string::npos) << bad.output;
  // The reason names the file and its actual digest.
  EXPECT_NE(bad.output.find(dir_.File("app/etc/sensor.yaml")), std::string::npos) << bad.output;
  auto digest = RunCommand("sha256sum " + dir_.File("app/etc/sensor.yaml"));
  EXPECT_NE(bad.output.find(digest.output.substr(0, 64)), std::string::npos) << bad.output;
}

TEST_F(CliTest, OldEvidenceAgainstANewChallengeFails) {
  ASSERT_EQ(Ew("measure " + dir_.File("app")).exit_code, 0);
  std::string ev = Quote("01020304", "ev.json");
  auto r = Ew("attest verify --evidence " + ev + " --nonce 05060708 --ak-name " + AkName());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("nonce"), std::string::npos) << r.output;
}

TEST_F(CliTest, VerifyJsonOutputCarriesTheVerdict) {
  ASSERT_EQ(Ew("measure " + dir_.File("app")).exit_code, 0);
  std::string ev = Quote("0a0b", "ev.json");
  auto r = Ew("attest verify --json --evidence " + ev + " --nonce 0a0b --ak-name " + AkName());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  EXPECT_TRUE(j["pass"].get<bool>()) << r.output;
}

TEST_F(CliTest, VerifyRefusesToRunWithoutAPinnedAk) {
  ASSERT_EQ(Ew("measure " + dir_.File("app")).exit_code, 0);
  std::string ev = Quote("0a0b", "ev.json");
  auto r = Ew("attest verify --evidence " + ev + " --nonce 0a0b --ca " + ca_);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no attestation key is pinned"), std::string::npos) << r.output;
}

TEST_F(CliTest, EvidenceFromAnotherAkFailsAgainstThePinnedOne) {
  const std::string pinned = AkName();
  ASSERT_EQ(Ew("measure " + dir_.File("app")).exit_code, 0);
  // Same TPM, another state directory: another AK.
  auto q = RunCommand("EDGEWARD_TCTI='" + tpm_->tcti() + "' " + kEdgeward + " attest quote --nonce 0c0d --state-dir " +
                      dir_.File("other-state") + " --out " + dir_.File("other.json"));
  ASSERT_EQ(q.exit_code, 0) << q.output;
  auto r = Ew("attest verify --evidence " + dir_.File("other.json") + " --nonce 0c0d --ak-name " + pinned);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("ak_identity"), std::string::npos) << r.output;
}

TEST_F(CliTest, BadInputExitsTwoAndNamesTheFile) {
  Write("garbage.json", "{\"version\": 1, \"quote\": ");
  auto r = Ew("attest verify --evidence " + dir_.File("garbage.json") + " --nonce 00");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("garbage.json"), std::string::npos) << r.output;

  auto nonce = Ew("attest quote --nonce xyz --out " + dir_.File("x.json"));
  EXPECT_EQ(nonce.exit_code, 2) << nonce.output;
  EXPECT_NE(nonce.output.find("--nonce"), std::string::npos) << nonce.output;

  auto pcrs = Ew("attest quote --nonce 00 --pcrs sha256:99 --out " + dir_.File("x.json"));
  EXPECT_EQ(pcrs.exit_code, 2) << pcrs.output;

  auto missing = Ew("measure " + dir_.File("does-not-exist"));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;

  auto usage = Ew("attest frobnicate");
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
}

TEST_F(CliTest, UnreachableTpmExitsThree) {
  ASSERT_TRUE(tpm_->Stop().ok());
  auto r = Ew("measure " + dir_.File("app"));
  EXPECT_EQ(r.exit_code, 3) << r.output;
}

TEST_F(CliTest, LogCommandReplaysOurMeasurementLog) {
  ASSERT_EQ(Ew("measure " + dir_.File("app")).exit_code, 0);
  auto r = Ew("attest log --format cel --json " + dir_.File("state/measurements.cel"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  // The replayed PCR 15 equals what the TPM holds.
  auto pcr = RunCommand("tpm2_pcrread -T '" + tpm_->tcti() + "' sha256:15");
  ASSERT_EQ(pcr.exit_code, 0) << pcr.output;
  std::string dumped = j.dump();
  auto pos = pcr.output.find("0x");
  ASSERT_NE(pos, std::string::npos);
  std::string value = pcr.output.substr(pos + 2, 64);
  std::transform(value.begin(), value.end(), value.begin(), ::tolower);
  EXPECT_NE(dumped.find(value), std::string::npos) << dumped << "\n" << pcr.output;
}

// tpm2-tools' "serialized" PCR file (what tpm2_quote -o writes and
// tpm2_checkquote -f reads): the C structs TPML_PCR_SELECTION, a u32 count,
// then TPML_DIGEST structs of up to 8 digests, in host (little-endian)
// layout with the compiler's padding. (tpm2-tools 5.4's "values" form with
// -l fails in checkquote even for tpm2_pcrread's own output.)
Bytes Tpm2ToolsSerializedPcrs(uint16_t alg_id, const std::vector<int>& pcrs, const std::vector<Bytes>& values) {
  auto u16 = [](Bytes& b, uint16_t v) { b.push_back(v & 0xff); b.push_back(v >> 8); };
  auto u32 = [](Bytes& b, uint32_t v) { for (int i = 0; i < 4; ++i) b.push_back((v >> (8 * i)) & 0xff); };
  Bytes out;
  u32(out, 1);
  uint8_t select[4] = {0, 0, 0, 0};
  for (int p : pcrs) select[p / 8] |= static_cast<uint8_t>(1 << (p % 8));
  for (int i = 0; i < 16; ++i) {
    u16(out, i == 0 ? alg_id : 0);
    out.push_back(i == 0 ? 3 : 0);
    for (int k = 0; k < 4; ++k) out.push_back(i == 0 ? select[k] : 0);
    out.push_back(0);  // padding to the struct's 2-byte alignment
  }
  uint32_t lists = static_cast<uint32_t>((values.size() + 7) / 8);
  u32(out, lists);
  for (uint32_t l = 0; l < lists; ++l) {
    size_t first = l * 8, n = std::min<size_t>(8, values.size() - first);
    u32(out, static_cast<uint32_t>(n));
    for (size_t k = 0; k < 8; ++k) {
      Bytes buf(64, 0);
      uint16_t size = 0;
      if (k < n) {
        size = static_cast<uint16_t>(values[first + k].size());
        std::copy(values[first + k].begin(), values[first + k].end(), buf.begin());
      }
      u16(out, size);
      out.insert(out.end(), buf.begin(), buf.end());
    }
  }
  return out;
}

// Interop: a quote made by edgeward verifies with tpm2_checkquote, and
// tpm2_checkquote rejects it when the nonce or a PCR value is wrong.
TEST_F(CliTest, OurQuoteVerifiesWithTpm2Checkquote) {
  ASSERT_EQ(Ew("measure " + dir_.File("app")).exit_code, 0);
  std::string ev = Quote("c0ffee", "ev.json", "--pcrs sha256:0-7,15");
  auto text = ReadFileToString(ev, 1 << 24);
  ASSERT_TRUE(text.ok());
  auto j = nlohmann::json::parse(*text);
  ASSERT_EQ(j["pcrs"].size(), 1u) << "only the sha256 bank was asked for";
  auto attest = Base64Decode(j["quote"]["attest"].get<std::string>());
  auto sig = Base64Decode(j["quote"]["signature"].get<std::string>());
  ASSERT_TRUE(attest.ok() && sig.ok());
  ASSERT_TRUE(WriteFileAtomic(dir_.File("msg"), *attest, 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_.File("sig"), *sig, 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_.File("ak.pem"), AsBytes(j["ak"]["public_pem"].get<std::string>()), 0644).ok());
  const std::vector<int> indices = {0, 1, 2, 3, 4, 5, 6, 7, 15};
  std::vector<Bytes> values;
  for (int i : indices) {
    auto v = HexDecode(j["pcrs"]["sha256"][std::to_string(i)].get<std::string>());
    ASSERT_TRUE(v.ok());
    values.push_back(*v);
  }
  ASSERT_TRUE(WriteFileAtomic(dir_.File("pcrs"), Tpm2ToolsSerializedPcrs(0x000b, indices, values), 0644).ok());
  const std::string base = "tpm2_checkquote -u " + dir_.File("ak.pem") + " -m " + dir_.File("msg") + " -s " +
                           dir_.File("sig") + " -f " + dir_.File("pcrs") + " -g sha256";
  auto good = RunCommand(base + " -q c0ffee");
  EXPECT_EQ(good.exit_code, 0) << good.output;
  auto wrong = RunCommand(base + " -q c0ffef");
  EXPECT_NE(wrong.exit_code, 0) << wrong.output;
  values.back()[0] ^= 1;  // PCR 15 as claimed no longer matches the quote
  ASSERT_TRUE(WriteFileAtomic(dir_.File("pcrs"), Tpm2ToolsSerializedPcrs(0x000b, indices, values), 0644).ok());
  auto forged = RunCommand(base + " -q c0ffee");
  EXPECT_NE(forged.exit_code, 0) << forged.output;
}

}  // namespace
}  // namespace edgeward
