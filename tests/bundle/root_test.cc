// Root documents: canonical encoding, thresholds, and TUF-style rotation.
#include <gtest/gtest.h>

#include "bundle_test_util.h"
#include "edgeward/bundle/time.h"

namespace edgeward::bundle::test {
namespace {

TEST(RootTest, SignedRootRoundTripsAndLoads) {
  Keys keys = NewKeys();
  RootDocument doc = MakeRoot(keys, 1);
  std::string text = SerializeRootDocument(doc);
  auto loaded = LoadRootDocument(text, "root.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->content.version, 1u);
  EXPECT_EQ(loaded->signed_bytes, doc.signed_bytes);
  EXPECT_EQ(loaded->content.root_keys.size(), 3u);
  EXPECT_EQ(SerializeRootDocument(*loaded), text);
  EXPECT_NE(text.find("\"type\":\"edgeward-root\""), std::string::npos);
}

TEST(RootTest, OneOfTwoRootSignaturesIsRejected) {
  Keys keys = NewKeys();
  auto doc = MakeRootDocument(RootContentFor(keys, 1));
  ASSERT_TRUE(doc.ok());
  ASSERT_TRUE(SignRootDocument(*doc, keys.root[0]).ok());
  auto loaded = LoadRootDocument(SerializeRootDocument(*doc), "root.json");
  EXPECT_EQ(loaded.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(loaded.status().message().find("1 of 2 required root signatures"), std::string::npos)
      << loaded.status().ToString();
}

TEST(RootTest, DuplicateSignaturesByOneKeyCountOnce) {
  Keys keys = NewKeys();
  auto doc = MakeRootDocument(RootContentFor(keys, 1));
  ASSERT_TRUE(doc.ok());
  ASSERT_TRUE(SignRootDocument(*doc, keys.root[0]).ok());
  EXPECT_EQ(SignRootDocument(*doc, keys.root[0]).code(), StatusCode::kAlreadyExists);
  doc->signatures.push_back(doc->signatures[0]);  // forged duplicate
  auto loaded = LoadRootDocument(SerializeRootDocument(*doc), "root.json");
  EXPECT_EQ(loaded.status().code(), StatusCode::kPermissionDenied) << loaded.status().ToString();
}

TEST(RootTest, PolicyKeyCannotSignRoot) {
  Keys keys = NewKeys();
  auto doc = MakeRootDocument(RootContentFor(keys, 1));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(SignRootDocument(*doc, keys.policy[0]).code(), StatusCode::kPermissionDenied);
}

TEST(RootTest, BadThresholdsAreMalformed) {
  Keys keys = NewKeys();
  RootContent c = RootContentFor(keys, 1);
  c.root_threshold = 0;
  auto zero = MakeRootDocument(c);
  EXPECT_EQ(zero.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(zero.status().message().find("signed.root.threshold"), std::string::npos) << zero.status().ToString();
  c.root_threshold = 4;
  EXPECT_EQ(MakeRootDocument(c).status().code(), StatusCode::kInvalidArgument);
  c = RootContentFor(keys, 1);
  c.policy_threshold = 3;
  auto too_many = MakeRootDocument(c);
  EXPECT_NE(too_many.status().message().find("signed.policy.threshold"), std::string::npos);
  c = RootContentFor(keys, 1);
  c.root_keys.push_back(c.root_keys[0]);
  auto dup = MakeRootDocument(c);
  EXPECT_NE(dup.status().message().find("duplicate key id"), std::string::npos) << dup.status().ToString();
}

TEST(RootTest, KeyIdMustMatchKey) {
  Keys keys = NewKeys();
  RootDocument doc = MakeRoot(keys, 1);
  std::string text = SerializeRootDocument(doc);
  // Swap the public keys of two entries: ids no longer match their keys.
  std::string a = Base64Encode(keys.root[0].public_key().bytes), b = Base64Encode(keys.root[1].public_key().bytes);
  size_t pa = text.find(a), pb = text.find(b);
  ASSERT_NE(pa, std::string::npos);
  text.replace(pa, a.size(), b);
  text.replace(pb, b.size(), a);
  auto parsed = ParseRootDocument(text, "root.json");
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("key id does not match"), std::string::npos) << parsed.status().ToString();
}

TEST(RootTest, NonCanonicalEncodingIsRejected) {
  Keys keys = NewKeys();
  std::string text = SerializeRootDocument(MakeRoot(keys, 1));
  std::string spaced = text;
  spaced.insert(1, " ");
  auto r = ParseRootDocument(spaced, "root.json");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("canonical"), std::string::npos) << r.status().ToString();
  std::string escaped = text;
  size_t at = escaped.find("edgeward-root");
  escaped.replace(at, 1, "\\u0065");  // same string, different bytes
  EXPECT_NE(ParseRootDocument(escaped, "root.json").status().message().find("canonical"), std::string::npos);
  EXPECT_EQ(ParseRootDocument("[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]", "root.json").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(RootTest, RotationNeedsThresholdOfOldAndNewRootKeys) {
  Keys keys = NewKeys();
  RootDocument current = MakeRoot(keys, 1);
  // New root set: keep root key 0, replace 1 and 2.
  Keys next_keys = NewKeys();
  RootContent c = RootContentFor(next_keys, 2);
  c.root_keys[0] = keys.root[0].KeyId();
  c.keys.erase(next_keys.root[0].KeyId());
  c.keys.emplace(keys.root[0].KeyId(), keys.root[0].public_key());
  auto next = MakeRootDocument(c);
  ASSERT_TRUE(next.ok()) << next.status().ToString();

  // Signed only by new keys: a threshold of its own, but 1 of the old.
  ASSERT_TRUE(SignRootDocument(*next, keys.root[0]).ok());
  ASSERT_TRUE(SignRootDocument(*next, next_keys.root[1]).ok());
  Status s = VerifyRootUpdate(current, *next, kNow);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("1 of 2 required root signatures by the currently trusted root keys"),
            std::string::npos) << s.ToString();

  // An old root key that is no longer in the new set still counts for the old threshold.
  RootDocument with_old = *next;
  ASSERT_TRUE(SignRootDocument(with_old, next_keys.root[2]).ok());  // still 1 old
  EXPECT_EQ(VerifyRootUpdate(current, with_old, kNow).code(), StatusCode::kPermissionDenied);
  // Sign with old key 1 by hand (it's not a root key of the new doc, so
  // SignRootDocument refuses; the node must still count it for the old set).
  EXPECT_EQ(SignRootDocument(with_old, keys.root[1]).code(), StatusCode::kPermissionDenied);
}

TEST(RootTest, RotationAcceptedWhenBothThresholdsMet) {
  Keys keys = NewKeys();
  RootDocument current = MakeRoot(keys, 1);
  Keys policy_only = NewKeys();
  RootContent c = RootContentFor(keys, 2);  // same root keys, new policy keys
  for (const auto& k : keys.policy) c.keys.erase(k.KeyId());
  c.policy_keys.clear();
  for (const auto& k : policy_only.policy) {
    c.policy_keys.push_back(PolicyKey{k.KeyId(), kNow + 10 * kDay});
    c.keys.emplace(k.KeyId(), k.public_key());
  }
  auto next = MakeRootDocument(c);
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(SignRootDocument(*next, keys.root[1]).ok());
  ASSERT_TRUE(SignRootDocument(*next, keys.root[2]).ok());
  EXPECT_TRUE(VerifyRootUpdate(current, *next, kNow).ok());
  // Same version again, or older: refused.
  Status same = VerifyRootUpdate(*next, *next, kNow);
  EXPECT_EQ(same.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(same.message().find("not greater"), std::string::npos);
  // Expired new root: refused.
  Status expired = VerifyRootUpdate(current, *next, kNow + 400 * kDay);
  EXPECT_EQ(expired.code(), StatusCode::kFailedPrecondition) << expired.ToString();
}

TEST(TimeTest, Rfc3339IsStrict) {
  auto t = ParseRfc3339("2026-11-23T23:40:00Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, kNow + 23 * 3600 + 40 * 60);
  EXPECT_EQ(FormatRfc3339(*t), "2026-11-23T23:40:00Z");
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_TRUE(ParseRfc3339("2024-02-29T00:00:00Z").ok());
  for (const char* bad : {"2026-02-29T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23t23:40:00Z",
                          "2026-11-23T23:40:00+00:00", "2026-11-23T23:40:00.5Z", "1969-12-31T23:59:59Z", "",
                          "2026-13-01T00:00:00Z", "2026-11-23T23:40:60Z", "+026-11-23T23:40:00Z"}) {
    EXPECT_EQ(ParseRfc3339(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(*ParseExpiry("+30d", kNow), kNow + 30 * kDay);
  EXPECT_EQ(*ParseExpiry("+2h", kNow), kNow + 7200);
  EXPECT_FALSE(ParseExpiry("+30y", kNow).ok());
  EXPECT_FALSE(ParseExpiry("+d", kNow).ok());
}

}  // namespace
}  // namespace edgeward::bundle::test
