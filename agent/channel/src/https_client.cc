// The HTTPS client on OpenSSL directly: non-blocking sockets with one
// deadline per request, TLS 1.3 only, the configured CA only, host name
// checked by OpenSSL. The bytes on the wire are http_wire.h's.
//
// Why not libcurl (used until 2026-11): libcurl4 drags 30 more shared
// objects (GnuTLS, Kerberos, LDAP, SSH, RTMP…) into a root daemon that
// needs none of them, for about 3.8 MiB of resident memory and a large
// attack surface. What we need — one HTTPS/1.1 request at a time, a
// CONNECT proxy, keep-alive — is small.
#include "edgeward/channel/https_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "edgeward/base/fd.h"
#include "edgeward/channel/http_wire.h"

namespace edgeward::channel {
namespace {

using Clock = std::chrono::steady_clock;

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

// OpenSSL's queued errors, drained, as one string.
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "no OpenSSL error queued" : out;
}

std::string Env(const char* lower, const char* upper) {
  if (const char* v = std::getenv(lower); v != nullptr && *v != '\0') return v;
  if (const char* v = std::getenv(upper); v != nullptr && *v != '\0') return v;
  return "";
}

// OpenSSL writes to the socket with write(2): a peer that has closed would
// raise SIGPIPE and kill the process. For the length of a request, SIGPIPE
// is blocked in this thread and one raised meanwhile is consumed, so the
// library is safe whatever the process does with the signal.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    blocked_ = pthread_sigmask(SIG_BLOCK, &pipe_, &old_) == 0;
  }
  ~SigpipeGuard() {
    if (!blocked_) return;
    sigset_t pending;
    if (!was_pending_ && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
      const timespec zero{0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    (void)pthread_sigmask(SIG_SETMASK, &old_, nullptr);  // restoring a mask we just read cannot fail
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_{};
  sigset_t old_{};
  bool was_pending_ = false;
  bool blocked_ = false;
};

// One open connection (a socket, possibly through a proxy tunnel, and the
// TLS session over it) and the origin it talks to.
struct Connection {
  UniqueFd fd;
  SslPtr ssl;
  std::string origin;  // host:port, as connected
};

}  // namespace

struct HttpsClient::Impl {
  HttpsClientOptions options;
  SslCtxPtr ctx;
  // The client identity, parsed once (the PEM key is wiped on return from
  // SetClientCertificate; EVP_PKEY clears its private parts when freed).
  X509Ptr cert;
  std::vector<X509Ptr> chain;
  PkeyPtr key;
  Status identity_error;
  std::optional<Connection> conn;

  StatusOr<HttpResponse> Perform(const std::string& url, std::string_view method, const std::string* body,
                                 std::string_view content_type, const std::vector<std::string>& headers);
  StatusOr<HttpResponse> Exchange(const std::string& request, Clock::time_point deadline, bool& nothing_received);
  StatusOr<Connection> Connect(const HttpsUrl& u, Clock::time_point deadline);
  StatusOr<UniqueFd> DialTcp(const std::string& host, uint16_t port, Clock::time_point deadline);
  Status Tunnel(int fd, const HttpsUrl& u, const ProxyUrl& proxy, Clock::time_point deadline);
  Status StartTls(Connection& c, const HttpsUrl& u, Clock::time_point deadline);
  Status Wait(int fd, short events, Clock::time_point deadline, std::string_view doing);
  Status TlsIo(Connection& c, int rc, Clock::time_point deadline, std::string_view doing);
  bool StillUsable(Connection& c);
};

namespace {

// Waits for `events` on fd or the caller's cancel fd, until the deadline.
Status PollUntil(int fd, short events, int cancel_fd, Clock::time_point deadline, std::string_view doing) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return Unavailable("timeout while " + std::string(doing));
    pollfd p[2] = {{fd, events, 0}, {cancel_fd, POLLIN, 0}};
    int n = ::poll(p, cancel_fd >= 0 ? 2 : 1, static_cast<int>(std::min<long long>(left, 60'000)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unavailable("poll while " + std::string(doing) + ": " + std::strerror(errno));
    }
    if (cancel_fd >= 0 && (p[1].revents & POLLIN) != 0) return Unavailable("cancelled while " + std::string(doing));
    if (n > 0 && p[0].revents != 0) return Status::Ok();
  }
}

}  // namespace

Status HttpsClient::Impl::Wait(int fd, short events, Clock::time_point deadline, std::string_view doing) {
  return PollUntil(fd, events, options.cancel_fd, deadline, doing);
}

HttpsClient::HttpsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpsClient::HttpsClient(HttpsClient&&) noexcept = default;
HttpsClient& HttpsClient::operator=(HttpsClient&&) noexcept = default;
HttpsClient::~HttpsClient() = default;

StatusOr<HttpsClient> HttpsClient::Create(HttpsClientOptions options) {
  if (options.ca_file.empty()) return InvalidArgument("https client: ca_file is required");
  if (::access(options.ca_file.c_str(), R_OK) != 0) {
    return InvalidArgument("https client: ca_file " + options.ca_file + " is not readable");
  }
  auto impl = std::make_unique<Impl>();
  ERR_clear_error();
  impl->ctx.reset(SSL_CTX_new(TLS_client_method()));
  if (!impl->ctx) return Internal("SSL_CTX_new: " + OpenSslErrors());
  SSL_CTX* ctx = impl->ctx.get();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
    return FailedPrecondition("this OpenSSL has no TLS 1.3: " + OpenSslErrors());
  }
  // Only the configured CA: no default paths, no system store.
  if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
    return InvalidArgument("https client: ca_file " + options.ca_file + ": " + OpenSslErrors());
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Fail early on a proxy setting we can't honour rather than at the first
  // request deep inside the cloud worker.
  if (!options.proxy.empty()) {
    EW_RETURN_IF_ERROR(ParseProxyUrl(options.proxy).status().WithContext("https client"));
  }
  impl->options = std::move(options);
  return HttpsClient(std::move(impl));
}

void HttpsClient::SetClientCertificate(std::string cert_pem, crypto::SecureBytes key_pem) {
  Impl& m = *impl_;
  ClearClientCertificate();
  ERR_clear_error();
  BioPtr cb(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  // Read-only memory BIO over the wiped buffer: OpenSSL decodes from it
  // without keeping a copy of the PEM.
  BioPtr kb(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  if (!cb || !kb) {
    m.identity_error = Internal("BIO_new_mem_buf: " + OpenSslErrors());
    return;
  }
  m.cert.reset(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
  if (!m.cert) {
    m.identity_error = InvalidArgument("client certificate: not a PEM certificate: " + OpenSslErrors());
    return;
  }
  while (X509* extra = PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr)) m.chain.emplace_back(extra);
  ERR_clear_error();  // the loop ends on a "no start line" error
  m.key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
  if (!m.key) {
    m.cert.reset();
    m.chain.clear();
    m.identity_error = InvalidArgument("client key: not a PEM private key: " + OpenSslErrors());
    return;
  }
  if (X509_check_private_key(m.cert.get(), m.key.get()) != 1) {
    m.cert.reset();
    m.chain.clear();
    m.key.reset();
    m.identity_error = InvalidArgument("client key does not match the client certificate");
    ERR_clear_error();
  }
}

void HttpsClient::ClearClientCertificate() {
  Impl& m = *impl_;
  m.cert.reset();
  m.chain.clear();
  m.key.reset();
  m.identity_error = Status::Ok();
  // A new identity must not ride on a connection made with the old one.
  m.conn.reset();
}

StatusOr<HttpResponse> HttpsClient::Get(const std::string& url, const std::vector<std::string>& headers) {
  return impl_->Perform(url, "GET", nullptr, "", headers);
}

StatusOr<HttpResponse> HttpsClient::Post(const std::string& url, std::string_view body,
                                         std::string_view content_type, const std::vector<std::string>& headers) {
  std::string b(body);
  return impl_->Perform(url, "POST", &b, content_type, headers);
}

StatusOr<HttpResponse> HttpsClient::Impl::Perform(const std::string& url, std::string_view method,
                                                  const std::string* body, std::string_view content_type,
                                                  const std::vector<std::string>& headers) {
  EW_ASSIGN_OR_RETURN(HttpsUrl u, ParseHttpsUrl(url));
  EW_RETURN_IF_ERROR(identity_error.WithContext(url));
  EW_ASSIGN_OR_RETURN(std::string request, FormatRequest(method, u, headers, body, content_type));
  const Clock::time_point deadline = Clock::now() + options.total_timeout;
  SigpipeGuard no_sigpipe;
  auto named = [&](const Status& s) { return Status(s.code(), url + ": " + s.message()); };
  // A kept-alive connection the server has since closed fails before any
  // response byte; then (only then) the request goes once more on a fresh
  // connection, as curl does.
  const bool reused = conn.has_value() && conn->origin == u.Authority() && StillUsable(*conn);
  if (!reused) conn.reset();
  for (int attempt = reused ? 0 : 1; attempt < 2; ++attempt) {
    if (!conn) {
      auto c = Connect(u, deadline);
      if (!c.ok()) return named(c.status());
      conn = std::move(*c);
    }
    bool nothing_received = false;
    auto r = Exchange(request, deadline, nothing_received);
    if (r.ok()) return r;
    conn.reset();
    if (attempt == 0 && nothing_received && r.status().code() == StatusCode::kUnavailable &&
        r.status().message().find("timeout") == std::string::npos) {
      continue;
    }
    return named(r.status());
  }
  return Internal(url + ": unreachable");
}

// After a response, the server may have closed the idle connection or sent
// TLS 1.3 session tickets. A non-blocking peek tells the two apart.
bool HttpsClient::Impl::StillUsable(Connection& c) {
  // Bytes already inside OpenSSL (a decrypted record or a partial one) were
  // never asked for: the stream is not at a response boundary any more.
  if (SSL_pending(c.ssl.get()) > 0 || SSL_has_pending(c.ssl.get()) == 1) return false;
  pollfd p{c.fd.get(), POLLIN, 0};
  int n = ::poll(&p, 1, 0);
  if (n < 0) return false;
  if (n == 0) return true;
  char byte;
  ERR_clear_error();
  int rc = SSL_peek(c.ssl.get(), &byte, 1);
  if (rc > 0) return false;  // unsolicited data: not a clean stream any more
  const int err = SSL_get_error(c.ssl.get(), rc);
  ERR_clear_error();
  return err == SSL_ERROR_WANT_READ;
}

StatusOr<UniqueFd> HttpsClient::Impl::DialTcp(const std::string& host, uint16_t port, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  // getaddrinfo can't be given a deadline; numeric hosts never block.
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
    return Unavailable("resolving " + host + ": " + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> list(res, ::freeaddrinfo);
  Status last = Unavailable("resolving " + host + ": no address");
  const Clock::time_point connect_deadline = std::min(deadline, Clock::now() + options.connect_timeout);
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
    if (!fd.valid()) {
      last = Unavailable(std::string("socket: ") + std::strerror(errno));
      continue;
    }
    const int one = 1;
    if (::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
      return Internal(std::string("setsockopt(TCP_NODELAY): ") + std::strerror(errno));
    }
    const std::string where = host + " port " + service;
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = Unavailable("connecting to " + where + ": " + std::strerror(errno));
        continue;
      }
      Status w = Wait(fd.get(), POLLOUT, connect_deadline, "connecting to " + where);
      if (!w.ok()) {
        last = w;
        if (w.message().find("cancelled") != std::string::npos) return w;
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err != 0) {
        last = Unavailable("connecting to " + where + ": " + std::strerror(err));
        continue;
      }
    }
    return fd;
  }
  return last;
}

// Plain-text CONNECT through an HTTP proxy; on return the socket is a
// tunnel to u's origin, and the TLS session goes end to end through it.
Status HttpsClient::Impl::Tunnel(int fd, const HttpsUrl& u, const ProxyUrl& proxy, Clock::time_point deadline) {
  const std::string req = FormatConnect(u, proxy);
  size_t off = 0;
  while (off < req.size()) {
    ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      EW_RETURN_IF_ERROR(Wait(fd, POLLOUT, deadline, "sending CONNECT to the proxy"));
      continue;
    }
    if (n < 0) return Unavailable(std::string("proxy: send: ") + std::strerror(errno));
    off += static_cast<size_t>(n);
  }
  HttpResponseParser parser(0, HttpResponseParser::Mode::kConnect);
  char buf[4096];
  while (!parser.done()) {
    // Byte-exact: nothing of the TLS stream may be read here, so read only
    // what the proxy sent (it sends nothing more before our ClientHello).
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      EW_RETURN_IF_ERROR(Wait(fd, POLLIN, deadline, "waiting for the proxy's answer to CONNECT"));
      continue;
    }
    if (n < 0) return Unavailable(std::string("proxy: recv: ") + std::strerror(errno));
    if (n == 0) return Unavailable("proxy closed the connection during CONNECT");
    auto used = parser.Feed(std::string_view(buf, static_cast<size_t>(n)));
    if (!used.ok()) return Unavailable("proxy: " + used.status().message());
    if (*used != static_cast<size_t>(n)) return Unavailable("proxy sent data after its answer to CONNECT");
  }
  if (parser.status() < 200 || parser.status() > 299) {
    return Unavailable("proxy " + proxy.Authority() + " refused CONNECT " + u.Authority() + " with status " +
                       std::to_string(parser.status()));
  }
  return Status::Ok();
}

Status HttpsClient::Impl::TlsIo(Connection& c, int rc, Clock::time_point deadline, std::string_view doing) {
  const int err = SSL_get_error(c.ssl.get(), rc);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      ERR_clear_error();
      return Wait(c.fd.get(), POLLIN, deadline, doing);
    case SSL_ERROR_WANT_WRITE:
      ERR_clear_error();
      return Wait(c.fd.get(), POLLOUT, deadline, doing);
    case SSL_ERROR_SYSCALL: {
      const int e = errno;
      const std::string queued = OpenSslErrors();
      return Unavailable(std::string(doing) + ": " + (e != 0 ? std::strerror(e) : "connection closed") +
                         (queued == "no OpenSSL error queued" ? "" : " (" + queued + ")"));
    }
    case SSL_ERROR_ZERO_RETURN:
      ERR_clear_error();
      return Unavailable(std::string(doing) + ": the server closed the TLS session");
    default:
      return Unavailable(std::string(doing) + ": TLS error: " + OpenSslErrors());
  }
}

Status HttpsClient::Impl::StartTls(Connection& c, const HttpsUrl& u, Clock::time_point deadline) {
  ERR_clear_error();
  c.ssl.reset(SSL_new(ctx.get()));
  if (!c.ssl) return Internal("SSL_new: " + OpenSslErrors());
  SSL* ssl = c.ssl.get();
  if (SSL_set_fd(ssl, c.fd.get()) != 1) return Internal("SSL_set_fd: " + OpenSslErrors());
  // The name (or address) the certificate must carry; SNI only for names.
  if (u.host_is_ip) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), u.host.c_str()) != 1) {
      return Internal("X509_VERIFY_PARAM_set1_ip_asc: " + OpenSslErrors());
    }
  } else {
    if (SSL_set1_host(ssl, u.host.c_str()) != 1) return Internal("SSL_set1_host: " + OpenSslErrors());
    if (SSL_set_tlsext_host_name(ssl, u.host.c_str()) != 1) {
      return Internal("SSL_set_tlsext_host_name: " + OpenSslErrors());
    }
  }
  if (cert) {
    if (SSL_use_certificate(ssl, cert.get()) != 1 || SSL_use_PrivateKey(ssl, key.get()) != 1) {
      return Internal("setting the client certificate: " + OpenSslErrors());
    }
    for (const X509Ptr& x : chain) {
      if (SSL_add1_chain_cert(ssl, x.get()) != 1) return Internal("SSL_add1_chain_cert: " + OpenSslErrors());
    }
  }
  for (;;) {
    ERR_clear_error();
    int rc = SSL_connect(ssl);
    if (rc == 1) return Status::Ok();
    const int err = SSL_get_error(ssl, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      EW_RETURN_IF_ERROR(TlsIo(c, rc, deadline, "TLS handshake"));
      continue;
    }
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      ERR_clear_error();
      return PermissionDenied(std::string("server certificate verification failed: ") +
                              X509_verify_cert_error_string(verify));
    }
    if (err == SSL_ERROR_SSL) {
      // A protocol refusal (no common version, a bad alert, a rejected
      // client certificate): not something a retry fixes.
      return PermissionDenied("TLS handshake failed: " + OpenSslErrors());
    }
    return TlsIo(c, rc, deadline, "TLS handshake");
  }
}

StatusOr<Connection> HttpsClient::Impl::Connect(const HttpsUrl& u, Clock::time_point deadline) {
  std::optional<ProxyUrl> proxy;
  std::string proxy_text = options.proxy.empty() ? Env("https_proxy", "HTTPS_PROXY") : options.proxy;
  if (!proxy_text.empty() && !NoProxyMatches(Env("no_proxy", "NO_PROXY"), u.host)) {
    EW_ASSIGN_OR_RETURN(proxy, ParseProxyUrl(proxy_text));
  }
  Connection c;
  c.origin = u.Authority();
  if (proxy) {
    EW_ASSIGN_OR_RETURN(c.fd, DialTcp(proxy->host, proxy->port, deadline));
    EW_RETURN_IF_ERROR(Tunnel(c.fd.get(), u, *proxy, deadline));
  } else {
    EW_ASSIGN_OR_RETURN(c.fd, DialTcp(u.host, u.port, deadline));
  }
  EW_RETURN_IF_ERROR(StartTls(c, u, deadline));
  return c;
}

StatusOr<HttpResponse> HttpsClient::Impl::Exchange(const std::string& request, Clock::time_point deadline,
                                                   bool& nothing_received) {
  Connection& c = *conn;
  size_t off = 0;
  nothing_received = true;
  while (off < request.size()) {
    ERR_clear_error();
    size_t written = 0;
    int rc = SSL_write_ex(c.ssl.get(), request.data() + off, request.size() - off, &written);
    if (rc == 1) {
      off += written;
      continue;
    }
    EW_RETURN_IF_ERROR(TlsIo(c, rc, deadline, "sending the request"));
  }
  HttpResponseParser parser(options.max_response_bytes);
  std::string buf(16 << 10, '\0');
  while (!parser.done()) {
    ERR_clear_error();
    size_t got = 0;
    int rc = SSL_read_ex(c.ssl.get(), buf.data(), buf.size(), &got);
    if (rc == 1) {
      nothing_received = false;
      EW_ASSIGN_OR_RETURN(size_t used, parser.Feed(std::string_view(buf.data(), got)));
      if (used != got) return Unavailable("the server sent more than one response");
      continue;
    }
    const int err = SSL_get_error(c.ssl.get(), rc);
    if (err == SSL_ERROR_ZERO_RETURN) {
      ERR_clear_error();
      EW_RETURN_IF_ERROR(parser.FinishOnEof());
      break;
    }
    EW_RETURN_IF_ERROR(TlsIo(c, rc, deadline, "reading the response"));
  }
  HttpResponse r;
  r.status = parser.status();
  r.etag = parser.Header("etag");
  r.content_type = parser.Header("content-type");
  r.body = std::move(parser.mutable_body());
  if (!parser.keep_alive()) conn.reset();
  return r;
}

}  // namespace edgeward::channel
