// CurlMulti on a real uv loop against a loopback HTTP server that runs on the
// same loop: request/response round trips, methods and headers as sent,
// connection reuse, many transfers at once, timeouts, a closed port,
// cancellation by Shutdown, re-entrant Perform from a callback. Every test
// ends with uv_loop_close() == 0 (LoopTest::TearDown).
#include "curl/curl_multi_uv.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "loop_fixture.hpp"

namespace sluice::glue {
namespace {

using namespace std::chrono_literals;
using sluice::testing::s3::LoopbackHttpServer;

class CurlMultiTest : public sluice::testing::s3::LoopTest {
 protected:
  void BeforeLoopClose() override { server_.reset(); }

  LoopbackHttpServer& Server(LoopbackHttpServer::Mode mode = LoopbackHttpServer::Mode::kRespond) {
    server_ = std::make_unique<LoopbackHttpServer>(&loop_, mode);
    return *server_;
  }

  core::Result<HttpResponse> Fetch(HttpRequest request, std::chrono::milliseconds limit = 30s) {
    return Await<HttpResponse>([&](CurlMulti::Callback cb) { http_->Perform(std::move(request), std::move(cb)); },
                               limit);
  }

  static HttpRequest Get(std::string url) {
    HttpRequest r;
    r.url = std::move(url);
    return r;
  }

  std::unique_ptr<LoopbackHttpServer> server_;
};

std::string Binary(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

TEST_F(CurlMultiTest, GetCollectsStatusHeadersAndBody) {
  auto& server = Server();
  auto r = Fetch(Get(server.Url("/hello")));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello from loopback");
  EXPECT_EQ(r->Header("x-request-line"), "GET /hello HTTP/1.1");
  EXPECT_EQ(r->Header("ETag"), "\"e1\"");  // lookup ignores case; names are stored lower-case
  EXPECT_EQ(r->new_connections, 1);
  EXPECT_EQ(http_->in_flight(), 0u);
}

TEST_F(CurlMultiTest, PutSendsTheBodyFromMemory) {
  auto& server = Server();
  HttpRequest put = Get(server.Url("/object"));
  put.method = "PUT";
  const std::string data = Binary((3 << 20) + 17);
  put.body = std::make_shared<const std::string>(data);
  auto r = Fetch(std::move(put));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("x-got-bytes"), std::to_string(data.size()));
  EXPECT_TRUE(r->body == data) << "echoed body differs";
}

TEST_F(CurlMultiTest, MethodsAndHeadersAsGiven) {
  auto& server = Server();
  HttpRequest post = Get(server.Url("/p?uploads="));
  post.method = "POST";  // empty body: Content-Length 0, no form Content-Type
  post.headers = {{"Host", "bucket.example:1234"}, {"x-amz-date", "20130524T000000Z"}, {"x-empty", ""}};
  auto r = Fetch(std::move(post));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->Header("x-request-line"), "POST /p?uploads= HTTP/1.1");

  HttpRequest del = Get(server.Url("/d"));
  del.method = "DELETE";
  r = Fetch(std::move(del));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->Header("x-request-line"), "DELETE /d HTTP/1.1");

  HttpRequest head = Get(server.Url("/h"));
  head.method = "HEAD";
  r = Fetch(std::move(head));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "");

  ASSERT_EQ(server.request_heads().size(), 3u);
  const std::string& h = server.request_heads()[0];
  EXPECT_NE(h.find("\r\nHost: bucket.example:1234"), std::string::npos) << h;
  EXPECT_NE(h.find("\r\nx-amz-date: 20130524T000000Z"), std::string::npos) << h;
  EXPECT_NE(h.find("\r\nx-empty:"), std::string::npos) << h;
  EXPECT_NE(h.find("\r\nContent-Length: 0"), std::string::npos) << h;
  for (const char* absent : {"Content-Type:", "Expect:", "Accept:"}) {
    EXPECT_EQ(h.find(absent), std::string::npos) << absent << " in\n" << h;
  }
}

TEST_F(CurlMultiTest, HttpErrorStatusIsAResponse) {
  auto& server = Server();
  auto r = Fetch(Get(server.Url("/status/404")));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(r->body.find("<Code>Test404</Code>"), std::string::npos);
}

TEST_F(CurlMultiTest, ReusesTheConnection) {
  auto& server = Server();
  auto first = Fetch(Get(server.Url("/1")));
  auto second = Fetch(Get(server.Url("/2")));
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(first->new_connections, 1);
  EXPECT_EQ(second->new_connections, 0);
  EXPECT_EQ(server.connections(), 1);
  // Idle pooled connections are not watched: the loop has nothing to wait for.
  EXPECT_EQ(http_->open_sockets(), 0u);
}

TEST_F(CurlMultiTest, ManyTransfersAtOnce) {
  auto& server = Server();
  constexpr int kCount = 40;
  int done = 0;
  int ok = 0;
  for (int i = 0; i < kCount; ++i) {
    HttpRequest put = Get(server.Url("/n/" + std::to_string(i)));
    put.method = "PUT";
    const std::string data = "payload-" + std::to_string(i) + Binary(static_cast<size_t>(i) * 1000);
    put.body = std::make_shared<const std::string>(data);
    http_->Perform(std::move(put), [&done, &ok, data](core::Result<HttpResponse> r) {
      ++done;
      if (r && r->status == 200 && r->body == data) ++ok;
    });
  }
  EXPECT_EQ(http_->in_flight(), static_cast<size_t>(kCount));
  ASSERT_TRUE(RunUntil([&] { return done == kCount; }));
  EXPECT_EQ(ok, kCount);
  EXPECT_EQ(http_->in_flight(), 0u);
  EXPECT_LE(server.connections(), 16);  // max_host_connections
}

TEST_F(CurlMultiTest, CallbackMayStartTheNextRequest) {
  auto& server = Server();
  std::vector<long> statuses;
  std::function<void(int)> chain = [&](int left) {
    http_->Perform(Get(server.Url("/chain/" + std::to_string(left))), [&, left](core::Result<HttpResponse> r) {
      statuses.push_back(r ? r->status : -1);
      if (left > 1) chain(left - 1);
    });
  };
  chain(5);
  ASSERT_TRUE(RunUntil([&] { return statuses.size() == 5; }));
  EXPECT_EQ(statuses, std::vector<long>(5, 200));
}

TEST_F(CurlMultiTest, TimeoutAgainstAServerThatNeverAnswers) {
  auto& server = Server(LoopbackHttpServer::Mode::kStall);
  HttpRequest req = Get(server.Url("/stall"));
  req.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  auto r = Fetch(std::move(req), 10s);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().domain(), core::ErrorDomain::kS3);
  EXPECT_EQ(r.error().code(), CURLE_OPERATION_TIMEDOUT) << r.error().message();
  EXPECT_NE(r.error().message().find("GET http://127.0.0.1:"), std::string::npos) << r.error().message();
  EXPECT_LT(took, 5s);
}

TEST_F(CurlMultiTest, ClosedPortFailsFast) {
  const int port = sluice::testing::s3::ClosedLoopbackPort(&loop_);
  ASSERT_NE(port, 0);
  auto r = Fetch(Get("http://127.0.0.1:" + std::to_string(port) + "/"), 10s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().domain(), core::ErrorDomain::kS3);
  EXPECT_EQ(r.error().code(), CURLE_COULDNT_CONNECT) << r.error().message();
}

TEST_F(CurlMultiTest, ResponseLimit) {
  auto& server = Server();
  HttpRequest req = Get(server.Url("/big"));
  req.max_response_bytes = 1000;
  auto r = Fetch(std::move(req));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), CURLE_WRITE_ERROR);
  EXPECT_NE(r.error().message().find("larger than 1000 bytes"), std::string::npos) << r.error().message();
}

TEST_F(CurlMultiTest, ShutdownCancelsInFlightAndClosesEverything) {
  auto& server = Server(LoopbackHttpServer::Mode::kStall);
  std::vector<core::Status> errors;
  for (int i = 0; i < 3; ++i) {
    http_->Perform(Get(server.Url("/stall")), [&errors](core::Result<HttpResponse> r) {
      errors.push_back(r ? core::Status::Ok() : r.error());
    });
  }
  // Let the connections open and the requests go out.
  ASSERT_TRUE(RunUntil([&] { return server.request_heads().size() == 3; }));
  EXPECT_EQ(http_->open_sockets(), 3u);
  http_->Shutdown();
  ASSERT_EQ(errors.size(), 3u);  // synchronously, from Shutdown
  for (const auto& e : errors) {
    EXPECT_EQ(e.domain(), core::ErrorDomain::kS3);
    EXPECT_EQ(e.code(), CURLE_ABORTED_BY_CALLBACK);
    EXPECT_NE(e.message().find("cancelled"), std::string::npos);
  }
  EXPECT_EQ(http_->open_sockets(), 0u);
  EXPECT_EQ(http_->in_flight(), 0u);

  // After Shutdown a request fails at once, before Perform returns.
  bool called = false;
  http_->Perform(Get(server.Url("/late")), [&called](core::Result<HttpResponse> r) {
    called = true;
    EXPECT_FALSE(r.has_value());
  });
  EXPECT_TRUE(called);
}

}  // namespace
}  // namespace sluice::glue
