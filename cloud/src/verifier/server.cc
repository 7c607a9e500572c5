// The HTTPS front on cpp-httplib: TLS set-up, routing, and mapping each
// request's verified client certificate to a Caller. Request handling
// itself is in Service.
#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "edgeward/base/log.h"
#include "edgeward/cloud/verifier.h"

namespace edgeward::cloud {
namespace {

// The CN of the client certificate TLS verified, if the client sent one.
Caller CallerOf(const httplib::Request& req) {
  Caller c;
  if (req.ssl == nullptr) return c;
  const X509* cert = SSL_get0_peer_certificate(req.ssl);
  // With SSL_VERIFY_PEER a certificate that fails verification aborts the
  // handshake; checking the result again costs nothing.
  if (cert == nullptr || SSL_get_verify_result(req.ssl) != X509_V_OK) return c;
  const X509_NAME* name = X509_get_subject_name(cert);
  const int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return c;
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  if (data == nullptr) return c;
  c.cert_cn = std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                          static_cast<size_t>(ASN1_STRING_length(data)));
  return c;
}

void Send(httplib::Response& res, HttpReply reply) {
  res.status = reply.status;
  for (auto& [k, v] : reply.headers) res.set_header(k, v);
  if (reply.status == 304) return;
  res.set_content(std::move(reply.body), reply.content_type);
}

}  // namespace

struct VerifierServer::Impl {
  std::unique_ptr<Service> service;
  std::unique_ptr<httplib::SSLServer> server;
  std::thread thread;
  // Stop() (e.g. from a signal thread) and Wait() (the main thread) may run
  // at the same time; joining one std::thread from two threads is undefined
  // (and in practice hangs the second joiner), so joins are serialised.
  std::mutex join_mutex;
  int port = 0;

  void Join() {
    std::lock_guard<std::mutex> lock(join_mutex);
    if (thread.joinable()) thread.join();
  }
};

VerifierServer::VerifierServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VerifierServer::~VerifierServer() { Stop(); }
int VerifierServer::port() const { return impl_->port; }
Service& VerifierServer::service() { return *impl_->service; }

void VerifierServer::Stop() {
  if (impl_->server) impl_->server->stop();
  impl_->Join();
}

void VerifierServer::Wait() { impl_->Join(); }

StatusOr<std::unique_ptr<VerifierServer>> VerifierServer::Start(const VerifierConfig& config) {
  auto impl = std::make_unique<Impl>();
  EW_ASSIGN_OR_RETURN(impl->service, Service::Create(config));
  std::string tls_error;
  impl->server = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
    // TLS 1.3 only: no downgrade to suites without forward secrecy.
    if (SSL_CTX_set_min_proto_version(&ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(&ctx, TLS1_3_VERSION) != 1) {
      tls_error = "SSL_CTX_set_min_proto_version(TLS 1.3) failed";
      return false;
    }
    if (SSL_CTX_use_certificate_chain_file(&ctx, config.tls_cert_path.c_str()) != 1) {
      tls_error = "SSL_CTX_use_certificate_chain_file " + config.tls_cert_path;
      return false;
    }
    if (SSL_CTX_use_PrivateKey_file(&ctx, config.tls_key_path.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(&ctx) != 1) {
      tls_error = "SSL_CTX_use_PrivateKey_file " + config.tls_key_path + " (or it does not match the certificate)";
      return false;
    }
    if (SSL_CTX_load_verify_locations(&ctx, config.node_ca_cert_path.c_str(), nullptr) != 1) {
      tls_error = "SSL_CTX_load_verify_locations " + config.node_ca_cert_path;
      return false;
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.node_ca_cert_path.c_str());
    if (names == nullptr) {
      tls_error = "SSL_load_client_CA_file " + config.node_ca_cert_path;
      return false;
    }
    SSL_CTX_set_client_CA_list(&ctx, names);  // takes ownership
    // Request and verify a client certificate, but don't require one:
    // registration and first attestation come before a node has one.
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_options(&ctx, SSL_OP_NO_RENEGOTIATION);
    return true;
  });
  if (!impl->server->is_valid()) {
    ERR_clear_error();
    return InvalidArgument("TLS set-up: " + (tls_error.empty() ? std::string("SSL_CTX_new failed") : tls_error));
  }
  httplib::SSLServer& srv = *impl->server;
  const size_t threads = config.threads > 0 ? static_cast<size_t>(config.threads)
                                            : std::max<size_t>(4, std::thread::hardware_concurrency());
  srv.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Headers and body go out in separate writes: without TCP_NODELAY, Nagle
  // plus the peer's delayed ACK add ~40 ms to every keep-alive response.
  srv.set_tcp_nodelay(true);
  srv.set_payload_max_length(config.max_body_bytes);
  srv.set_read_timeout(config.read_timeout);
  srv.set_write_timeout(config.write_timeout);
  srv.set_keep_alive_timeout(config.keep_alive_timeout.count());
  srv.set_keep_alive_max_count(config.keep_alive_max_requests);
  srv.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string reason = res.status == 413   ? "request body too large"
                         : res.status == 404 ? "no such endpoint"
                         : res.status == 405 ? "method not allowed"
                                             : "malformed request";
    res.set_content(EncodeErrorResponse({reason + " (HTTP " + std::to_string(res.status) + ")"}), "application/json");
  });
  srv.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(EncodeErrorResponse({"internal error"}), "application/json");
  });

  Service* svc = impl->service.get();
  const std::string p(kApiPrefix);
  srv.Get(p + "/verifier-info", [svc](const httplib::Request&, httplib::Response& res) { Send(res, svc->VerifierInfo()); });
  srv.Post(p + "/register", [svc](const httplib::Request& req, httplib::Response& res) { Send(res, svc->Register(req.body)); });
  srv.Post(p + "/activate", [svc](const httplib::Request& req, httplib::Response& res) { Send(res, svc->Activate(req.body)); });
  srv.Post(p + "/challenge", [svc](const httplib::Request& req, httplib::Response& res) {
    Send(res, svc->IssueChallenge(req.body, CallerOf(req)));
  });
  srv.Post(p + "/evidence", [svc](const httplib::Request& req, httplib::Response& res) {
    Send(res, svc->SubmitEvidence(req.body, CallerOf(req)));
  });
  srv.Post(p + "/events", [svc](const httplib::Request& req, httplib::Response& res) {
    Send(res, svc->IngestEvents(req.body, CallerOf(req)));
  });
  srv.Get(p + "/bundle", [svc](const httplib::Request& req, httplib::Response& res) {
    Send(res, svc->FetchBundle(CallerOf(req), req.get_header_value("If-None-Match")));
  });
  srv.Get(p + R"(/nodes/([A-Za-z0-9._-]{1,64}))", [svc](const httplib::Request& req, httplib::Response& res) {
    Send(res, svc->GetNode(req.matches[1].str(), CallerOf(req)));
  });
  srv.Get(p + R"(/nodes/([A-Za-z0-9._-]{1,64})/verdicts)", [svc](const httplib::Request& req, httplib::Response& res) {
    Send(res, svc->ListVerdicts(req.matches[1].str(), CallerOf(req)));
  });
  srv.Get(p + "/admin/nodes", [svc](const httplib::Request& req, httplib::Response& res) {
    Send(res, svc->ListNodes(CallerOf(req)));
  });
  srv.Post(p + R"(/admin/nodes/([A-Za-z0-9._-]{1,64})/revoke)", [svc](const httplib::Request& req, httplib::Response& res) {
    Send(res, svc->RevokeNode(req.matches[1].str(), CallerOf(req)));
  });
  srv.Put(p + R"(/admin/groups/([A-Za-z0-9._-]{1,64})/reference)", [svc](const httplib::Request& req, httplib::Response& res) {
    Send(res, svc->PutReference(req.matches[1].str(), req.body, CallerOf(req)));
  });
  srv.Post(p + "/admin/bundles", [svc](const httplib::Request& req, httplib::Response& res) {
    Send(res, svc->PublishBundle(req.body, CallerOf(req)));
  });

  if (config.port == 0) {
    impl->port = srv.bind_to_any_port(config.listen_address);
    if (impl->port <= 0) return Unavailable("bind " + config.listen_address + ":<any> failed");
  } else {
    if (!srv.bind_to_port(config.listen_address, config.port)) {
      return Unavailable("bind " + config.listen_address + ":" + std::to_string(config.port) + " failed");
    }
    impl->port = config.port;
  }
  impl->thread = std::thread([&srv] { srv.listen_after_bind(); });
  // listen_after_bind marks the server running only once it is inside the
  // accept loop; wait so that Stop() right after Start() can't be lost.
  for (int i = 0; i < 5000 && !srv.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return std::unique_ptr<VerifierServer>(new VerifierServer(std::move(impl)));
}

}  // namespace edgeward::cloud
