#include "edgeward/channel/https_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace edgeward::channel {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

Status GlobalInit() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (rc != CURLE_OK) return Internal(std::string("curl_global_init: ") + curl_easy_strerror(rc));
  return Status::Ok();
}

struct Sink {
  std::string* body;
  size_t max;
  bool overflow = false;
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t bytes = size * n;
  if (sink->body->size() + bytes > sink->max) {
    sink->overflow = true;
    return 0;  // makes libcurl abort the transfer with CURLE_WRITE_ERROR
  }
  sink->body->append(data, bytes);
  return bytes;
}

size_t ReadHeader(char* data, size_t size, size_t n, void* user) {
  auto* resp = static_cast<HttpResponse*>(user);
  std::string_view line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    if (name == "etag") resp->etag = std::string(value);
    if (name == "content-type") resp->content_type = std::string(value);
  }
  return size * n;
}

Status CurlStatus(CURLcode rc, const std::string& url, const char* errbuf) {
  std::string msg = url + ": " + curl_easy_strerror(rc) + (errbuf[0] ? std::string(" (") + errbuf + ")" : "");
  switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return PermissionDenied(msg);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return InvalidArgument(msg);
    default:
      return Unavailable(msg);
  }
}

#define EW_CURL_SETOPT(h, opt, val)                                                           \
  do {                                                                                        \
    CURLcode ew_rc_ = curl_easy_setopt((h), (opt), (val));                                    \
    if (ew_rc_ != CURLE_OK) {                                                                 \
      return Internal(std::string("curl_easy_setopt(" #opt "): ") + curl_easy_strerror(ew_rc_)); \
    }                                                                                         \
  } while (0)

}  // namespace

struct HttpsClient::Impl {
  HttpsClientOptions options;
  CurlPtr curl;
  std::string cert_pem;
  crypto::SecureBytes key_pem;  // referenced by libcurl (CURL_BLOB_NOCOPY)
  char errbuf[CURL_ERROR_SIZE] = {};
};

HttpsClient::HttpsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpsClient::HttpsClient(HttpsClient&&) noexcept = default;
HttpsClient& HttpsClient::operator=(HttpsClient&&) noexcept = default;
HttpsClient::~HttpsClient() = default;

StatusOr<HttpsClient> HttpsClient::Create(HttpsClientOptions options) {
  if (options.ca_file.empty()) return InvalidArgument("https client: ca_file is required");
  if (::access(options.ca_file.c_str(), R_OK) != 0) {
    return InvalidArgument("https client: ca_file " + options.ca_file + " is not readable");
  }
  EW_RETURN_IF_ERROR(GlobalInit());
  const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW);
  if (v->version_num < 0x074700 || !(v->features & CURL_VERSION_SSL)) {  // blobs: 7.71
    return FailedPrecondition(std::string("libcurl ") + v->version + " lacks TLS or certificate blobs");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->curl.reset(curl_easy_init());
  if (!impl->curl) return Internal("curl_easy_init failed");
  return HttpsClient(std::move(impl));
}

void HttpsClient::SetClientCertificate(std::string cert_pem, crypto::SecureBytes key_pem) {
  impl_->cert_pem = std::move(cert_pem);
  impl_->key_pem = std::move(key_pem);
  // A new identity must not ride on a connection made with the old one.
  curl_easy_reset(impl_->curl.get());
}

void HttpsClient::ClearClientCertificate() {
  impl_->cert_pem.clear();
  impl_->key_pem.clear();
  curl_easy_reset(impl_->curl.get());
}

StatusOr<HttpResponse> HttpsClient::Get(const std::string& url, const std::vector<std::string>& headers) {
  return Perform(url, nullptr, "", headers);
}

StatusOr<HttpResponse> HttpsClient::Post(const std::string& url, std::string_view body,
                                         std::string_view content_type, const std::vector<std::string>& headers) {
  std::string b(body);
  return Perform(url, &b, content_type, headers);
}

StatusOr<HttpResponse> HttpsClient::Perform(const std::string& url, const std::string* post_body,
                                            std::string_view content_type,
                                            const std::vector<std::string>& headers) {
  if (url.rfind("https://", 0) != 0) return InvalidArgument(url + ": only https:// URLs are allowed");
  CURL* h = impl_->curl.get();
  const HttpsClientOptions& o = impl_->options;
  HttpResponse resp;
  Sink sink{&resp.body, o.max_response_bytes};
  impl_->errbuf[0] = '\0';
  EW_CURL_SETOPT(h, CURLOPT_URL, url.c_str());
  EW_CURL_SETOPT(h, CURLOPT_PROTOCOLS_STR, "https");
  EW_CURL_SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
  EW_CURL_SETOPT(h, CURLOPT_NOSIGNAL, 1L);
  EW_CURL_SETOPT(h, CURLOPT_ERRORBUFFER, impl_->errbuf);
  EW_CURL_SETOPT(h, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_3));
  EW_CURL_SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
  EW_CURL_SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
  EW_CURL_SETOPT(h, CURLOPT_CAINFO, o.ca_file.c_str());
  EW_CURL_SETOPT(h, CURLOPT_CAPATH, nullptr);  // only the configured CA, not the system store
  EW_CURL_SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  EW_CURL_SETOPT(h, CURLOPT_TIMEOUT_MS, static_cast<long>(o.total_timeout.count()));
  EW_CURL_SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(o.max_response_bytes));
  if (!o.proxy.empty()) EW_CURL_SETOPT(h, CURLOPT_PROXY, o.proxy.c_str());
  EW_CURL_SETOPT(h, CURLOPT_WRITEFUNCTION, WriteBody);
  EW_CURL_SETOPT(h, CURLOPT_WRITEDATA, &sink);
  EW_CURL_SETOPT(h, CURLOPT_HEADERFUNCTION, ReadHeader);
  EW_CURL_SETOPT(h, CURLOPT_HEADERDATA, &resp);
  if (!impl_->cert_pem.empty()) {
    curl_blob cert{impl_->cert_pem.data(), impl_->cert_pem.size(), CURL_BLOB_COPY};
    curl_blob key{impl_->key_pem.data(), impl_->key_pem.size(), CURL_BLOB_NOCOPY};
    EW_CURL_SETOPT(h, CURLOPT_SSLCERT_BLOB, &cert);
    EW_CURL_SETOPT(h, CURLOPT_SSLCERTTYPE, "PEM");
    EW_CURL_SETOPT(h, CURLOPT_SSLKEY_BLOB, &key);
    EW_CURL_SETOPT(h, CURLOPT_SSLKEYTYPE, "PEM");
  }
  SlistPtr list;
  auto add = [&list](const std::string& line) -> Status {
    curl_slist* n = curl_slist_append(list.get(), line.c_str());
    if (n == nullptr) return Internal("curl_slist_append failed");
    (void)list.release();
    list.reset(n);
    return Status::Ok();
  };
  for (const auto& line : headers) EW_RETURN_IF_ERROR(add(line));
  if (post_body != nullptr) {
    EW_RETURN_IF_ERROR(add("Content-Type: " + std::string(content_type)));
    EW_CURL_SETOPT(h, CURLOPT_POST, 1L);
    EW_CURL_SETOPT(h, CURLOPT_POSTFIELDS, post_body->data());
    EW_CURL_SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(post_body->size()));
  } else {
    EW_CURL_SETOPT(h, CURLOPT_HTTPGET, 1L);
  }
  EW_CURL_SETOPT(h, CURLOPT_HTTPHEADER, list.get());
  CURLcode rc = curl_easy_perform(h);
  // The header list and body die with this frame: unhook them.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, nullptr);
  if (sink.overflow || rc == CURLE_FILESIZE_EXCEEDED) {
    return ResourceExhausted(url + ": response larger than " + std::to_string(o.max_response_bytes) + " bytes");
  }
  if (rc != CURLE_OK) return CurlStatus(rc, url, impl_->errbuf);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
  return resp;
}

}  // namespace edgeward::channel
