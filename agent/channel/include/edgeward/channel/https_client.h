// HttpsClient: the node's one HTTP client (libcurl, OpenSSL backend) for
// talking to the verifier. TLS 1.3 only; the server is always verified
// against the configured CA file and host name — there is no switch to turn
// verification off. A client certificate and key can be given from memory
// (the node's TLS identity, node_identity.h). HTTPS_PROXY / NO_PROXY in the
// environment are honoured (libcurl's own handling) unless `proxy` is set.
//
// Responses are bounded (max_response_bytes) and every request has a
// connect and a total timeout. Errors name the URL and libcurl's error:
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
  // "http://proxy:3128".
  std::string proxy;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string etag;          // the ETag header, as sent (quotes included)
  std::string content_type;
};

class HttpsClient {
 public:
  // ca_file empty or unreadable → kInvalidArgument; libcurl without TLS 1.3
  // or blob support → kFailedPrecondition.
  static StatusOr<HttpsClient> Create(HttpsClientOptions options);
  HttpsClient(HttpsClient&&) noexcept;
  HttpsClient& operator=(HttpsClient&&) noexcept;
  ~HttpsClient();

  // Presents this certificate (PEM, possibly with its chain) and private key
  // (PEM; kept in wiped memory, never copied by libcurl) from now on.
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
  StatusOr<HttpResponse> Perform(const std::string& url, const std::string* post_body, std::string_view content_type,
                                 const std::vector<std::string>& headers);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgeward::channel
