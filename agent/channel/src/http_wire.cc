#include "edgeward/channel/http_wire.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "edgeward/base/bytes.h"

namespace edgeward::channel {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsDnsName(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  return std::all_of(h.begin(), h.end(), [](unsigned char c) { return std::isalnum(c) || c == '.' || c == '-'; });
}

bool IsIpv4(const std::string& h) {
  in_addr a{};
  return ::inet_pton(AF_INET, h.c_str(), &a) == 1;
}

bool IsIpv6(const std::string& h) {
  in6_addr a{};
  return ::inet_pton(AF_INET6, h.c_str(), &a) == 1;
}

StatusOr<uint16_t> ParsePort(std::string_view s, std::string_view url) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v == 0 || v > 65535) {
    return InvalidArgument(std::string(url) + ": bad port '" + std::string(s) + "'");
  }
  return static_cast<uint16_t>(v);
}

// host[:port] or [v6][:port] → host (brackets removed), port.
Status SplitAuthority(std::string_view auth, std::string_view url, std::string& host, uint16_t& port,
                      bool& is_ip) {
  std::string_view port_text;
  if (!auth.empty() && auth.front() == '[') {
    size_t close = auth.find(']');
    if (close == std::string_view::npos) return InvalidArgument(std::string(url) + ": unclosed '[' in host");
    host = std::string(auth.substr(1, close - 1));
    if (!IsIpv6(host)) return InvalidArgument(std::string(url) + ": '" + host + "' is not an IPv6 address");
    is_ip = true;
    std::string_view rest = auth.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return InvalidArgument(std::string(url) + ": junk after ']'");
      port_text = rest.substr(1);
      if (port_text.empty()) return InvalidArgument(std::string(url) + ": empty port");
    }
  } else {
    size_t colon = auth.find(':');
    host = std::string(auth.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = auth.substr(colon + 1);
      if (port_text.empty()) return InvalidArgument(std::string(url) + ": empty port");
    }
    if (!IsDnsName(host)) return InvalidArgument(std::string(url) + ": bad host name '" + host + "'");
    is_ip = IsIpv4(host);
  }
  if (!port_text.empty()) {
    EW_ASSIGN_OR_RETURN(port, ParsePort(port_text, url));
  }
  return Status::Ok();
}

std::string JoinAuthority(const std::string& host, uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool IsTokenChar(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool HeaderLineOk(std::string_view line) {
  size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  if (!std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon), IsTokenChar)) return false;
  return std::none_of(line.begin(), line.end(), [](unsigned char c) { return c == '\r' || c == '\n' || c == 0; });
}

constexpr size_t kMaxChunkLineBytes = 1024;

Status Garbage(const std::string& what) { return Unavailable("malformed HTTP response: " + what); }

}  // namespace

std::string HttpsUrl::Authority() const { return JoinAuthority(host, port); }
std::string ProxyUrl::Authority() const { return JoinAuthority(host, port); }

StatusOr<HttpsUrl> ParseHttpsUrl(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (url.size() < kScheme.size() || Lower(url.substr(0, kScheme.size())) != kScheme) {
    return InvalidArgument(std::string(url) + ": only https:// URLs are allowed");
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find_first_of("/?#");
  std::string_view auth = rest.substr(0, slash);
  std::string_view target = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (auth.find('@') != std::string_view::npos) {
    return InvalidArgument(std::string(url) + ": user information in a URL is not allowed");
  }
  HttpsUrl u;
  EW_RETURN_IF_ERROR(SplitAuthority(auth, url, u.host, u.port, u.host_is_ip));
  if (target.find('#') != std::string_view::npos) {
    target = target.substr(0, target.find('#'));
  }
  for (unsigned char c : target) {
    if (c <= 0x20 || c >= 0x7f) return InvalidArgument(std::string(url) + ": URL path has a space or a control byte");
  }
  u.target = target.empty() ? "/" : (target.front() == '?' ? "/" + std::string(target) : std::string(target));
  return u;
}

StatusOr<ProxyUrl> ParseProxyUrl(std::string_view url) {
  std::string_view rest = url;
  size_t sep = rest.find("://");
  if (sep != std::string_view::npos) {
    if (Lower(rest.substr(0, sep)) != "http") {
      return InvalidArgument("proxy " + std::string(url) + ": only http:// proxies are supported");
    }
    rest = rest.substr(sep + 3);
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) {
    return InvalidArgument("proxy " + std::string(url) + ": a proxy URL has no path");
  }
  ProxyUrl p;
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    p.basic_auth = std::string(rest.substr(0, at));
    rest = rest.substr(at + 1);
  }
  bool is_ip = false;
  EW_RETURN_IF_ERROR(SplitAuthority(rest, "proxy " + std::string(url), p.host, p.port, is_ip));
  return p;
}

bool NoProxyMatches(std::string_view no_proxy, std::string_view host) {
  const std::string h = Lower(host);
  while (!no_proxy.empty()) {
    size_t comma = no_proxy.find(',');
    std::string entry = Lower(Trim(no_proxy.substr(0, comma)));
    no_proxy = comma == std::string_view::npos ? std::string_view() : no_proxy.substr(comma + 1);
    if (entry.empty()) continue;
    if (entry == "*") return true;
    if (entry.size() > 2 && entry.front() == '[' && entry.back() == ']') entry = entry.substr(1, entry.size() - 2);
    if (entry.front() == '.') entry.erase(0, 1);
    if (h == entry) return true;
    if (h.size() > entry.size() && h.ends_with(entry) && h[h.size() - entry.size() - 1] == '.') return true;
  }
  return false;
}

StatusOr<std::string> FormatRequest(std::string_view method, const HttpsUrl& url,
                                    const std::vector<std::string>& headers, const std::string* body,
                                    std::string_view content_type) {
  std::string out;
  out.reserve(256 + (body ? body->size() : 0));
  out.append(method).append(" ").append(url.target).append(" HTTP/1.1\r\n");
  out.append("Host: ").append(url.port == 443 ? (url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host)
                                               : url.Authority());
  out.append("\r\nUser-Agent: edgeward\r\nAccept: */*\r\n");
  for (const std::string& line : headers) {
    if (!HeaderLineOk(line)) return InvalidArgument("request header '" + line + "' is not a valid header line");
    out.append(line).append("\r\n");
  }
  if (body != nullptr) {
    const std::string ct = "Content-Type: " + std::string(content_type);
    if (!HeaderLineOk(ct)) return InvalidArgument("content type '" + std::string(content_type) + "' is not valid");
    out.append(ct).append("\r\nContent-Length: ").append(std::to_string(body->size())).append("\r\n");
  }
  out.append("\r\n");
  if (body != nullptr) out.append(*body);
  return out;
}

std::string FormatConnect(const HttpsUrl& target, const ProxyUrl& proxy) {
  std::string out = "CONNECT " + target.Authority() + " HTTP/1.1\r\nHost: " + target.Authority() + "\r\n";
  if (!proxy.basic_auth.empty()) {
    out += "Proxy-Authorization: Basic " + Base64Encode(AsBytes(proxy.basic_auth)) + "\r\n";
  }
  out += "User-Agent: edgeward\r\n\r\n";
  return out;
}

// ---- the response parser -------------------------------------------------

HttpResponseParser::HttpResponseParser(size_t max_body_bytes, Mode mode) : max_body_(max_body_bytes), mode_(mode) {}

// Collects one CRLF-terminated line from data[used..]; true when complete.
// Lines count against the header budget, so a server can't make us buffer
// an endless line.
// Chunk-size lines are bounded one by one instead (a long body may come in
// many chunks).
StatusOr<bool> HttpResponseParser::TakeLine(std::string_view data, size_t& used, std::string& line) {
  size_t lf = data.find('\n', used);
  size_t end = lf == std::string_view::npos ? data.size() : lf + 1;
  size_t n = end - used;
  if (state_ == State::kChunkSize || state_ == State::kChunkDataEnd) {
    if (partial_.size() + n > kMaxChunkLineBytes) return Garbage("a chunk-size line is too long");
  } else {
    header_bytes_ += n;
    if (header_bytes_ > kMaxHeaderBytes) {
      return Garbage("status line and headers longer than " + std::to_string(kMaxHeaderBytes) + " bytes");
    }
  }
  partial_.append(data.substr(used, n));
  used = end;
  if (lf == std::string_view::npos) return false;
  if (partial_.size() < 2 || partial_[partial_.size() - 2] != '\r') return Garbage("a line does not end in CRLF");
  line.assign(partial_, 0, partial_.size() - 2);
  partial_.clear();
  if (line.find('\r') != std::string::npos || line.find('\0') != std::string::npos) {
    return Garbage("a bare CR or NUL in a line");
  }
  return true;
}

Status HttpResponseParser::OnStatusLine(const std::string& line) {
  // HTTP/1.x SSS[ reason]
  if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 || (line[7] != '0' && line[7] != '1') ||
      line[8] != ' ' || !std::isdigit(static_cast<unsigned char>(line[9])) ||
      !std::isdigit(static_cast<unsigned char>(line[10])) || !std::isdigit(static_cast<unsigned char>(line[11])) ||
      (line.size() > 12 && line[12] != ' ')) {
    return Garbage("bad status line '" + line.substr(0, 64) + "'");
  }
  http10_ = line[7] == '0';
  status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (status_ < 100) return Garbage("status " + std::to_string(status_));
  headers_.clear();
  has_length_ = chunked_ = false;
  keep_alive_ = !http10_;
  state_ = State::kHeaders;
  return Status::Ok();
}

Status HttpResponseParser::OnHeaderLine(const std::string& line) {
  if (line.front() == ' ' || line.front() == '\t') return Garbage("obsolete header line folding");
  size_t colon = line.find(':');
  if (colon == 0 || colon == std::string::npos) return Garbage("header line without a name");
  std::string name = Lower(std::string_view(line).substr(0, colon));
  if (!std::all_of(name.begin(), name.end(), IsTokenChar)) return Garbage("bad header name '" + name + "'");
  std::string value(Trim(std::string_view(line).substr(colon + 1)));
  if (state_ == State::kTrailers) return Status::Ok();  // trailers are read and dropped
  if (name == "content-length") {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
      return Garbage("bad Content-Length '" + value.substr(0, 32) + "'");
    }
    if (has_length_ && v != length_) return Garbage("two different Content-Length values");
    has_length_ = true;
    length_ = v;
  } else if (name == "transfer-encoding") {
    if (Lower(value) != "chunked" || chunked_) return Garbage("unsupported Transfer-Encoding '" + value + "'");
    chunked_ = true;
  } else if (name == "connection") {
    std::string v = Lower(value);
    if (v.find("close") != std::string::npos) keep_alive_ = false;
    if (http10_ && v.find("keep-alive") != std::string::npos) keep_alive_ = true;
  }
  headers_.emplace_back(std::move(name), std::move(value));
  return Status::Ok();
}

Status HttpResponseParser::OnHeadersEnd() {
  if (chunked_ && has_length_) return Garbage("both Content-Length and Transfer-Encoding");
  if (status_ < 200) {  // interim (100 Continue, 103 Early Hints): the real one follows
    state_ = State::kStatusLine;
    return Status::Ok();
  }
  const bool no_body =
      status_ == 204 || status_ == 304 || (mode_ == Mode::kConnect && status_ >= 200 && status_ < 300);
  if (no_body) {
    state_ = State::kDone;
  } else if (chunked_) {
    state_ = State::kChunkSize;
  } else if (has_length_) {
    if (length_ > max_body_) return ResourceExhausted("response body of " + std::to_string(length_) +
                                                       " bytes is over the limit of " + std::to_string(max_body_));
    body_.reserve(static_cast<size_t>(length_));
    remaining_ = length_;
    state_ = remaining_ == 0 ? State::kDone : State::kBody;
  } else {
    keep_alive_ = false;
    state_ = State::kUntilClose;
  }
  return Status::Ok();
}

Status HttpResponseParser::AppendBody(std::string_view bytes) {
  if (body_.size() + bytes.size() > max_body_) {
    return ResourceExhausted("response body over the limit of " + std::to_string(max_body_) + " bytes");
  }
  body_.append(bytes);
  return Status::Ok();
}

StatusOr<size_t> HttpResponseParser::Feed(std::string_view data) {
  size_t used = 0;
  seen_bytes_ += data.size();
  std::string line;
  while (used < data.size() && state_ != State::kDone) {
    switch (state_) {
      case State::kStatusLine:
      case State::kHeaders:
      case State::kTrailers: {
        EW_ASSIGN_OR_RETURN(bool complete, TakeLine(data, used, line));
        if (!complete) break;
        if (state_ == State::kStatusLine) {
          EW_RETURN_IF_ERROR(OnStatusLine(line));
        } else if (line.empty()) {
          if (state_ == State::kTrailers) {
            state_ = State::kDone;
          } else {
            EW_RETURN_IF_ERROR(OnHeadersEnd());
          }
        } else {
          EW_RETURN_IF_ERROR(OnHeaderLine(line));
        }
        break;
      }
      case State::kChunkSize: {
        EW_ASSIGN_OR_RETURN(bool complete, TakeLine(data, used, line));
        if (!complete) break;
        std::string_view size_text = Trim(std::string_view(line).substr(0, line.find(';')));
        uint64_t v = 0;
        auto [end, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), v, 16);
        if (size_text.empty() || ec != std::errc() || end != size_text.data() + size_text.size()) {
          return Garbage("bad chunk size '" + line.substr(0, 32) + "'");
        }
        if (v > max_body_ - body_.size()) {
          return ResourceExhausted("response body over the limit of " + std::to_string(max_body_) + " bytes");
        }
        remaining_ = v;
        state_ = v == 0 ? State::kTrailers : State::kChunkData;
        break;
      }
      case State::kBody:
      case State::kChunkData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, data.size() - used));
        EW_RETURN_IF_ERROR(AppendBody(data.substr(used, n)));
        used += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = state_ == State::kBody ? State::kDone : State::kChunkDataEnd;
        break;
      }
      case State::kChunkDataEnd: {
        EW_ASSIGN_OR_RETURN(bool complete, TakeLine(data, used, line));
        if (!complete) break;
        if (!line.empty()) return Garbage("chunk data longer than its size");
        state_ = State::kChunkSize;
        break;
      }
      case State::kUntilClose:
        EW_RETURN_IF_ERROR(AppendBody(data.substr(used)));
        used = data.size();
        break;
      case State::kDone:
        break;
    }
  }
  return used;
}

Status HttpResponseParser::FinishOnEof() {
  if (state_ == State::kUntilClose) {
    state_ = State::kDone;
    return Status::Ok();
  }
  if (state_ == State::kDone) return Status::Ok();
  return Unavailable(seen_bytes_ == 0 ? "connection closed before any response"
                                      : "connection closed in the middle of the response");
}

std::string HttpResponseParser::Header(std::string_view lower_name) const {
  for (auto it = headers_.rbegin(); it != headers_.rend(); ++it) {
    if (it->first == lower_name) return it->second;
  }
  return "";
}

}  // namespace edgeward::channel
