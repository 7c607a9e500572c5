// `edgeward keygen` end to end: key files written with the right modes, the
// passphrase taken only from a file or a terminal, bad input → exit 2.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "edgeward/base/file.h"
#include "edgeward/crypto/key_file.h"
#include "swtpm.h"

namespace edgeward {
namespace {

using testing::RunCommand;

const std::string kEdgeward = std::string(EDGEWARD_BINARY_DIR) + "/agent/edgeward";

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(KeygenCli, PassphraseFileEncryptsTheSecretKey) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.File("pw"), AsBytes(std::string_view("s3cret phrase\n")), 0600).ok());
  auto r = RunCommand(kEdgeward + " keygen --interactive-cost --out " + dir.File("keys") + " --passphrase-file " +
                      dir.File("pw") + " </dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto files = FilesIn(dir.File("keys"));
  ASSERT_EQ(files.size(), 2u);
  const std::string& secret = files[0].ends_with(".key") ? files[0] : files[1];
  const std::string& pub = files[0].ends_with(".pub") ? files[0] : files[1];
  struct stat st {};
  ASSERT_EQ(::stat(secret.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(r.output.find("passphrase-protected"), std::string::npos) << r.output;
  auto text = ReadFileToString(secret, 4096);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("encryption: argon2id-xchacha20poly1305"), std::string::npos);
  std::string_view pw = "s3cret phrase";
  auto key = crypto::ReadSecretKeyFile(secret, ByteView(reinterpret_cast<const uint8_t*>(pw.data()), pw.size()));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto pubkey = crypto::ReadPublicKeyFile(pub);
  ASSERT_TRUE(pubkey.ok());
  EXPECT_EQ(*pubkey, key->public_key());
  EXPECT_NE(r.output.find(key->KeyId()), std::string::npos);
}

TEST(KeygenCli, NoPassphraseSourceWithoutTerminalIsBadInput) {
  testing::TempDir dir;
  auto r = RunCommand(kEdgeward + " keygen --out " + dir.File("keys") + " </dev/null");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--no-passphrase"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.File("keys")));
}

TEST(KeygenCli, EmptyOrMissingPassphraseFileIsBadInput) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.File("pw"), AsBytes(std::string_view("\n")), 0600).ok());
  auto empty = RunCommand(kEdgeward + " keygen --out " + dir.File("keys") + " --passphrase-file " + dir.File("pw"));
  EXPECT_EQ(empty.exit_code, 2) << empty.output;
  EXPECT_NE(empty.output.find("pw:1: the passphrase is empty"), std::string::npos) << empty.output;
  auto missing = RunCommand(kEdgeward + " keygen --out " + dir.File("keys") + " --passphrase-file " + dir.File("nope"));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
}

TEST(KeygenCli, UnencryptedKeyIsSaidSoAndUsable) {
  testing::TempDir dir;
  auto r = RunCommand(kEdgeward + " keygen --no-passphrase --out " + dir.File("keys"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("UNENCRYPTED"), std::string::npos);
  for (const auto& f : FilesIn(dir.File("keys"))) {
    if (!f.ends_with(".key")) continue;
    auto key = crypto::ReadSecretKeyFile(f, std::nullopt);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
  }
}

}  // namespace
}  // namespace edgeward
