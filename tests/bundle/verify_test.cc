// VerifyBundle: one test per rejection reason, each checking the reason
// code and the specific message; plus the event object.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bundle_test_util.h"
#include "edgeward/bundle/verify.h"

namespace edgeward::bundle::test {
namespace {

class VerifyTest : public ::testing::Test {
 protected:
  VerifyOptions Options(uint64_t highest = 0) {
    VerifyOptions o;
    o.trusted_now = kNow;
    o.highest_accepted = highest;
    o.node = NodeIdentity{"edge-1", {{"site", "berlin"}}};
    return o;
  }
  Keys keys_ = NewKeys();
  RootDocument root_ = MakeRoot(keys_, 1);
};

TEST_F(VerifyTest, SignedBundleIsAccepted) {
  Bytes file = SignedBundle(MakeTestBundle(1), {&keys_.policy[0]});
  Verdict v = VerifyBundle(file, root_, Options());
  EXPECT_TRUE(v.accepted()) << v.message;
  EXPECT_EQ(v.version(), 1u);
  auto event = nlohmann::json::parse(VerdictEvent(v, file, kNow));
  EXPECT_EQ(event["type"], "bundle.accepted");
  EXPECT_EQ(event["bundle"]["version"], 1);
  EXPECT_EQ(event["bundle"]["sha256"], v.bundle->digest);
  EXPECT_EQ(event["time"], "2026-11-23T00:00:00Z");
}

TEST_F(VerifyTest, TamperedPayloadIsMalformed) {
  Bytes file = SignedBundle(MakeTestBundle(1), {&keys_.policy[0]});
  // Flip a byte of the payload ("name: p0" → "name: q0").
  std::string_view text = AsChars(file);
  size_t at = text.find("name: p0");
  ASSERT_NE(at, std::string::npos);
  file[at + 6] = 'q';
  Verdict v = VerifyBundle(file, root_, Options());
  EXPECT_EQ(v.reason, Reason::kMalformed);
  EXPECT_NE(v.message.find("SHA-256 does not match"), std::string::npos) << v.message;
  auto event = nlohmann::json::parse(VerdictEvent(v, file, kNow));
  EXPECT_EQ(event["type"], "bundle.rejected");
  EXPECT_EQ(event["reason"], "malformed");
}

TEST_F(VerifyTest, TamperedManifestBreaksTheSignature) {
  Bundle b = MakeTestBundle(1);
  ASSERT_TRUE(SignBundle(b, keys_.policy[0]).ok());
  // Re-make the manifest for version 2 with the old signature attached.
  Bundle other = MakeTestBundle(2);
  other.signatures = b.signatures;
  Verdict v = VerifyBundle(EncodeBundle(other), root_, Options());
  EXPECT_EQ(v.reason, Reason::kBadSignature);
  EXPECT_NE(v.message.find("0 of 1 required signatures; signature does not verify: key " + keys_.policy[0].KeyId()),
            std::string::npos) << v.message;
}

TEST_F(VerifyTest, RootKeySignatureDoesNotCountForBundles) {
  // Domain separation and roles: a root key is not a policy key.
  Verdict v = VerifyBundle(SignedBundle(MakeTestBundle(1), {&keys_.root[0]}), root_, Options());
  EXPECT_EQ(v.reason, Reason::kUnknownKey);
  EXPECT_NE(v.message.find("not a policy key"), std::string::npos) << v.message;
}

TEST_F(VerifyTest, UnknownKeyIsRejected) {
  auto stranger = NewKey();
  Verdict v = VerifyBundle(SignedBundle(MakeTestBundle(1), {&stranger}), root_, Options());
  EXPECT_EQ(v.reason, Reason::kUnknownKey);
  EXPECT_NE(v.message.find(stranger.KeyId()), std::string::npos);
}

TEST_F(VerifyTest, ExpiredPolicyKeyIsRejectedByTrustedTime) {
  RootContent c = RootContentFor(keys_, 1, 1, kNow + 365 * kDay, /*policy_expires=*/kNow - 1);
  auto root = MakeRootDocument(c);
  ASSERT_TRUE(root.ok());
  Verdict v = VerifyBundle(SignedBundle(MakeTestBundle(1), {&keys_.policy[0]}), *root, Options());
  EXPECT_EQ(v.reason, Reason::kExpiredKey);
  EXPECT_NE(v.message.find("policy key expired"), std::string::npos) << v.message;
}

TEST_F(VerifyTest, OneOfTwoSignaturesIsBelowThreshold) {
  RootDocument root = MakeRoot(keys_, 1, /*policy_threshold=*/2);
  Verdict v = VerifyBundle(SignedBundle(MakeTestBundle(1), {&keys_.policy[0]}), root, Options());
  EXPECT_EQ(v.reason, Reason::kBelowThreshold);
  EXPECT_EQ(v.message, "1 of 2 required signatures");
  // The same key twice still counts once.
  Bundle b = MakeTestBundle(1);
  ASSERT_TRUE(SignBundle(b, keys_.policy[0]).ok());
  b.signatures.push_back(b.signatures[0]);
  EXPECT_EQ(VerifyBundle(EncodeBundle(b), root, Options()).reason, Reason::kBelowThreshold);
  // Both keys: accepted.
  EXPECT_TRUE(VerifyBundle(SignedBundle(MakeTestBundle(1), {&keys_.policy[0], &keys_.policy[1]}), root, Options())
                  .accepted());
}

TEST_F(VerifyTest, ExpiredRootIsRejected) {
  VerifyOptions o = Options();
  o.trusted_now = kNow + 400 * kDay;
  Verdict v = VerifyBundle(SignedBundle(MakeTestBundle(1), {&keys_.policy[0]}), root_, o);
  EXPECT_EQ(v.reason, Reason::kRootExpired);
}

TEST_F(VerifyTest, VersionMustBeGreaterThanHighestAndNotJumpTooFar) {
  Bytes file = SignedBundle(MakeTestBundle(5), {&keys_.policy[0]});
  Verdict same = VerifyBundle(file, root_, Options(5));
  EXPECT_EQ(same.reason, Reason::kVersionNotGreater);
  EXPECT_NE(same.message.find("version 5 is not greater than the highest accepted version 5"), std::string::npos);
  EXPECT_EQ(VerifyBundle(file, root_, Options(9)).reason, Reason::kVersionNotGreater);
  EXPECT_TRUE(VerifyBundle(file, root_, Options(4)).accepted());
  Bytes far = SignedBundle(MakeTestBundle(5 + kMaxVersionJump + 1), {&keys_.policy[0]});
  EXPECT_EQ(VerifyBundle(far, root_, Options(5)).reason, Reason::kVersionJumpTooLarge);
}

TEST_F(VerifyTest, ExpiredBundleIsRejected) {
  Bytes file = SignedBundle(MakeTestBundle(1, 1, kNow - 10 * kDay, kNow - kDay), {&keys_.policy[0]});
  Verdict v = VerifyBundle(file, root_, Options());
  EXPECT_EQ(v.reason, Reason::kExpired);
  EXPECT_NE(v.message.find("expired at 2026-11-22T00:00:00Z"), std::string::npos) << v.message;
}

TEST_F(VerifyTest, BundleForOtherNodesIsNotTargeted) {
  auto t = ParseTargetSelector("node=edge-2,label.site=paris");
  ASSERT_TRUE(t.ok());
  Bytes file = SignedBundle(MakeTestBundle(1, 1, kNow - kDay, kNow + kDay, &*t), {&keys_.policy[0]});
  Verdict v = VerifyBundle(file, root_, Options());
  EXPECT_EQ(v.reason, Reason::kNotTargeted);
  EXPECT_NE(v.message.find("not node edge-1"), std::string::npos);
  VerifyOptions paris = Options();
  paris.node->labels["site"] = "paris";
  EXPECT_TRUE(VerifyBundle(file, root_, paris).accepted());
  VerifyOptions anywhere = Options();
  anywhere.node.reset();
  EXPECT_TRUE(VerifyBundle(file, root_, anywhere).accepted());
}

TEST_F(VerifyTest, InvalidContentRejectsTheWholeBundle) {
  VerifyOptions o = Options();
  std::vector<std::string> seen;
  o.validate = [&](FileKind kind, std::string_view path, std::string_view bytes) -> Status {
    seen.emplace_back(path);
    if (kind == FileKind::kPolicy && bytes.find("p1") != std::string_view::npos) {
      return InvalidArgument("policies/p1.yaml:1:7: field name: bad");
    }
    return Status::Ok();
  };
  Verdict v = VerifyBundle(SignedBundle(MakeTestBundle(1), {&keys_.policy[0]}), root_, o);
  EXPECT_EQ(v.reason, Reason::kInvalidContent);
  EXPECT_NE(v.message.find("policies/p1.yaml: policies/p1.yaml:1:7: field name: bad"), std::string::npos) << v.message;
  EXPECT_EQ(seen.size(), 2u);
  // Content is never looked at before the signatures pass.
  seen.clear();
  auto stranger = NewKey();
  EXPECT_EQ(VerifyBundle(SignedBundle(MakeTestBundle(1), {&stranger}), root_, o).reason, Reason::kUnknownKey);
  EXPECT_TRUE(seen.empty());
}

}  // namespace
}  // namespace edgeward::bundle::test
