// Reference values YAML: the documented example parses, round trips, and
// every mistake is reported with file:line:column, the field and a hint.
#include <gtest/gtest.h>

#include <string>

#include "edgeward/attest/reference.h"

namespace edgeward::attest {
namespace {

const std::string kSha256A(64, 'a');
const std::string kSha256B(64, 'b');

std::string Example() {
  return "version: 1\n"
         "node_id: gw-0042\n"
         "pcrs:\n"
         "  sha256:\n"
         "    0: " + kSha256A + "\n"
         "    7: " + kSha256B + "\n"
         "files:\n"
         "  /usr/bin/agent: sha256:" + kSha256A + "\n"
         "  /etc/app.conf:\n"
         "    - sha256:" + kSha256A + "\n"
         "    - sha256:" + kSha256B + "\n"
         "unknown_files: warn\n"
         "exclude:\n"
         "  - /tmp/\n";
}

void ExpectError(const std::string& yaml, const std::string& what) {
  auto r = ParseReferenceValues(yaml, "ref.yaml");
  ASSERT_FALSE(r.ok()) << "accepted; wanted: " << what;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(what), std::string::npos) << "want '" << what << "' in: " << r.status().message();
}

TEST(ReferenceYaml, DocumentedExampleParses) {
  auto r = ParseReferenceValues(Example(), "ref.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->node_id, "gw-0042");
  EXPECT_EQ(HexEncode(r->pcrs.at(crypto::HashAlg::kSha256).at(7)), kSha256B);
  ASSERT_EQ(r->files.at("/etc/app.conf").size(), 2u);
  EXPECT_EQ(r->files.at("/usr/bin/agent")[0].alg, crypto::HashAlg::kSha256);
  EXPECT_EQ(r->unknown_files, UnknownFilePolicy::kWarn);
  EXPECT_TRUE(r->IsExcluded("/tmp/x"));
  EXPECT_FALSE(r->IsExcluded("/usr/bin/agent"));
}

TEST(ReferenceYaml, FormatRoundTrips) {
  auto r = ParseReferenceValues(Example());
  ASSERT_TRUE(r.ok());
  std::string text = FormatReferenceValues(*r);
  auto back = ParseReferenceValues(text, "formatted");
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << text;
  EXPECT_EQ(back->pcrs, r->pcrs);
  EXPECT_EQ(back->files, r->files);
  EXPECT_EQ(back->node_id, r->node_id);
  EXPECT_EQ(back->unknown_files, r->unknown_files);
  EXPECT_EQ(back->exclude, r->exclude);
  EXPECT_EQ(FormatReferenceValues(*back), text);
}

TEST(ReferenceYaml, MisspeltKeyGetsSuggestionWithLineAndColumn) {
  std::string y = Example();
  y.replace(y.find("unknown_files"), 13, "unknwon_files");
  ExpectError(y, "ref.yaml:12:1: unknown key 'unknwon_files' (did you mean 'unknown_files'?)");
  ExpectError("version: 1\nfiels: {}\n", "ref.yaml:2:1: unknown key 'fiels' (did you mean 'files'?)");
  ExpectError("version: 1\nunknown_files: fial\n", "ref.yaml:2:16: unknown_files: 'fial' is not one of fail, warn, ignore (did you mean 'fail'?)");
  ExpectError("version: 1\npcrs:\n  sha265: {}\n", "ref.yaml:3:3: pcrs.sha265: unknown bank (did you mean 'sha256'?)");
}

TEST(ReferenceYaml, BadValuesNameTheField) {
  ExpectError("version: 1\npcrs:\n  sha256:\n    7: abcd\n", "ref.yaml:4:8: pcrs.sha256.7: value is 4 hex digits, sha256 needs 64");
  ExpectError("version: 1\npcrs:\n  sha256:\n    24: " + kSha256A + "\n", "pcrs.sha256.24: PCR index out of range");
  ExpectError("version: 1\nfiles:\n  /bin/x: " + kSha256A + "\n", "ref.yaml:3:11: files./bin/x: digest '" + kSha256A.substr(0, 10));
  ExpectError("version: 1\nfiles:\n  /bin/x: md5:00\n", "files./bin/x: unknown digest algorithm 'md5'");
  ExpectError("version: 1\nfiles:\n  /bin/x:\n    - sha256:" + kSha256A + "\n    - sha1:zz\n",
              "ref.yaml:5:7: files./bin/x[1]: digest is 2 hex digits, sha1 needs 40");
  ExpectError("version: 1\nfiles:\n  /bin/x: sha256:" + std::string(63, 'a') + "g\n", "non-hex character at offset 63");
  ExpectError("version: 1\nexclude: /tmp\n", "ref.yaml:2:10: exclude: expected a list of path prefixes");
  ExpectError("version: 1\nfiles:\n  /a: sha256:" + kSha256A + "\n  /a: sha256:" + kSha256A + "\n",
              "ref.yaml:4:3: files./a: duplicate path");
}

TEST(ReferenceYaml, NonUtf8PathsRoundTripAsHex) {
  ReferenceValues r;
  const std::string odd = std::string("/bin/\xaf\xff", 7);
  r.files[odd] = {{crypto::HashAlg::kSha256, Bytes(32, 1)}};
  r.files["hex:literal"] = {{crypto::HashAlg::kSha256, Bytes(32, 2)}};
  r.exclude = {std::string("/tmp/\xc0", 6)};
  std::string text = FormatReferenceValues(r);
  EXPECT_NE(text.find("hex:2f62696e2fafff"), std::string::npos) << text;
  auto back = ParseReferenceValues(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << text;
  EXPECT_EQ(back->files, r.files);
  EXPECT_EQ(back->exclude, r.exclude);
  ExpectError("version: 1\nfiles:\n  /a\xff: sha256:" + kSha256A + "\n",
              "ref.yaml:3:3: files: not valid UTF-8 (write such a path as hex:<bytes>)");
  ExpectError("version: 1\nexclude: [\"hex:zz\"]\n", "exclude[0]: hex: path: non-hex character");
}

TEST(ReferenceYaml, VersionIsRequiredAndChecked) {
  ExpectError("pcrs: {}\n", "ref.yaml:1:1: version: missing");
  ExpectError("version: 2\n", "ref.yaml:1:10: version: unsupported version '2'");
}

TEST(ReferenceYaml, InvalidYamlHasPosition) {
  ExpectError("version: 1\npcrs: [\n", "ref.yaml:3:1: invalid YAML");
  ExpectError("", "ref.yaml: empty document");
  ExpectError("- 1\n- 2\n", "ref.yaml:1:1: expected a mapping at the top level");
}

TEST(ReferenceYaml, AkNameAndRuntimeLogsRoundTrip) {
  const std::string name = "000b" + kSha256A;
  auto r = ParseReferenceValues("version: 1\nak_name: " + name +
                                    "\nruntime_logs:\n  - {format: ima, pcr: 10}\n  - format: cel\n    pcr: 15\n",
                                "ref.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->ak_name.has_value());
  EXPECT_EQ(HexEncode(*r->ak_name), name);
  EXPECT_EQ(r->runtime_logs,
            (std::vector<RequiredLog>{{EventLogFormat::kIma, 10}, {EventLogFormat::kCel, 15}}));
  const std::string text = FormatReferenceValues(*r);
  auto back = ParseReferenceValues(text, "generated.yaml");
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << text;
  EXPECT_EQ(back->ak_name, r->ak_name);
  EXPECT_EQ(back->runtime_logs,
            (std::vector<RequiredLog>{{EventLogFormat::kIma, 10}, {EventLogFormat::kCel, 15}}));
  EXPECT_EQ(FormatReferenceValues(*back), text);
}

TEST(ReferenceYaml, BadAkNameAndRuntimeLogsNameTheField) {
  ExpectError("version: 1\nak_name: 000b" + kSha256A.substr(2) + "\n",
              "ref.yaml:2:10: ak_name: is 66 hex digits, a sha256 name needs 68");
  ExpectError("version: 1\nak_name: 0099" + kSha256A + "\n", "ref.yaml:2:10: ak_name: nameAlg 0x0099 is not a known hash");
  ExpectError("version: 1\nak_name: zz\n", "ref.yaml:2:10: ak_name:");
  ExpectError("version: 1\nruntime_log: []\n", "ref.yaml:2:1: unknown key 'runtime_log' (did you mean 'runtime_logs'?)");
  ExpectError("version: 1\nruntime_logs:\n  - {format: cell, pcr: 15}\n",
              "ref.yaml:3:14: runtime_logs[0].format: 'cell' is not one of cel, ima (did you mean 'cel'?)");
  ExpectError("version: 1\nruntime_logs:\n  - {format: uefi, pcr: 0}\n", "runtime_logs[0].format: 'uefi' is not one of cel, ima");
  ExpectError("version: 1\nruntime_logs:\n  - {format: cel, pcr: 24}\n",
              "ref.yaml:3:24: runtime_logs[0].pcr: PCR index out of range (0-23)");
  ExpectError("version: 1\nruntime_logs:\n  - {format: cel}\n", "ref.yaml:3:5: runtime_logs[0].pcr: missing");
  ExpectError("version: 1\nruntime_logs:\n  - {format: cel, pcr: 15, pcrs: 1}\n",
              "ref.yaml:3:28: runtime_logs[0]: unknown key 'pcrs' (did you mean 'pcr'?)");
  ExpectError("version: 1\nruntime_logs:\n  - {format: cel, pcr: 15}\n  - {pcr: 15, format: cel}\n",
              "ref.yaml:4:5: runtime_logs[1]: duplicate entry");
  ExpectError("version: 1\nruntime_logs: cel\n", "ref.yaml:2:15: runtime_logs: expected a list");
}

}  // namespace
}  // namespace edgeward::attest
