// verifier.yaml → VerifierConfig. yaml-cpp exceptions stay in this file;
// every error carries source:line:col and the field.
#include <sys/stat.h>

#include <yaml-cpp/yaml.h>

#include "edgeward/base/file.h"
#include "edgeward/cloud/verifier.h"

namespace edgeward::cloud {
namespace {

Status At(std::string_view source, const YAML::Mark& m, std::string_view field, std::string_view problem) {
  return InvalidArgument(std::string(source) + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) +
                         ": " + std::string(field) + ": " + std::string(problem));
}

std::string Resolve(const std::string& base, const std::string& p) {
  if (p.empty() || p[0] == '/' || base.empty()) return p;
  return base + "/" + p;
}

StatusOr<VerifierConfig> Parse(std::string_view text, std::string_view source, const std::string& base_dir) {
  YAML::Node root = YAML::Load(std::string(text));
  if (!root.IsMap()) return At(source, root.Mark(), "(top)", "expected a mapping of settings");
  VerifierConfig c;
  std::string base = base_dir;
  // state_dir first: other relative paths resolve against it.
  // Named locals, not temporaries: GCC 12 misreports yaml-cpp's node
  // temporaries as dangling (-Wdangling-pointer).
  const YAML::Node state_dir = root["state_dir"];
  if (state_dir.IsDefined()) {
    const YAML::Mark sm = state_dir.Mark();
    if (!state_dir.IsScalar()) return At(source, sm, "state_dir", "expected a path");
    c.state_dir = Resolve(base_dir, state_dir.as<std::string>());
    base = c.state_dir;
  } else {
    c.state_dir = base_dir;
  }
  c.tls_cert_path = Resolve(base, "server.crt");
  c.tls_key_path = Resolve(base, "server.key");
  c.node_ca_cert_path = Resolve(base, "node-ca.crt");
  c.node_ca_key_path = Resolve(base, "node-ca.key");
  c.database_path = Resolve(base, "verifier.db");
  c.x25519_key_path = Resolve(base, "seal.key");
  bool have_ek_ca = false;

  for (auto it = root.begin(); it != root.end(); ++it) {
    const YAML::Node k = it->first;
    const std::string key = k.as<std::string>();
    const YAML::Mark key_mark = k.Mark();
    const YAML::Node v = it->second;
    const YAML::Mark m = v.Mark();
    auto path = [&](std::string& out) -> Status {
      if (!v.IsScalar() || v.as<std::string>().empty()) return At(source, m, key, "expected a non-empty path");
      out = Resolve(base, v.as<std::string>());
      return Status::Ok();
    };
    auto integer = [&](int64_t lo, int64_t hi) -> StatusOr<int64_t> {
      if (!v.IsScalar()) return At(source, m, key, "expected an integer");
      int64_t n = 0;
      if (!YAML::convert<int64_t>::decode(v, n)) return At(source, m, key, "expected an integer, got '" + v.as<std::string>() + "'");
      if (n < lo || n > hi) {
        return At(source, m, key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
      }
      return n;
    };
    if (key == "state_dir") continue;
    if (key == "listen") {
      if (!v.IsScalar()) return At(source, m, key, "expected an address");
      c.listen_address = v.as<std::string>();
    } else if (key == "port") {
      EW_ASSIGN_OR_RETURN(int64_t n, integer(0, 65535));
      c.port = static_cast<int>(n);
    } else if (key == "tls_cert") {
      EW_RETURN_IF_ERROR(path(c.tls_cert_path));
    } else if (key == "tls_key") {
      EW_RETURN_IF_ERROR(path(c.tls_key_path));
    } else if (key == "node_ca_cert") {
      EW_RETURN_IF_ERROR(path(c.node_ca_cert_path));
    } else if (key == "node_ca_key") {
      EW_RETURN_IF_ERROR(path(c.node_ca_key_path));
    } else if (key == "ek_ca_bundle") {
      EW_RETURN_IF_ERROR(path(c.ek_ca_bundle_path));
      have_ek_ca = true;
    } else if (key == "database") {
      EW_RETURN_IF_ERROR(path(c.database_path));
    } else if (key == "seal_key") {
      EW_RETURN_IF_ERROR(path(c.x25519_key_path));
    } else if (key == "bundle_root") {
      EW_RETURN_IF_ERROR(path(c.bundle_root_path));
    } else if (key == "reference_dir") {
      EW_RETURN_IF_ERROR(path(c.reference_dir));
    } else if (key == "sync") {
      const std::string s = v.IsScalar() ? v.as<std::string>() : "";
      if (s != "full" && s != "normal") return At(source, m, key, "expected full or normal");
      c.sync_full = s == "full";
    } else if (key == "cert_lifetime_seconds") {
      EW_ASSIGN_OR_RETURN(int64_t n, integer(60, 30 * 86400));
      c.cert_lifetime = std::chrono::seconds(n);
    } else if (key == "nonce_lifetime_seconds") {
      EW_ASSIGN_OR_RETURN(int64_t n, integer(1, 3600));
      c.nonce_lifetime = std::chrono::seconds(n);
    } else if (key == "registration_lifetime_seconds") {
      EW_ASSIGN_OR_RETURN(int64_t n, integer(10, 86400));
      c.registration_lifetime = std::chrono::seconds(n);
    } else if (key == "max_body_bytes") {
      EW_ASSIGN_OR_RETURN(int64_t n, integer(4096, static_cast<int64_t>(kMaxBodyBytes)));
      c.max_body_bytes = static_cast<size_t>(n);
    } else if (key == "threads") {
      EW_ASSIGN_OR_RETURN(int64_t n, integer(0, 1024));
      c.threads = static_cast<int>(n);
    } else if (key == "read_timeout_seconds") {
      EW_ASSIGN_OR_RETURN(int64_t n, integer(1, 300));
      c.read_timeout = std::chrono::seconds(n);
    } else if (key == "write_timeout_seconds") {
      EW_ASSIGN_OR_RETURN(int64_t n, integer(1, 300));
      c.write_timeout = std::chrono::seconds(n);
    } else if (key == "keep_alive_timeout_seconds") {
      EW_ASSIGN_OR_RETURN(int64_t n, integer(1, 300));
      c.keep_alive_timeout = std::chrono::seconds(n);
    } else if (key == "keep_alive_max_requests") {
      EW_ASSIGN_OR_RETURN(int64_t n, integer(1, 1000000));
      c.keep_alive_max_requests = static_cast<size_t>(n);
    } else {
      return At(source, key_mark, key, "unknown setting");
    }
  }
  if (!have_ek_ca) return At(source, root.Mark(), "ek_ca_bundle", "missing (the TPM-manufacturer CA bundle)");
  return c;
}

}  // namespace

StatusOr<VerifierConfig> ParseVerifierConfig(std::string_view yaml, std::string_view source,
                                             const std::string& base_dir) {
  try {
    return Parse(yaml, source, base_dir);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string(source) + ":" + std::to_string(e.mark.line + 1) + ":" +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

StatusOr<VerifierConfig> LoadVerifierConfig(const std::string& path) {
  EW_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, 1u << 20));
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  return ParseVerifierConfig(text, path, dir);
}

}  // namespace edgeward::cloud
