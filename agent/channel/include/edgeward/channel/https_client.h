// HttpsClient: the node's one HTTP client for talking to the verifier,
// HTTP/1.1 over OpenSSL (wire format: http_wire.h). TLS 1.3 only; the server
// is always verified against the configured CA file (only) and the URL's
// host name or IP address — there is no switch to turn verification off. A
// client certificate and key can be given from memory (the node's TLS
// identity, node_identity.h). https_proxy / HTTPS_PROXY and no_proxy /
// NO_PROXY in the environment are honoured (an http:// proxy, CONNECT
// tunnel) unless `proxy` is set; `proxy` still honours NO_PROXY.
//
// Responses are bounded (max_response_bytes) and every request has a
// connect and a total timeout, and can be cancelled from another thread
// through `cancel_fd`. Errors name the URL and what failed:
//   certificate / TLS verification failure    → kPermissionDenied
//   connect failure, timeout, proxy, DNS, I/O  → kUnavailable (retry later)
//   response over max_response_bytes           → kResourceExhausted
//   a non-https URL                            → kInvalidArgument
// An HTTP error status is not an error: it comes back in HttpResponse.
//
// Move-only; one request at a time (not thread-safe). The connection is
// reused between requests.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "edgeward/base/status.h"
#include "edgeward/crypto/secure_bytes.h"

namespace edgeward::channel {

struct HttpsClientOptions {
  std::string ca_file;  // PEM bundle the server certificate must chain to (required)
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{30'000};
  size_t max_response_bytes = 32u << 20;
  // "" → from the environment (HTTPS_PROXY, NO_PROXY); else e.g.
  // "http://proxy:3128" (an unparsable value fails Create).
  std::string proxy;
  // Not owned; -1 for none. While it is readable (an eventfd written by
  // another thread), every wait of a request ends at once with kUnavailable
  // "cancelled …": how a stopping daemon interrupts a request in flight.
  int cancel_fd = -1;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string etag;          // the ETag header, as sent (quotes included)
  std::string content_type;
};

class HttpsClient {
 public:
  // ca_file empty, unreadable or not PEM, or a bad proxy → kInvalidArgument;
  // an OpenSSL without TLS 1.3 → kFailedPrecondition.
  static StatusOr<HttpsClient> Create(HttpsClientOptions options);
  HttpsClient(HttpsClient&&) noexcept;
  HttpsClient& operator=(HttpsClient&&) noexcept;
  ~HttpsClient();

  // Presents this certificate (PEM, possibly with its chain) and private key
  // (PEM; parsed at once, the PEM buffer wiped on return) from now on. A
  // certificate or key that doesn't parse or match makes every request fail
  // with kInvalidArgument until the next Set/Clear.
  void SetClientCertificate(std::string cert_pem, crypto::SecureBytes key_pem);
  void ClearClientCertificate();

  // `headers` are full header lines ("If-None-Match: \"abc\"").
  StatusOr<HttpResponse> Get(const std::string& url, const std::vector<std::string>& headers = {});
  StatusOr<HttpResponse> Post(const std::string& url, std::string_view body,
                              std::string_view content_type = "application/json",
                              const std::vector<std::string>& headers = {});

  struct Impl;

 private:
  explicit HttpsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgeward::channel
