// The bundle container: decode (outside input, total) and encode.
#include <cstring>
#include <set>

#include "edgeward/bundle/bundle.h"
#include "edgeward/bundle/time.h"
#include "edgeward/crypto/hash.h"
#include "internal/canonical.h"

namespace edgeward::bundle {
namespace {

using internal::Field;
using internal::Index;
using internal::Json;

Status At(size_t offset, const std::string& why) {
  return InvalidArgument("bundle: byte " + std::to_string(offset) + ": " + why);
}

// Reads one u32be-length-prefixed section.
StatusOr<std::string_view> Section(ByteView data, size_t& pos, size_t max, const char* name) {
  if (data.size() - pos < 4) return At(pos, std::string("truncated before the ") + name + " length");
  uint32_t len = (uint32_t{data[pos]} << 24) | (uint32_t{data[pos + 1]} << 16) | (uint32_t{data[pos + 2]} << 8) |
                 uint32_t{data[pos + 3]};
  size_t len_at = pos;
  pos += 4;
  if (len > max) {
    return At(len_at, std::string(name) + " length " + std::to_string(len) + " exceeds the limit of " +
                          std::to_string(max));
  }
  if (data.size() - pos < len) {
    return At(len_at, std::string(name) + " length " + std::to_string(len) + " exceeds the remaining " +
                          std::to_string(data.size() - pos) + " bytes");
  }
  std::string_view out = AsChars(data.subspan(pos, len));
  pos += len;
  return out;
}

void PutSection(Bytes& out, std::string_view s) {
  uint32_t n = static_cast<uint32_t>(s.size());
  out.push_back(static_cast<uint8_t>(n >> 24));
  out.push_back(static_cast<uint8_t>(n >> 16));
  out.push_back(static_cast<uint8_t>(n >> 8));
  out.push_back(static_cast<uint8_t>(n));
  out.insert(out.end(), s.begin(), s.end());
}

StatusOr<Targets> ReadTargets(const internal::Reader& r, const Json& t) {
  const std::string p = "targets";
  EW_RETURN_IF_ERROR(r.ExactKeys(t, p, {"all", "nodes", "labels"}));
  Targets out;
  EW_ASSIGN_OR_RETURN(out.all, r.Bool(t, p, "all"));
  EW_ASSIGN_OR_RETURN(const Json* nodes, r.Array(t, p, "nodes", kMaxFiles));
  std::set<std::string> seen;
  for (size_t i = 0; i < nodes->size(); ++i) {
    EW_ASSIGN_OR_RETURN(std::string id, r.StringValue((*nodes)[i], Index("targets.nodes", i), 64));
    if (Status s = ValidateNodeId(id); !s.ok()) return r.Error(Index("targets.nodes", i), s.message());
    if (!seen.insert(id).second) return r.Error(Index("targets.nodes", i), "duplicate node " + id);
    out.nodes.push_back(std::move(id));
  }
  EW_ASSIGN_OR_RETURN(const Json* labels, r.Object(t, p, "labels"));
  if (labels->size() > 64) return r.Error("targets.labels", "more than 64 labels");
  for (const auto& [k, v] : labels->items()) {
    EW_ASSIGN_OR_RETURN(std::string value, r.StringValue(v, "targets.labels." + k, 64));
    if (Status s = ValidateLabel(k, value); !s.ok()) return r.Error("targets.labels." + k, s.message());
    out.labels.emplace(k, std::move(value));
  }
  if (out.all && (!out.nodes.empty() || !out.labels.empty())) {
    return r.Error("targets", "\"all\" with nodes or labels is ambiguous");
  }
  if (!out.all && out.nodes.empty() && out.labels.empty()) return r.Error("targets", "targets no node");
  return out;
}

Json TargetsToJson(const Targets& t) {
  Json labels = Json::object();
  for (const auto& [k, v] : t.labels) labels[k] = v;
  return Json{{"all", t.all}, {"nodes", t.nodes}, {"labels", labels}};
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

StatusOr<BundleManifest> ReadManifest(const internal::Reader& r, const Json& m) {
  EW_RETURN_IF_ERROR(r.ExactKeys(m, "", {"type", "format", "version", "issued_at", "expires_at", "targets", "files"}));
  EW_ASSIGN_OR_RETURN(std::string type, r.String(m, "", "type", 64));
  if (type != "edgeward-bundle") return r.Error("type", "must be \"edgeward-bundle\"");
  EW_ASSIGN_OR_RETURN(uint64_t format, r.Uint(m, "", "format"));
  if (format != 1) return r.Error("format", "unsupported format " + std::to_string(format) + " (this agent reads 1)");
  BundleManifest out;
  EW_ASSIGN_OR_RETURN(out.version, r.Uint(m, "", "version"));
  if (out.version == 0) return r.Error("version", "must be at least 1");
  EW_ASSIGN_OR_RETURN(out.issued_at, r.Time(m, "", "issued_at"));
  EW_ASSIGN_OR_RETURN(out.expires_at, r.Time(m, "", "expires_at"));
  if (out.expires_at <= out.issued_at) return r.Error("expires_at", "not after issued_at");
  EW_ASSIGN_OR_RETURN(const Json* targets, r.Object(m, "", "targets"));
  EW_ASSIGN_OR_RETURN(out.targets, ReadTargets(r, *targets));
  EW_ASSIGN_OR_RETURN(const Json* files, r.Array(m, "", "files", kMaxFiles));
  std::set<std::string_view> paths;
  uint64_t total = 0;
  out.files.reserve(files->size());
  for (size_t i = 0; i < files->size(); ++i) {
    std::string at = Index("files", i);
    const Json& f = (*files)[i];
    EW_RETURN_IF_ERROR(r.ExactKeys(f, at, {"path", "size", "sha256"}));
    BundleFile bf;
    EW_ASSIGN_OR_RETURN(bf.path, r.String(f, at, "path", kMaxPathBytes));
    auto kind = ValidateBundlePath(bf.path);
    if (!kind.ok()) return r.Error(Field(at, "path"), kind.status().message());
    bf.kind = *kind;
    EW_ASSIGN_OR_RETURN(bf.size, r.Uint(f, at, "size"));
    if (bf.size > kMaxFileBytes) {
      return r.Error(Field(at, "size"), std::to_string(bf.size) + " bytes (at most " + std::to_string(kMaxFileBytes) + ")");
    }
    total += bf.size;
    if (total > kMaxPayloadBytes) return r.Error(Field(at, "size"), "files total more than " + std::to_string(kMaxPayloadBytes) + " bytes");
    EW_ASSIGN_OR_RETURN(bf.sha256, r.String(f, at, "sha256", 64));
    if (bf.sha256.size() != 64 || !IsLowerHex(bf.sha256)) return r.Error(Field(at, "sha256"), "not 64 lowercase hex digits");
    out.files.push_back(std::move(bf));
  }
  for (size_t i = 0; i < out.files.size(); ++i) {
    if (!paths.insert(out.files[i].path).second) return r.Error(Index("files", i) + ".path", "duplicate path " + out.files[i].path);
  }
  return out;
}

}  // namespace

const BundleFile* Bundle::Find(std::string_view path) const {
  for (const BundleFile& f : manifest.files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

StatusOr<Bundle> DecodeBundle(ByteView data) {
  if (data.size() > kMaxBundleBytes) return At(0, "file of " + std::to_string(data.size()) + " bytes exceeds the limit");
  if (data.size() < kBundleMagic.size() || AsChars(data.first(kBundleMagic.size())) != kBundleMagic) {
    return At(0, "not an edgeward bundle (magic \"EWBUNDL1\" missing)");
  }
  size_t pos = kBundleMagic.size();
  size_t manifest_at = pos + 4;
  EW_ASSIGN_OR_RETURN(std::string_view manifest, Section(data, pos, kMaxManifestBytes, "manifest"));
  size_t payload_at = pos + 4;
  EW_ASSIGN_OR_RETURN(std::string_view payload, Section(data, pos, kMaxPayloadBytes, "payload"));
  size_t sigs_at = pos + 4;
  EW_ASSIGN_OR_RETURN(std::string_view sigs, Section(data, pos, kMaxSignatureBlockBytes, "signature block"));
  if (pos != data.size()) return At(pos, std::to_string(data.size() - pos) + " trailing bytes after the signature block");

  Bundle b;
  const std::string what = "bundle manifest (byte " + std::to_string(manifest_at) + ")";
  EW_ASSIGN_OR_RETURN(Json m, internal::ParseCanonical(manifest, what));
  internal::Reader r(what);
  EW_ASSIGN_OR_RETURN(b.manifest, ReadManifest(r, m));

  // Sizes and hashes: the manifest is the only description of the payload.
  size_t offset = 0;
  crypto::Hasher hasher(crypto::HashAlg::kSha256);
  for (size_t i = 0; i < b.manifest.files.size(); ++i) {
    BundleFile& f = b.manifest.files[i];
    if (payload.size() - offset < f.size) {
      return At(payload_at + offset, "payload ends inside files[" + std::to_string(i) + "] (" + f.path + ")");
    }
    f.offset = offset;
    hasher.Update(AsBytes(payload.substr(offset, f.size)));
    if (HexEncode(hasher.Finish()) != f.sha256) {
      return At(payload_at + offset, "files[" + std::to_string(i) + "] (" + f.path + "): SHA-256 does not match the manifest");
    }
    offset += f.size;
  }
  if (offset != payload.size()) {
    return At(payload_at + offset, std::to_string(payload.size() - offset) + " payload bytes not described by the manifest");
  }
  const std::string sig_what = "bundle signature block (byte " + std::to_string(sigs_at) + ")";
  EW_ASSIGN_OR_RETURN(Json sj, internal::ParseCanonical(sigs, sig_what));
  EW_ASSIGN_OR_RETURN(b.signatures, internal::ReadSignatures(internal::Reader(sig_what), sj, "signatures"));

  b.signed_bytes = std::string(manifest);
  b.payload = std::string(payload);
  b.digest = HexEncode(crypto::Digest(crypto::HashAlg::kSha256, AsBytes(b.signed_bytes)));
  return b;
}

Bytes EncodeBundle(const Bundle& bundle) {
  Bytes out;
  std::string sigs = internal::SignaturesToJson(bundle.signatures).dump();
  out.reserve(kBundleMagic.size() + 12 + bundle.signed_bytes.size() + bundle.payload.size() + sigs.size());
  out.insert(out.end(), kBundleMagic.begin(), kBundleMagic.end());
  PutSection(out, bundle.signed_bytes);
  PutSection(out, bundle.payload);
  PutSection(out, sigs);
  return out;
}

StatusOr<Bundle> MakeBundle(uint64_t version, int64_t issued_at, int64_t expires_at, const Targets& targets,
                            const std::map<std::string, std::string>& files) {
  if (version == 0) return InvalidArgument("bundle version must be at least 1");
  if (expires_at <= issued_at) return InvalidArgument("bundle expiry " + FormatRfc3339(expires_at) + " is not after its issue time " + FormatRfc3339(issued_at));
  if (files.size() > kMaxFiles) return InvalidArgument(std::to_string(files.size()) + " files (at most " + std::to_string(kMaxFiles) + ")");
  Bundle b;
  Json list = Json::array();
  crypto::Hasher hasher(crypto::HashAlg::kSha256);
  for (const auto& [path, contents] : files) {
    EW_ASSIGN_OR_RETURN(FileKind kind, ValidateBundlePath(path));
    if (contents.size() > kMaxFileBytes) return InvalidArgument(path + ": " + std::to_string(contents.size()) + " bytes (at most " + std::to_string(kMaxFileBytes) + ")");
    if (b.payload.size() + contents.size() > kMaxPayloadBytes) return InvalidArgument("files total more than " + std::to_string(kMaxPayloadBytes) + " bytes");
    BundleFile f{path, kind, contents.size(), "", b.payload.size()};
    hasher.Update(AsBytes(contents));
    f.sha256 = HexEncode(hasher.Finish());
    list.push_back(Json{{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
    b.payload += contents;
    b.manifest.files.push_back(std::move(f));
  }
  b.manifest.version = version;
  b.manifest.issued_at = issued_at;
  b.manifest.expires_at = expires_at;
  b.manifest.targets = targets;
  Json m{{"type", "edgeward-bundle"},
         {"format", 1},
         {"version", version},
         {"issued_at", FormatRfc3339(issued_at)},
         {"expires_at", FormatRfc3339(expires_at)},
         {"targets", TargetsToJson(targets)},
         {"files", std::move(list)}};
  EW_ASSIGN_OR_RETURN(b.signed_bytes, internal::Serialize(m));
  if (b.signed_bytes.size() > kMaxManifestBytes) return InvalidArgument("manifest larger than " + std::to_string(kMaxManifestBytes) + " bytes");
  b.digest = HexEncode(crypto::Digest(crypto::HashAlg::kSha256, AsBytes(b.signed_bytes)));
  // What we produce must be what we accept: run it through the decoder.
  Bytes encoded = EncodeBundle(b);
  auto check = DecodeBundle(encoded);
  if (!check.ok()) return check.status().WithContext("building bundle");
  return std::move(*check);
}

}  // namespace edgeward::bundle
