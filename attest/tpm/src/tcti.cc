#include "edgeward/tpm/tcti.h"

#include <unistd.h>

#include <charconv>
#include <vector>

namespace edgeward::tpm {
namespace {

constexpr const char* kHint =
    "pass --tcti, e.g. --tcti swtpm:host=127.0.0.1,port=2321 or --tcti device:/dev/tpmrm0";

bool PathExists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

StatusOr<TctiConfig> AutoDetect(const std::function<bool(const std::string&)>& device_exists) {
  for (const char* dev : {"/dev/tpmrm0", "/dev/tpm0"}) {
    if (device_exists(dev)) return TctiConfig{"device", dev};
  }
  return NotFound(std::string("no TPM found: neither /dev/tpmrm0 nor /dev/tpm0 exists; ") + kHint);
}

// host=H,port=P for the swtpm and mssim TCTIs.
Status ValidateSocketConf(std::string_view name, std::string_view conf) {
  if (conf.empty()) return Status::Ok();
  size_t pos = 0;
  while (pos <= conf.size()) {
    size_t end = conf.find(',', pos);
    if (end == std::string_view::npos) end = conf.size();
    std::string_view item = conf.substr(pos, end - pos);
    size_t eq = item.find('=');
    std::string where = "TCTI '" + std::string(name) + "': ";
    if (eq == std::string_view::npos) {
      return InvalidArgument(where + "'" + std::string(item) + "' is not key=value (expected host=H,port=P)");
    }
    std::string_view key = item.substr(0, eq);
    std::string_view value = item.substr(eq + 1);
    if (key == "host") {
      if (value.empty()) return InvalidArgument(where + "host is empty");
    } else if (key == "port") {
      unsigned port = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), port);
      if (value.empty() || ec != std::errc() || p != value.data() + value.size() || port == 0 ||
          port > 65535) {
        return InvalidArgument(where + "port '" + std::string(value) + "' is not a number in 1-65535");
      }
    } else {
      return InvalidArgument(where + "unknown key '" + std::string(key) + "' (expected host or port)");
    }
    pos = end + 1;
  }
  return Status::Ok();
}

bool IsModuleNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '/';
}

}  // namespace

std::string TctiConfig::ToString() const { return conf.empty() ? name : name + ":" + conf; }

StatusOr<TctiConfig> ResolveTcti(std::string_view config) { return ResolveTcti(config, PathExists); }

StatusOr<TctiConfig> ResolveTcti(std::string_view config,
                                 const std::function<bool(const std::string&)>& device_exists) {
  if (config.empty()) return AutoDetect(device_exists);
  size_t colon = config.find(':');
  TctiConfig t;
  t.name = std::string(config.substr(0, colon));
  if (colon != std::string_view::npos) t.conf = std::string(config.substr(colon + 1));
  if (t.name.empty())
    return InvalidArgument("TCTI '" + std::string(config) + "': missing name before ':'; " + kHint);
  for (char c : t.name) {
    if (!IsModuleNameChar(c)) {
      return InvalidArgument("TCTI '" + std::string(config) + "': bad character in name '" + t.name + "'");
    }
  }
  if (t.name == "device") {
    if (t.conf.empty()) return AutoDetect(device_exists);
    if (t.conf[0] != '/') return InvalidArgument("TCTI 'device': '" + t.conf + "' is not an absolute path");
    if (!device_exists(t.conf)) return NotFound("TCTI 'device': " + t.conf + " does not exist; " + kHint);
    return t;
  }
  if (t.name == "swtpm" || t.name == "mssim") {
    EW_RETURN_IF_ERROR(ValidateSocketConf(t.name, t.conf));
    return t;
  }
  return t;  // tabrmd and other modules: tctildr validates their conf
}

}  // namespace edgeward::tpm
