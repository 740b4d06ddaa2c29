// The HTTP server, end to end: the real `sluice` binary on 127.0.0.1, driven
// by raw sockets (exact bytes: pipelining, half requests, bad syntax) and by
// libcurl. Covers keep-alive, pipelining, chunked bodies, 100-continue, every
// limit's status, timeouts, concurrency, graceful SIGTERM and the systemd
// notify protocol.
#include <gtest/gtest.h>
#include <signal.h>

#include <random>
#include <thread>

#include "support/http_client.hpp"
#include "support/sluice_process.hpp"

namespace sluice::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

class HttpServerTest : public ::testing::Test {
 protected:
  /// Starts sluice with extra [server] keys.
  void StartServer(const std::string& server_keys = "") {
    server_.WriteConf("header_timeout = 1s\nidle_timeout = 2s\nmax_upload_bytes = 4M\nmax_body_bytes = 64K\n" +
                      server_keys);
    std::string error;
    ASSERT_TRUE(server_.Start(&error)) << error;
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "---- sluice log ----\n" << server_.Log();
  }
  SluiceProcess server_;
};

TEST_F(HttpServerTest, PortAlreadyTakenExitsAtOnceAndSaysWhy) {
  StartServer();
  // A second server on the same port must not linger (its catalog retry timer
  // once kept the loop alive forever after the failed bind).
  SluiceProcess second;
  second.WriteConf("listen = 127.0.0.1:" + std::to_string(server_.port()) + "\n");
  std::string error;
  ASSERT_FALSE(second.Start(&error, seconds(10)));
  // "exited", not "not ready in time": the process is gone.
  EXPECT_NE(error.find("exited before READY=1"), std::string::npos) << error;
  EXPECT_NE(second.Log().find("address already in use"), std::string::npos) << second.Log();
}

TEST_F(HttpServerTest, HealthzAnswersInTheApiShape) {
  StartServer();
  auto result = Fetch(server_.Url("/healthz"));
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, R"({"status":"ok"})");
  EXPECT_NE(result.headers.find("X-Request-Id: "), std::string::npos);
  EXPECT_NE(result.headers.find("Content-Type: application/json; charset=utf-8"), std::string::npos);
}

TEST_F(HttpServerTest, RequestIdIsEchoedAndLogged) {
  StartServer();
  auto result = Fetch(server_.Url("/healthz"), {.headers = {"X-Request-Id: test-id-42"}});
  EXPECT_NE(result.headers.find("X-Request-Id: test-id-42"), std::string::npos);
  server_.Signal(SIGTERM);
  ASSERT_EQ(server_.Wait(seconds(10)), 0);
  EXPECT_NE(server_.Log().find("GET /healthz 200 15B"), std::string::npos);
  EXPECT_NE(server_.Log().find("req=test-id-42"), std::string::npos);
}

TEST_F(HttpServerTest, UnknownRouteIs404AndWrongMethodIs405WithAllow) {
  StartServer();
  RawConnection c(server_.port());
  ASSERT_TRUE(c.Send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r404 = c.ReadResponse();
  ASSERT_TRUE(r404);
  EXPECT_EQ(r404->status, 404);
  EXPECT_EQ(r404->body, R"({"error":{"code":"not_found","message":"no route for /nope"}})");
  ASSERT_TRUE(c.Send("DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));  // same connection: still alive
  auto r405 = c.ReadResponse();
  ASSERT_TRUE(r405);
  EXPECT_EQ(r405->status, 405);
  EXPECT_EQ(r405->Header("Allow"), "GET, HEAD");
  EXPECT_NE(r405->body.find("\"code\":\"method_not_allowed\""), std::string::npos);
}

TEST_F(HttpServerTest, HeadHasHeadersButNoBody) {
  StartServer();
  RawConnection c(server_.port());
  ASSERT_TRUE(c.Send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = c.ReadResponse();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("Content-Length"), "15");
  // RawConnection reads Content-Length bytes as the body: with HEAD those are
  // the next response's first bytes, so read the raw stream instead.
  EXPECT_EQ(head->body.rfind("HTTP/1.1 200 OK", 0), 0u);
}

TEST_F(HttpServerTest, KeepAliveServesHundredRequestsOnOneConnection) {
  StartServer();
  RawConnection c(server_.port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")) << i;
    auto response = c.ReadResponse();
    ASSERT_TRUE(response) << "request " << i;
    ASSERT_EQ(response->status, 200);
    ASSERT_EQ(response->body, R"({"status":"ok"})");
    ASSERT_EQ(response->Header("Connection"), "");
  }
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  RawConnection c(server_.port());
  // The first is slow, the second instant: the answers must still come in order.
  ASSERT_TRUE(c.Send("GET /v1/_test/delay?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                     "POST /v1/_test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"));
  auto first = c.ReadResponse();
  auto second = c.ReadResponse();
  auto third = c.ReadResponse();
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->body, R"({"slept_ms":200})");
  EXPECT_EQ(second->body, R"({"status":"ok"})");
  EXPECT_EQ(third->body, "hello");
}

TEST_F(HttpServerTest, ChunkedUploadIsEchoedByteForByte) {
  StartServer();
  std::string body = RandomBytes(3 << 20, 7);
  auto result = Fetch(server_.Url("/v1/_test/echo"), {.method = "POST", .body = body, .chunked = true});
  ASSERT_EQ(result.status, 200) << result.error;
  EXPECT_EQ(result.body.size(), body.size());
  EXPECT_TRUE(result.body == body);
}

TEST_F(HttpServerTest, RawChunkedBodyWithExtensionsAndTrailers) {
  StartServer();
  RawConnection c(server_.port());
  ASSERT_TRUE(c.Send("POST /v1/_test/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5;ext=1\r\nhello\r\n1\r\n,\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"));
  auto response = c.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello, world");
}

TEST_F(HttpServerTest, ExpectContinueGets100ThenTheAnswer) {
  StartServer();
  RawConnection c(server_.port());
  ASSERT_TRUE(c.Send("POST /v1/_test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = c.ReadResponse(seconds(5));
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.Send("data"));
  // The echo route starts its streamed answer at the headers; read it whole.
  auto response = c.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "data");
}

TEST_F(HttpServerTest, CurlLargeBodyUsesExpectContinue) {
  StartServer();
  std::string body = RandomBytes(2 << 20, 3);  // curl sends Expect: 100-continue above 1 MiB
  auto result = Fetch(server_.Url("/v1/_test/echo"), {.method = "POST", .body = body});
  ASSERT_EQ(result.status, 200) << result.error;
  EXPECT_NE(result.headers.find("HTTP/1.1 100 Continue"), std::string::npos);
  EXPECT_TRUE(result.body == body);
}

TEST_F(HttpServerTest, OversizedHeaderIs431) {
  StartServer("max_header_bytes = 4K\n");
  RawConnection c(server_.port());
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(5000, 'a') + "\r\n\r\n"));
  auto response = c.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_NE(response->body.find("\"code\":\"headers_too_large\""), std::string::npos);
  EXPECT_EQ(response->Header("Connection"), "close");
  EXPECT_TRUE(c.WaitClosed(seconds(5)));
}

TEST_F(HttpServerTest, TooManyHeadersIs431) {
  StartServer("max_headers = 10\n");
  std::string request = "GET /healthz HTTP/1.1\r\n";
  for (int i = 0; i < 11; ++i) request += "X-H" + std::to_string(i) + ": v\r\n";
  RawConnection c(server_.port());
  ASSERT_TRUE(c.Send(request + "\r\n"));
  auto response = c.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
}

TEST_F(HttpServerTest, LongUrlIs414) {
  StartServer("max_url_bytes = 1K\n");
  RawConnection c(server_.port());
  ASSERT_TRUE(c.Send("GET /healthz?x=" + std::string(2000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto response = c.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 414);
  EXPECT_NE(response->body.find("\"code\":\"uri_too_long\""), std::string::npos);
}

TEST_F(HttpServerTest, ContentLengthOverUploadLimitIs413BeforeTheBody) {
  StartServer();  // max_upload_bytes = 4M
  RawConnection c(server_.port());
  ASSERT_TRUE(c.Send("POST /v1/_test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n"
                     "Expect: 100-continue\r\n\r\n"));
  auto response = c.ReadResponse(seconds(5));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);  // no 100 Continue first: the body is never sent
  EXPECT_NE(response->body.find("\"code\":\"body_too_large\""), std::string::npos);
  EXPECT_TRUE(c.WaitClosed(seconds(5)));
}

TEST_F(HttpServerTest, ChunkedBodyOverSmallLimitIs413) {
  StartServer();  // max_body_bytes = 64K for non-upload routes
  RawConnection c(server_.port());
  std::string chunk = std::string(32768, 'x');
  std::string request = "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) request += "8000\r\n" + chunk + "\r\n";
  ASSERT_TRUE(c.Send(request));
  auto response = c.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
}

TEST_F(HttpServerTest, CurlSeesThe413) {
  StartServer();
  auto result = Fetch(server_.Url("/v1/_test/echo"), {.method = "POST", .body = RandomBytes(5 << 20, 1)});
  EXPECT_EQ(result.status, 413) << result.error;
  EXPECT_NE(result.body.find("body_too_large"), std::string::npos);
}

TEST_F(HttpServerTest, StalledRequestHeadGets408ThenClose) {
  StartServer();  // header_timeout = 1s
  RawConnection c(server_.port());
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "));
  auto response = c.ReadResponse(seconds(5));
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
  EXPECT_NE(response->body.find("\"code\":\"request_timeout\""), std::string::npos);
  EXPECT_GE(waited, milliseconds(900));
  EXPECT_TRUE(c.WaitClosed(seconds(5)));
}

TEST_F(HttpServerTest, SlowlorisDribbleIsCutOffByTheHeaderDeadline) {
  StartServer();  // header_timeout = 1s, idle_timeout = 2s: a byte every 300 ms never finishes
  RawConnection c(server_.port());
  std::string head = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: aaaaaaaaaaaaaaaaaaaa";
  std::optional<RawResponse> response;
  for (char ch : head) {
    if (!c.Send(std::string(1, ch))) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  response = c.ReadResponse(seconds(5));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
}

TEST_F(HttpServerTest, StalledBodyGets408) {
  StartServer();  // idle_timeout = 2s
  RawConnection c(server_.port());
  ASSERT_TRUE(c.Send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));
  auto response = c.ReadResponse(seconds(6));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  StartServer();  // idle_timeout = 2s
  RawConnection c(server_.port());
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.ReadResponse());
  EXPECT_TRUE(c.WaitClosed(seconds(5)));
}

TEST_F(HttpServerTest, MalformedRequestGets400AndClose) {
  StartServer();
  for (std::string bad : {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
                          std::string("POST /healthz HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
                          std::string("GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")}) {
    RawConnection c(server_.port());
    ASSERT_TRUE(c.Send(bad));
    auto response = c.ReadResponse(seconds(5));
    ASSERT_TRUE(response) << bad;
    EXPECT_EQ(response->status, 400) << bad;
    EXPECT_NE(response->body.find("\"code\":\"bad_request\""), std::string::npos);
    EXPECT_TRUE(c.WaitClosed(seconds(5))) << bad;
  }
  EXPECT_EQ(Fetch(server_.Url("/healthz")).status, 200);  // and the server is fine
}

TEST_F(HttpServerTest, HttpTenClosesUnlessKeepAliveAsked) {
  StartServer();
  RawConnection c(server_.port());
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.0\r\n\r\n"));
  auto response = c.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(c.WaitClosed(seconds(5)));
}

TEST_F(HttpServerTest, TwoHundredConcurrentConnectionsAreAnswered) {
  StartServer();
  std::vector<std::unique_ptr<RawConnection>> connections;
  for (int i = 0; i < 200; ++i) {
    connections.push_back(std::make_unique<RawConnection>(server_.port()));
    ASSERT_TRUE(connections.back()->connected()) << i;
  }
  for (auto& c : connections) ASSERT_TRUE(c->Send("GET /v1/_test/delay?ms=50 HTTP/1.1\r\nHost: x\r\n\r\n"));
  int ok = 0;
  for (auto& c : connections) {
    auto response = c->ReadResponse(seconds(20));
    if (response && response->status == 200) ++ok;
  }
  EXPECT_EQ(ok, 200);
}

TEST_F(HttpServerTest, ConnectionsPastTheLimitGet503) {
  StartServer("max_connections = 2\n");
  RawConnection a(server_.port());
  RawConnection b(server_.port());
  ASSERT_TRUE(a.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(a.ReadResponse());
  ASSERT_TRUE(b.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(b.ReadResponse());
  RawConnection c(server_.port());
  auto refused = c.ReadResponse(seconds(5));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->Header("Retry-After"), "1");
}

TEST_F(HttpServerTest, SigtermLetsTheInFlightRequestFinishAndExitsZero) {
  StartServer();
  RawConnection c(server_.port());
  ASSERT_TRUE(c.Send("GET /v1/_test/delay?ms=1000 HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(milliseconds(200));
  server_.Signal(SIGTERM);
  ASSERT_TRUE(server_.WaitForNotify("STOPPING=1", seconds(5)));
  auto response = c.ReadResponse(seconds(5));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"slept_ms":1000})");
  EXPECT_EQ(response->Header("Connection"), "close");
  EXPECT_EQ(server_.Wait(seconds(10)), 0);
  RawConnection after(server_.port());
  EXPECT_FALSE(after.connected());
}

TEST_F(HttpServerTest, SigtermClosesIdleConnectionsAndStopsAtOnce) {
  StartServer();
  RawConnection idle(server_.port());
  ASSERT_TRUE(idle.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(idle.ReadResponse());
  auto start = std::chrono::steady_clock::now();
  server_.Signal(SIGTERM);
  EXPECT_EQ(server_.Wait(seconds(5)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(2));
  EXPECT_TRUE(idle.WaitClosed(seconds(1)));
}

TEST_F(HttpServerTest, GracePeriodBoundsShutdown) {
  StartServer("shutdown_grace = 500ms\n");
  RawConnection c(server_.port());
  ASSERT_TRUE(c.Send("GET /v1/_test/delay?ms=10000 HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(milliseconds(100));
  auto start = std::chrono::steady_clock::now();
  server_.Signal(SIGTERM);
  EXPECT_EQ(server_.Wait(seconds(5)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(3));
}

TEST_F(HttpServerTest, NotifySocketGetsReadyStatusAndStopping) {
  StartServer();
  bool ready = false;
  for (const auto& message : server_.NotifyMessages()) {
    if (message.find("READY=1") != std::string::npos && message.find("MAINPID=") != std::string::npos) ready = true;
  }
  EXPECT_TRUE(ready);
  server_.Signal(SIGTERM);
  EXPECT_TRUE(server_.WaitForNotify("STOPPING=1", seconds(5)));
  EXPECT_EQ(server_.Wait(seconds(5)), 0);
}

TEST(HttpServerProcess, WatchdogPingsWhenAsked) {
  SluiceProcess server;
  std::string error;
  // WATCHDOG_PID unset means "for whoever reads it"; 200 ms → pings every 100 ms.
  ASSERT_TRUE(server.Start(&error, seconds(15), {{"WATCHDOG_USEC", "200000"}})) << error;
  EXPECT_TRUE(server.WaitForNotify("WATCHDOG=1", seconds(3)));
}

TEST(HttpServerProcess, SighupWithABadConfKeepsServing) {
  SluiceProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  server.WriteConf("no_such_key = 1\n");
  server.Signal(SIGHUP);
  ASSERT_TRUE(server.WaitForNotify("RELOADING=1", seconds(5)));
  EXPECT_EQ(Fetch(server.Url("/healthz")).status, 200);
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_NE(server.Log().find("keeping the running configuration"), std::string::npos) << server.Log();
}

TEST(HttpServerProcess, SighupChangesTheLogLevelOnAnOpenConnection) {
  SluiceProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  RawConnection c(server.port());
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.ReadResponse());
  server.WriteConf("", "[log]\nlevel = error\n");
  server.Signal(SIGHUP);
  ASSERT_TRUE(server.WaitForNotify("RELOADING=1", seconds(5)));
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_TRUE(c.Send("GET /healthz?after=reload HTTP/1.1\r\nHost: x\r\n\r\n"));  // same connection
  auto response = c.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(server.Log().find("after=reload"), std::string::npos);  // info access line now filtered
}

TEST(HttpServerProcess, RefusesNonLoopbackWithoutTokens) {
  SluiceProcess server;
  server.WriteConf("listen = 0.0.0.0:0\n");
  std::string error;
  EXPECT_FALSE(server.Start(&error, seconds(10)));
  EXPECT_NE(error.find("refusing to listen on a non-loopback address"), std::string::npos) << error;
}

TEST(HttpServerProcess, BadConfExitsWithTheLine) {
  SluiceProcess server;
  server.WriteConf("workers = many\n");
  std::string error;
  EXPECT_FALSE(server.Start(&error, seconds(10)));
  EXPECT_NE(error.find("sluice.conf:4"), std::string::npos) << error;
}

}  // namespace
}  // namespace sluice::testing
