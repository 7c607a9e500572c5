#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "edgeward/attest/eventlog.h"
#include "edgeward/base/file.h"
#include "swtpm.h"

namespace edgeward::attest {
namespace {

using ::testing::HasSubstr;

const std::string kLogDir = std::string(EDGEWARD_TESTDATA_DIR) + "/eventlogs/";
const char* const kLogs[] = {"event-arch-linux.bin", "event-moklisttrusted.bin", "event-sd-boot-fedora37.bin",
                             "event-uefi-sha1-log.bin", "event-uefiaction.bin"};

std::string ReadLog(const std::string& name) {
  auto s = ReadFileToString(kLogDir + name, kMaxEventLogBytes);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : std::string();
}

// bank name → index → hex, as in expected-pcrs.json and tpm2_eventlog.
using HexPcrs = std::map<std::string, std::map<uint32_t, std::string>>;

HexPcrs ToHex(const tpm::PcrValues& v) {
  HexPcrs out;
  for (const auto& [bank, pcrs] : v) {
    for (const auto& [i, val] : pcrs) out[std::string(crypto::HashAlgName(bank))][i] = HexEncode(val);
  }
  return out;
}

StatusOr<ParsedLog> Parse(const std::string& bytes) { return ParseUefiLog(AsBytes(bytes)); }

TEST(UefiLogTest, ReplayMatchesExpectedPcrsForEveryFileAndBank) {
  auto text = ReadFileToString(kLogDir + "expected-pcrs.json", 1 << 20);
  ASSERT_TRUE(text.ok());
  auto expected = nlohmann::json::parse(*text);
  ASSERT_EQ(expected.size(), std::size(kLogs));
  for (const auto& [file, banks] : expected.items()) {
    SCOPED_TRACE(file);
    auto log = Parse(ReadLog(file));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    HexPcrs want;
    for (const auto& [bank, pcrs] : banks.items()) {
      for (const auto& [idx, hex] : pcrs.items()) want[bank][std::stoul(idx)] = hex.get<std::string>();
    }
    EXPECT_EQ(ToHex(Replay(*log)), want);
  }
}

// Parses the "pcrs:" section of tpm2_eventlog's YAML output.
HexPcrs ParseTpm2EventlogPcrs(const std::string& yaml) {
  HexPcrs out;
  std::istringstream in(yaml);
  std::string line, bank;
  bool in_pcrs = false;
  while (std::getline(in, line)) {
    if (line == "pcrs:") {
      in_pcrs = true;
      continue;
    }
    if (!in_pcrs) continue;
    if (line.rfind("  ", 0) == 0 && line.size() > 3 && line[2] != ' ' && line.back() == ':') {
      bank = line.substr(2, line.size() - 3);
      out[bank];
    } else if (line.rfind("    ", 0) == 0) {
      auto colon = line.find(':');
      auto hex = line.find("0x");
      if (colon == std::string::npos || hex == std::string::npos) continue;
      out[bank][std::stoul(line.substr(4, colon - 4))] = line.substr(hex + 2);
    } else {
      in_pcrs = false;
    }
  }
  return out;
}

TEST(UefiLogTest, ReplayAgreesWithTpm2Eventlog) {
  for (const char* file : kLogs) {
    SCOPED_TRACE(file);
    auto r = testing::RunCommand("tpm2_eventlog '" + kLogDir + file + "' 2>/dev/null");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    HexPcrs theirs = ParseTpm2EventlogPcrs(r.output);
    ASSERT_FALSE(theirs.empty());
    auto log = Parse(ReadLog(file));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_EQ(ToHex(Replay(*log)), theirs);
  }
}

TEST(UefiLogTest, CryptoAgileLogListsBanksAndEventTypes) {
  auto log = Parse(ReadLog("event-sd-boot-fedora37.bin"));
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(log->banks, std::vector<HashAlg>{HashAlg::kSha256});
  ASSERT_GT(log->events.size(), 6u);
  EXPECT_EQ(log->events[0].type, "EV_NO_ACTION");
  EXPECT_TRUE(log->events[0].not_extended);
  EXPECT_EQ(log->events[1].type, "EV_S_CRTM_VERSION");
  EXPECT_EQ(log->events[4].type, "EV_EFI_VARIABLE_DRIVER_CONFIG");
  EXPECT_THAT(log->events[4].description, HasSubstr("SecureBoot"));
  bool saw_sep = false, saw_exit = false;
  for (const auto& e : log->events) {
    saw_sep |= e.type == "EV_SEPARATOR";
    saw_exit |= e.type == "EV_EFI_ACTION" && e.description == "Exit Boot Services Invocation";
  }
  EXPECT_TRUE(saw_sep);
  EXPECT_TRUE(saw_exit);
}

TEST(UefiLogTest, BootApplicationEventShowsItsImagePath) {
  auto log = Parse(ReadLog("event-arch-linux.bin"));
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(log->banks, (std::vector<HashAlg>{HashAlg::kSha1, HashAlg::kSha256}));
  ASSERT_GT(log->events.size(), 23u);
  EXPECT_EQ(log->events[22].type, "EV_EFI_BOOT_SERVICES_APPLICATION");
  EXPECT_THAT(log->events[22].description, HasSubstr("\\EFI\\SYSTEMD\\SYSTEMD-BOOTX64.EFI"));
  EXPECT_EQ(log->events[22].digests.size(), 2u);
}

TEST(UefiLogTest, Sha1OnlyLogHasOneBank) {
  auto log = Parse(ReadLog("event-uefi-sha1-log.bin"));
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(log->banks, std::vector<HashAlg>{HashAlg::kSha1});
  for (const auto& e : log->events) {
    if (!e.not_extended) {
      EXPECT_EQ(e.digests.size(), 1u);
    }
  }
}

void AppendU32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void AppendU16(std::string& s, uint16_t v) {
  s.push_back(static_cast<char>(v & 0xff));
  s.push_back(static_cast<char>(v >> 8));
}

// A crypto-agile header (sha256 only) followed by `body`.
std::string AgileLog(const std::string& body, uint32_t num_algs = 1) {
  std::string spec("Spec ID Event03", 16);
  AppendU32(spec, 0);  // platformClass
  spec += std::string("\x00\x02\x00\x02", 4);
  AppendU32(spec, num_algs);
  for (uint32_t i = 0; i < std::min<uint32_t>(num_algs, 1); ++i) {
    AppendU16(spec, 0x000B);
    AppendU16(spec, 32);
  }
  spec.push_back('\0');  // vendorInfoSize
  std::string log;
  AppendU32(log, 0);
  AppendU32(log, 3);  // EV_NO_ACTION
  log += std::string(20, '\0');
  AppendU32(log, static_cast<uint32_t>(spec.size()));
  return log + spec + body;
}

std::string Event2(uint32_t pcr, uint32_t type, const std::string& data, char digest_byte = 'x') {
  std::string e;
  AppendU32(e, pcr);
  AppendU32(e, type);
  AppendU32(e, 1);
  AppendU16(e, 0x000B);
  e += std::string(32, digest_byte);
  AppendU32(e, static_cast<uint32_t>(data.size()));
  return e + data;
}

TEST(UefiLogTest, StartupLocalitySetsPcr0InitialValue) {
  std::string loc("StartupLocality", 16);
  loc.push_back('\3');
  std::string log = AgileLog(Event2(0, 3, loc, '\0') + Event2(0, 8, "v"));
  auto parsed = Parse(log);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->startup_locality, std::optional<uint8_t>(3));
  Bytes pcr(32, 0);
  pcr.back() = 3;
  crypto::ExtendInPlace(HashAlg::kSha256, pcr, Bytes(32, 'x'));
  EXPECT_EQ(Replay(*parsed)[HashAlg::kSha256][0], pcr);
}

TEST(UefiLogTest, NoActionEventsAreNotExtended) {
  auto parsed = Parse(AgileLog(Event2(4, 3, "anything") + Event2(4, 0x80000007, "act")));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  Bytes pcr(32, 0);
  crypto::ExtendInPlace(HashAlg::kSha256, pcr, Bytes(32, 'x'));
  EXPECT_EQ(Replay(*parsed)[HashAlg::kSha256][4], pcr);
}

TEST(UefiLogTest, EveryTruncationOfARealLogIsAnErrorNamingEventAndOffset) {
  std::string full = ReadLog("event-sd-boot-fedora37.bin");
  auto whole = Parse(full);
  ASSERT_TRUE(whole.ok());
  // Cutting inside any event must fail; cutting exactly between events is a
  // shorter valid log.
  std::set<size_t> boundaries;
  for (const auto& e : whole->events) boundaries.insert(e.offset);
  for (size_t len = 1; len < full.size(); ++len) {
    auto r = Parse(full.substr(0, len));
    if (boundaries.count(len)) {
      EXPECT_TRUE(r.ok()) << len;
      continue;
    }
    ASSERT_FALSE(r.ok()) << "accepted a log cut at " << len;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), ::testing::StartsWith("uefi log: event "));
    EXPECT_THAT(r.status().message(), HasSubstr(" at offset 0x"));
  }
}

TEST(UefiLogTest, OversizedEventSizeIsRejectedWithItsIndex) {
  std::string body = Event2(4, 5, "abc");
  body[body.size() - 7] = '\xff';  // eventSize low byte → 0x...ff
  body[body.size() - 4] = '\x7f';  // high byte → huge
  auto r = Parse(AgileLog(Event2(4, 5, "ok") + body));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("event 2 at offset"));
  EXPECT_THAT(r.status().message(), HasSubstr("exceeds"));
}

TEST(UefiLogTest, DigestAlgorithmNotInSpecIdIsRejected) {
  std::string e;
  AppendU32(e, 4);
  AppendU32(e, 5);
  AppendU32(e, 1);
  AppendU16(e, 0x0004);  // sha1, not announced
  e += std::string(20, 'a');
  AppendU32(e, 0);
  auto r = Parse(AgileLog(e));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("event 1"));
  EXPECT_THAT(r.status().message(), HasSubstr("not in the Spec ID event"));
}

TEST(UefiLogTest, DigestCountAboveSpecIdIsRejected) {
  std::string e;
  AppendU32(e, 4);
  AppendU32(e, 5);
  AppendU32(e, 0x10000000);
  auto r = Parse(AgileLog(e));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("digest count 268435456 exceeds"));
}

TEST(UefiLogTest, SpecIdWithTooManyAlgorithmsIsRejected) {
  auto r = Parse(AgileLog("", 100000));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("event 0"));
  EXPECT_THAT(r.status().message(), HasSubstr("100000 algorithms"));
}

TEST(UefiLogTest, PcrIndexOutOfRangeIsRejected) {
  auto r = Parse(AgileLog(Event2(24, 5, "x")));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("PCR index 24 out of range"));
}

TEST(UefiLogTest, GarbageAndEmptyInputAreErrors) {
  EXPECT_FALSE(Parse("").ok());
  auto r = Parse("this is not an event log at all, just some text that goes on");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("uefi log: event"));
}

TEST(UefiLogTest, InputOverTheCapIsResourceExhausted) {
  std::string big(kMaxEventLogBytes + 1, '\0');
  auto r = Parse(big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
}

TEST(EventLogFormatTest, DetectsEachFormatFromContent) {
  EXPECT_EQ(DetectEventLogFormat(AsBytes(ReadLog("event-uefiaction.bin"))), EventLogFormat::kUefi);
  EXPECT_EQ(DetectEventLogFormat(AsBytes("10 " + std::string(40, '0') + " ima-ng sha1:00 /x\n")),
            EventLogFormat::kIma);
  EXPECT_EQ(DetectEventLogFormat(AsBytes("{\"recnum\":0}\n")), EventLogFormat::kCel);
  EXPECT_EQ(DetectEventLogFormat(ByteView()), std::nullopt);
}

}  // namespace
}  // namespace edgeward::attest
