#include <openssl/err.h>

#include <string>

#include "edgeward/crypto/openssl_ptr.h"

namespace edgeward::crypto {

Status OpensslError(std::string_view call, StatusCode code) {
  std::string m(call);
  m += " failed";
  bool first = true;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    m += first ? ": " : "; ";
    m += buf;
    first = false;
  }
  return Status(code, std::move(m));
}

}  // namespace edgeward::crypto
