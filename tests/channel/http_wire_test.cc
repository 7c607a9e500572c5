// The HTTP/1.1 wire format of the HTTPS client (http_wire.h): URLs, the
// proxy environment, request formatting and the response parser, on
// hand-written byte streams (the parser's input is a server's, so the
// hostile cases matter most). The client itself is tested against real TLS
// servers in https_client_test.cc.
#include "edgeward/channel/http_wire.h"

#include <gtest/gtest.h>

namespace edgeward::channel::test {
namespace {

// Feeds `wire` in pieces of `step` bytes (1 = byte by byte) and returns the
// parser's verdict: OK once complete, else the first error.
Status FeedAll(HttpResponseParser& p, std::string_view wire, size_t step) {
  for (size_t off = 0; off < wire.size() && !p.done(); off += step) {
    auto used = p.Feed(wire.substr(off, step));
    if (!used.ok()) return used.status();
  }
  return Status::Ok();
}

TEST(HttpsUrlTest, ParsesHostsPortsAndTargets) {
  auto u = ParseHttpsUrl("https://verifier.example:8443/v1/nodes?x=1");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "verifier.example");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/v1/nodes?x=1");
  EXPECT_FALSE(u->host_is_ip);
  auto v4 = ParseHttpsUrl("HTTPS://127.0.0.1");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->port, 443);
  EXPECT_EQ(v4->target, "/");
  EXPECT_TRUE(v4->host_is_ip);
  auto v6 = ParseHttpsUrl("https://[::1]:9/a#frag");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_TRUE(v6->host_is_ip);
  EXPECT_EQ(v6->target, "/a");
  EXPECT_EQ(v6->Authority(), "[::1]:9");
}

TEST(HttpsUrlTest, RefusesWhatCouldSmuggleOrMislead) {
  struct Case {
    const char* url;
    const char* why;
  } cases[] = {
      {"http://127.0.0.1/", "only https"},
      {"https://user:pw@host/", "user information"},
      {"https://host:0/", "bad port"},
      {"https://host:65536/", "bad port"},
      {"https://host:/", "empty port"},
      {"https://ho st/", "bad host"},
      {"https://host/a b", "space or a control"},
      {"https://host/a\r\nX-Evil: 1", "space or a control"},
      {"https://[::1/", "unclosed"},
      {"https://[nothex]/", "not an IPv6"},
      {"https:///path", "bad host"},
  };
  for (const Case& c : cases) {
    auto u = ParseHttpsUrl(c.url);
    ASSERT_FALSE(u.ok()) << c.url;
    EXPECT_EQ(u.status().code(), StatusCode::kInvalidArgument) << c.url;
    EXPECT_NE(u.status().message().find(c.why), std::string::npos) << c.url << ": " << u.status().message();
  }
}

TEST(ProxyTest, ParsesProxyUrlsAndNoProxyLists) {
  auto p = ParseProxyUrl("http://alice:s3cret@proxy.corp:3128/");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->host, "proxy.corp");
  EXPECT_EQ(p->port, 3128);
  EXPECT_EQ(p->basic_auth, "alice:s3cret");
  auto bare = ParseProxyUrl("10.0.0.1");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->port, 1080);
  EXPECT_EQ(ParseProxyUrl("https://proxy:443").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProxyUrl("socks5://proxy:1080").status().code(), StatusCode::kInvalidArgument);

  EXPECT_TRUE(NoProxyMatches("*", "anything"));
  EXPECT_TRUE(NoProxyMatches("localhost, .corp.example", "verifier.CORP.example"));
  EXPECT_TRUE(NoProxyMatches("corp.example", "corp.example"));
  EXPECT_TRUE(NoProxyMatches("corp.example", "a.corp.example"));
  EXPECT_FALSE(NoProxyMatches("corp.example", "evilcorp.example"));
  EXPECT_TRUE(NoProxyMatches("127.0.0.1,[::1]", "::1"));
  EXPECT_FALSE(NoProxyMatches("127.0.0.1", "127.0.0.10"));
  EXPECT_FALSE(NoProxyMatches("", "host"));
}

TEST(RequestTest, FormatsRequestsAndRefusesHeaderInjection) {
  auto u = ParseHttpsUrl("https://v.example:8443/v1/x");
  ASSERT_TRUE(u.ok());
  const std::string body = "{\"a\":1}";
  auto r = FormatRequest("POST", *u, {"If-None-Match: \"e1\""}, &body, "application/json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r,
            "POST /v1/x HTTP/1.1\r\nHost: v.example:8443\r\nUser-Agent: edgeward\r\nAccept: */*\r\n"
            "If-None-Match: \"e1\"\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
  auto bad = FormatRequest("GET", *u, {"X-A: 1\r\nX-Injected: 2"}, nullptr, "");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatRequest("GET", *u, {"No colon"}, nullptr, "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatRequest("GET", *u, {"Bad Name: v"}, nullptr, "").status().code(), StatusCode::kInvalidArgument);

  auto p = ParseProxyUrl("http://u:p@proxy:3128");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(FormatConnect(*u, *p),
            "CONNECT v.example:8443 HTTP/1.1\r\nHost: v.example:8443\r\nProxy-Authorization: Basic dTpw\r\n"
            "User-Agent: edgeward\r\n\r\n");
}

TEST(ResponseParserTest, ContentLengthBodyInAnyFragmentation) {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"v1\"\r\nContent-Length: 5\r\n\r\nhello";
  for (size_t step : {size_t{1}, size_t{3}, size_t{7}, wire.size()}) {
    HttpResponseParser p(1024);
    ASSERT_TRUE(FeedAll(p, wire, step).ok()) << step;
    ASSERT_TRUE(p.done()) << step;
    EXPECT_EQ(p.status(), 200);
    EXPECT_EQ(p.body(), "hello");
    EXPECT_EQ(p.Header("etag"), "\"v1\"");
    EXPECT_EQ(p.Header("content-type"), "text/plain");
    EXPECT_TRUE(p.keep_alive());
  }
}

TEST(ResponseParserTest, ChunkedBodyWithExtensionsAndTrailers) {
  const std::string wire =
      "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n";
  for (size_t step : {size_t{1}, size_t{4}, wire.size()}) {
    HttpResponseParser p(1024);
    ASSERT_TRUE(FeedAll(p, wire, step).ok()) << step;
    ASSERT_TRUE(p.done());
    EXPECT_EQ(p.status(), 201);
    EXPECT_EQ(p.body(), "hello world");
  }
}

TEST(ResponseParserTest, InterimResponsesAreSkippedAndNoBodyStatusesEnd) {
  HttpResponseParser p(1024);
  ASSERT_TRUE(FeedAll(p, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", 5).ok());
  ASSERT_TRUE(p.done());
  EXPECT_EQ(p.status(), 304);
  EXPECT_EQ(p.body(), "");
  EXPECT_EQ(p.Header("etag"), "\"x\"");
}

TEST(ResponseParserTest, BodyUntilCloseAndConnectionClose) {
  HttpResponseParser p(1024);
  ASSERT_TRUE(FeedAll(p, "HTTP/1.0 200 OK\r\n\r\nall of it", 4).ok());
  EXPECT_FALSE(p.done());
  ASSERT_TRUE(p.FinishOnEof().ok());
  EXPECT_EQ(p.body(), "all of it");
  EXPECT_FALSE(p.keep_alive());

  HttpResponseParser q(1024);
  ASSERT_TRUE(FeedAll(q, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 100).ok());
  EXPECT_TRUE(q.done());
  EXPECT_FALSE(q.keep_alive());

  HttpResponseParser cut(1024);
  ASSERT_TRUE(FeedAll(cut, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 100).ok());
  Status s = cut.FinishOnEof();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("middle of the response"), std::string::npos) << s.message();
}

TEST(ResponseParserTest, OnlyTheResponseIsConsumed) {
  HttpResponseParser p(1024);
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
  auto used = p.Feed(wire);
  ASSERT_TRUE(used.ok());
  EXPECT_TRUE(p.done());
  EXPECT_EQ(*used, wire.size() - 5);
}

TEST(ResponseParserTest, BodiesAndHeadersAreBounded) {
  HttpResponseParser declared(100);
  Status s = FeedAll(declared, "HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n", 1000);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();

  HttpResponseParser chunked(10);
  s = FeedAll(chunked, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n", 1000);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();

  HttpResponseParser until_close(10);
  s = FeedAll(until_close, "HTTP/1.1 200 OK\r\n\r\n0123456789A", 1000);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();

  HttpResponseParser headers(1024);
  std::string endless = "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(kMaxHeaderBytes, 'a');
  s = FeedAll(headers, endless, 4096);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("longer than"), std::string::npos) << s.message();

  HttpResponseParser chunk_line(1024);
  s = FeedAll(chunk_line, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(2000, '0'), 64);
  EXPECT_NE(s.message().find("chunk-size line is too long"), std::string::npos) << s.ToString();
}

TEST(ResponseParserTest, SmugglingShapesAndGarbageAreRefused) {
  struct Case {
    std::string wire;
    const char* why;
  } cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "both Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "two different"},
      {"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", "bad Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\n\r\n", "bad Content-Length"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "unsupported Transfer-Encoding"},
      {"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n", "folding"},
      {"HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n", "bad header name"},
      {"HTTP/1.1 200 OK\nX: 1\n\n", "CRLF"},
      {"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", "bare CR"},
      {"HTTP/2 200\r\n\r\n", "bad status line"},
      {"HTTP/1.1 20 OK\r\n\r\n", "bad status line"},
      {"HTTP/1.1 099 Low\r\n\r\n", "status 99"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", "longer than its size"},
  };
  for (const Case& c : cases) {
    HttpResponseParser p(1024);
    Status s = FeedAll(p, c.wire, 3);
    ASSERT_FALSE(s.ok()) << c.wire;
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << c.wire;
    EXPECT_NE(s.message().find(c.why), std::string::npos) << c.wire << " → " << s.message();
  }
}

TEST(ResponseParserTest, ConnectAnswersHaveNoBody) {
  HttpResponseParser ok(0, HttpResponseParser::Mode::kConnect);
  auto used = ok.Feed("HTTP/1.1 200 Connection established\r\nProxy-Agent: x\r\n\r\n");
  ASSERT_TRUE(used.ok());
  EXPECT_TRUE(ok.done());
  EXPECT_EQ(ok.status(), 200);
  HttpResponseParser refused(0, HttpResponseParser::Mode::kConnect);
  Status s = FeedAll(refused, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 3\r\n\r\n", 100);
  // A refusal's body counts against the limit (0 here): it is never read.
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.status(), 407);
}

}  // namespace
}  // namespace edgeward::channel::test
