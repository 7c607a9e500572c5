#include "bundle_test_util.h"

#include <gtest/gtest.h>

namespace edgeward::bundle::test {

crypto::Ed25519SigningKey NewKey() {
  auto k = crypto::Ed25519SigningKey::Generate();
  if (!k.ok()) {
    ADD_FAILURE() << k.status().ToString();
    std::abort();
  }
  return std::move(*k);
}

Keys NewKeys() {
  Keys k;
  for (int i = 0; i < 3; ++i) k.root.push_back(NewKey());
  for (int i = 0; i < 2; ++i) k.policy.push_back(NewKey());
  return k;
}

RootContent RootContentFor(const Keys& keys, uint64_t version, uint32_t policy_threshold, int64_t expires,
                           int64_t policy_expires) {
  RootContent c;
  c.version = version;
  c.expires = expires;
  c.root_threshold = 2;
  for (const auto& k : keys.root) {
    c.root_keys.push_back(k.KeyId());
    c.keys.emplace(k.KeyId(), k.public_key());
  }
  c.policy_threshold = policy_threshold;
  for (const auto& k : keys.policy) {
    c.policy_keys.push_back(PolicyKey{k.KeyId(), policy_expires});
    c.keys.emplace(k.KeyId(), k.public_key());
  }
  return c;
}

RootDocument MakeRoot(const Keys& keys, uint64_t version, uint32_t policy_threshold) {
  auto doc = MakeRootDocument(RootContentFor(keys, version, policy_threshold));
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_TRUE(SignRootDocument(*doc, keys.root[0]).ok());
  EXPECT_TRUE(SignRootDocument(*doc, keys.root[1]).ok());
  return *doc;
}

Bundle MakeTestBundle(uint64_t version, int n_policies, int64_t issued_at, int64_t expires_at,
                      const Targets* targets) {
  std::map<std::string, std::string> files;
  for (int i = 0; i < n_policies; ++i) {
    files["policies/p" + std::to_string(i) + ".yaml"] =
        "name: p" + std::to_string(i) + "\nversion: " + std::to_string(version) + "\n";
  }
  files["rules/base.rules"] = "rule: v" + std::to_string(version) + "\n";
  Targets all;
  all.all = true;
  auto b = MakeBundle(version, issued_at, expires_at, targets ? *targets : all, files);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return *b;
}

Bytes SignedBundle(Bundle b, const std::vector<const crypto::Ed25519SigningKey*>& signers) {
  for (const auto* k : signers) EXPECT_TRUE(SignBundle(b, *k).ok());
  return EncodeBundle(b);
}

}  // namespace edgeward::bundle::test
