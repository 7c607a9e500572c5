// Bundle files arrive from the network, a mirror or a USB stick: decoding
// never crashes, anything that decodes re-encodes to the same bytes (one
// encoding per bundle), and verification against a fixed root never crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "edgeward/bundle/bundle.h"
#include "edgeward/bundle/verify.h"

namespace {

const edgeward::bundle::RootDocument& FixedRoot() {
  using namespace edgeward;
  static const bundle::RootDocument root = [] {
    Bytes seed(32, 7);
    auto key = crypto::Ed25519SigningKey::FromSeed(seed);
    if (!key.ok()) std::abort();
    bundle::RootContent c;
    c.version = 1;
    c.expires = 253402300799;
    c.root_threshold = 1;
    c.root_keys = {key->KeyId()};
    c.policy_threshold = 1;
    c.policy_keys = {bundle::PolicyKey{key->KeyId(), 253402300799}};
    c.keys.emplace(key->KeyId(), key->public_key());
    auto doc = bundle::MakeRootDocument(c);
    if (!doc.ok()) std::abort();
    return *doc;
  }();
  return root;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeward;
  ByteView in(data, size);
  auto b = bundle::DecodeBundle(in);
  if (b.ok()) {
    Bytes again = bundle::EncodeBundle(*b);
    if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
    for (const auto& f : b->manifest.files) {
      if (b->Content(f).size() != f.size) std::abort();
    }
  }
  bundle::VerifyOptions o;
  o.trusted_now = 1795392000;
  o.node = bundle::NodeIdentity{"edge-1", {{"site", "berlin"}}};
  bundle::Verdict v = bundle::VerifyBundle(in, FixedRoot(), o);
  if (v.accepted() && !b.ok()) std::abort();
  (void)bundle::VerdictEvent(v, in, o.trusted_now);
  return 0;
}
