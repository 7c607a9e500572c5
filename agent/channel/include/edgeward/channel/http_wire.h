// The HTTP/1.1 wire format as the node's HTTPS client speaks it: URL
// parsing, request formatting, the proxy environment, and an incremental
// response parser. Everything here is pure (no I/O), so it is unit-tested
// and fuzzed on its own (fuzz/http_response_fuzzer.cc); https_client.cc
// moves the bytes.
//
// The response parser reads what a possibly hostile server or proxy sends,
// so it is strict where laxness enables smuggling or unbounded memory:
//   - the header block is bounded (kMaxHeaderBytes) and so is the body
//     (max_body_bytes → kResourceExhausted);
//   - Content-Length must be digits only; two different values, or a
//     Content-Length together with Transfer-Encoding, are an error;
//   - Transfer-Encoding other than exactly "chunked" is an error;
//   - obsolete line folding, a header name with spaces, bare CR are errors.
// Errors are kUnavailable ("the server answered garbage; try again later")
// with what was wrong, except an oversize body (kResourceExhausted).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgeward/base/status.h"

namespace edgeward::channel {

inline constexpr size_t kMaxHeaderBytes = 64 << 10;  // status line + headers (+ trailers)

struct HttpsUrl {
  std::string host;  // a DNS name, an IPv4 literal, or an IPv6 literal without brackets
  uint16_t port = 443;
  std::string target;  // path + query, always starting with '/'
  bool host_is_ip = false;
  // host:port as a Host header / CONNECT target writes it ([v6]:port).
  std::string Authority() const;
};

// "https://host[:port][/path]". No user info, no fragment; the host must be
// a DNS name ([A-Za-z0-9.-]), an IPv4 literal or a bracketed IPv6 literal;
// the target must be printable ASCII without spaces. kInvalidArgument
// naming the URL otherwise.
StatusOr<HttpsUrl> ParseHttpsUrl(std::string_view url);

// An HTTP proxy ("http://[user:pass@]host[:port]", scheme optional, port
// defaulting to 1080 as curl does). HTTPS-to-the-proxy is not supported.
struct ProxyUrl {
  std::string host;
  uint16_t port = 1080;
  std::string basic_auth;  // "user:pass" or empty
  std::string Authority() const;
};
StatusOr<ProxyUrl> ParseProxyUrl(std::string_view url);

// Whether `host` is excluded from proxying by a NO_PROXY value: a comma
// separated list of "*", host names (matching the name and its sub-domains,
// a leading dot optional) and IP literals (exact). Case-insensitive.
bool NoProxyMatches(std::string_view no_proxy, std::string_view host);

// The request bytes: request line, Host, the caller's header lines (each
// must be "Name: value" without CR/LF), Content-Type and Content-Length
// for a body. kInvalidArgument for a bad header line.
StatusOr<std::string> FormatRequest(std::string_view method, const HttpsUrl& url,
                                    const std::vector<std::string>& headers, const std::string* body,
                                    std::string_view content_type);

// "CONNECT host:port HTTP/1.1" with Host and, if given, Proxy-Authorization.
std::string FormatConnect(const HttpsUrl& target, const ProxyUrl& proxy);

class HttpResponseParser {
 public:
  enum class Mode {
    kNormal,   // a response to GET/POST
    kConnect,  // a response to CONNECT: a 2xx has no body
  };
  HttpResponseParser(size_t max_body_bytes, Mode mode = Mode::kNormal);

  // Consumes bytes; returns how many were used (fewer than given only once
  // the response is complete: the rest belongs to nobody and the
  // connection must not be reused). 1xx interim responses are skipped.
  StatusOr<size_t> Feed(std::string_view data);
  // The peer closed the connection: completes a body delimited by close,
  // an error anywhere else.
  Status FinishOnEof();

  bool done() const { return state_ == State::kDone; }
  bool started() const { return seen_bytes_ > 0; }
  int status() const { return status_; }
  const std::string& body() const { return body_; }
  std::string& mutable_body() { return body_; }
  // The last value of a header, by lower-case name ("" if absent).
  std::string Header(std::string_view lower_name) const;
  // Whether the connection may carry another request after this response.
  bool keep_alive() const { return keep_alive_; }

 private:
  enum class State { kStatusLine, kHeaders, kBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailers, kUntilClose,
                     kDone };
  StatusOr<bool> TakeLine(std::string_view data, size_t& used, std::string& line);
  Status OnStatusLine(const std::string& line);
  Status OnHeaderLine(const std::string& line);
  Status OnHeadersEnd();
  Status AppendBody(std::string_view bytes);

  size_t max_body_;
  Mode mode_;
  State state_ = State::kStatusLine;
  std::string partial_;  // the unfinished line
  size_t header_bytes_ = 0;
  size_t seen_bytes_ = 0;
  int status_ = 0;
  bool http10_ = false;
  bool keep_alive_ = true;
  std::vector<std::pair<std::string, std::string>> headers_;
  bool has_length_ = false;
  uint64_t length_ = 0;
  bool chunked_ = false;
  uint64_t remaining_ = 0;  // of the body or of the current chunk
  std::string body_;
};

}  // namespace edgeward::channel
