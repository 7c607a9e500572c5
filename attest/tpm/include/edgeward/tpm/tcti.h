// TCTI configuration: which transport reaches the TPM.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "edgeward/base/status.h"

namespace edgeward::tpm {

// A TCTI as Tss2_TctiLdr understands it: a module name and its
// configuration string.
struct TctiConfig {
  std::string name;  // "device", "swtpm", "mssim", "tabrmd", or a module name/path
  std::string conf;  // "/dev/tpmrm0", "host=127.0.0.1,port=2321", ...

  // "name:conf" (or "name" when conf is empty): the tctildr string.
  std::string ToString() const;
  bool operator==(const TctiConfig&) const = default;
};

// Parses and validates a --tcti value:
//   ""                              auto-detect: /dev/tpmrm0, then /dev/tpm0
//   "device:/dev/tpmrm0"            a character device ("device:" alone
//                                   auto-detects like "")
//   "swtpm:host=H,port=P"           swtpm / mssim simulators; only the keys
//   "mssim:host=H,port=P"           host and port (1-65535), each optional
//   "tabrmd:" / "tabrmd:bus_name=…" the access broker; conf passed through
//   "NAME[:CONF]"                   any other tctildr module, passed through
// Errors: kInvalidArgument naming the bad part; kNotFound when auto-detection
// finds no device (the message says to pass --tcti, e.g.
// swtpm:host=127.0.0.1,port=2321).
StatusOr<TctiConfig> ResolveTcti(std::string_view config);

// As above, with the test for a device path's existence injected (tests).
StatusOr<TctiConfig> ResolveTcti(std::string_view config,
                                 const std::function<bool(const std::string&)>& device_exists);

}  // namespace edgeward::tpm
