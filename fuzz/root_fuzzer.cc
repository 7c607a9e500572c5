// Root documents are a node's trust anchor and arrive as rotation updates:
// parsing never crashes, a document that parses serializes back to the same
// bytes, and signature checks on it never crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "edgeward/bundle/root.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeward;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = bundle::ParseRootDocument(text, "fuzz");
  if (!doc.ok()) return 0;
  std::string again = bundle::SerializeRootDocument(*doc);
  std::string_view want = text;
  if (!want.empty() && want.back() == '\n') want.remove_suffix(1);
  if (std::string_view(again).substr(0, again.size() - 1) != want) std::abort();
  (void)bundle::CheckRootSignatures(*doc, doc->content, "own");
  (void)bundle::VerifyRootUpdate(*doc, *doc, 0);
  return 0;
}
