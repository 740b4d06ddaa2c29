// Authentication and metrics through the real binary: every role against
// every route level (public, read, write, admin) — allowed, 401 or 403 in the
// API's error shape; JWTs good and bad; a token changed by SIGHUP on an open
// keep-alive connection; /metrics well-formed and moving.
#include <gtest/gtest.h>
#include <signal.h>

#include <ctime>
#include <thread>

#include "auth/authenticator.hpp"
#include "support/http_client.hpp"
#include "support/prometheus_text.hpp"
#include "support/sluice_process.hpp"

namespace sluice::testing {
namespace {

using std::chrono::seconds;

constexpr const char* kAuthSection =
    "[auth]\ntokens = read:reader-token-1, write:writer-token-2, admin:admin-token-3\njwt_secret = test-jwt-secret\n";

std::string Jwt(const std::string& role, int64_t exp_offset, int64_t nbf_offset = -60,
                const std::string& secret = "test-jwt-secret") {
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  std::string payload = "{\"sub\":\"tester\",\"role\":\"" + role + "\",\"exp\":" + std::to_string(now + exp_offset) +
                        ",\"nbf\":" + std::to_string(now + nbf_offset) + "}";
  return auth::SignJwtHs256(R"({"alg":"HS256","typ":"JWT"})", payload, secret);
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.WriteConf("", kAuthSection);
    std::string error;
    ASSERT_TRUE(server_.Start(&error)) << error;
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << server_.Log();
  }
  long Status(const std::string& method, const std::string& path, const std::string& token,
              std::string* body = nullptr) {
    FetchOptions options{.method = method};
    if (!token.empty()) options.headers.push_back("Authorization: Bearer " + token);
    if (method == "POST") options.body = "x";
    auto result = Fetch(server_.Url(path), options);
    if (body != nullptr) *body = result.body;
    return result.status;
  }
  SluiceProcess server_;
};

TEST_F(AuthTest, EveryRoleAgainstEveryLevel) {
  struct Route {
    std::string method, path;
    int level;  // 0 public, 1 read, 2 write, 3 admin
  };
  const std::vector<Route> routes = {{"GET", "/healthz", 0},
                                     {"GET", "/readyz", 0},
                                     {"GET", "/metrics", 1},
                                     {"GET", "/v1/_test/delay?ms=0", 1},
                                     {"POST", "/v1/_test/echo", 2},
                                     {"DELETE", "/v1/_test/admin", 3}};
  struct Caller {
    std::string token;
    int level;  // -1 = no token, -2 = a wrong token
  };
  const std::vector<Caller> callers = {{"", -1}, {"not-a-token", -2}, {"reader-token-1", 1},
                                       {"writer-token-2", 2}, {"admin-token-3", 3}};
  for (const auto& route : routes) {
    for (const auto& caller : callers) {
      std::string body;
      long status = Status(route.method, route.path, caller.token, &body);
      std::string what = route.method + " " + route.path + " as " + (caller.token.empty() ? "nobody" : caller.token);
      if (route.level == 0) {
        EXPECT_TRUE(status == 200 || status == 503) << what;  // readyz has no services here
      } else if (caller.level < 0) {
        EXPECT_EQ(status, 401) << what;
        EXPECT_NE(body.find(R"("code":"unauthorized")"), std::string::npos) << what << body;
      } else if (caller.level < route.level) {
        EXPECT_EQ(status, 403) << what;
        EXPECT_NE(body.find(R"("code":"forbidden")"), std::string::npos) << what << body;
      } else {
        EXPECT_EQ(status, 200) << what << body;
      }
    }
  }
  std::string body;
  EXPECT_EQ(Status("DELETE", "/v1/_test/admin", "admin-token-3", &body), 200);
  EXPECT_EQ(body, R"({"caller":"token:3"})");
}

TEST_F(AuthTest, UnauthorizedCarriesWwwAuthenticate) {
  auto result = Fetch(server_.Url("/metrics"));
  EXPECT_EQ(result.status, 401);
  EXPECT_NE(result.headers.find("WWW-Authenticate: Bearer"), std::string::npos);
}

TEST_F(AuthTest, JwtsAreVerified) {
  EXPECT_EQ(Status("DELETE", "/v1/_test/admin", Jwt("admin", 60)), 200);
  EXPECT_EQ(Status("DELETE", "/v1/_test/admin", Jwt("write", 60)), 403);
  EXPECT_EQ(Status("GET", "/metrics", Jwt("read", 60)), 200);
  EXPECT_EQ(Status("GET", "/metrics", Jwt("admin", -1)), 401);                     // expired
  EXPECT_EQ(Status("GET", "/metrics", Jwt("admin", 600, 300)), 401);               // not yet valid
  EXPECT_EQ(Status("GET", "/metrics", Jwt("admin", 60, -60, "wrong-secret")), 401);  // wrong signature
  std::string unsigned_jwt = auth::Base64UrlEncode(R"({"alg":"none"})") + "." +
                             auth::Base64UrlEncode(R"({"role":"admin","exp":9999999999})") + ".";
  EXPECT_EQ(Status("GET", "/metrics", unsigned_jwt), 401);  // alg=none
  std::string good = Jwt("admin", 60);
  EXPECT_EQ(Status("GET", "/metrics", good.substr(0, good.size() - 10)), 401);  // truncated
}

TEST_F(AuthTest, RefusedUploadIsAnsweredBeforeItsBody) {
  RawConnection c(server_.port());
  ASSERT_TRUE(c.Send("POST /v1/_test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n"
                     "Authorization: Bearer reader-token-1\r\nExpect: 100-continue\r\n\r\n"));
  auto response = c.ReadResponse(seconds(5));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 403);  // not 100 Continue: the 100 MB are never sent
}

TEST_F(AuthTest, TokensNeverReachTheLog) {
  Status("GET", "/metrics", "reader-token-1");
  Status("GET", "/metrics", "wrong-token-xyz");
  server_.Signal(SIGTERM);
  ASSERT_EQ(server_.Wait(seconds(10)), 0);
  std::string log = server_.Log();
  EXPECT_EQ(log.find("reader-token-1"), std::string::npos);
  EXPECT_EQ(log.find("wrong-token-xyz"), std::string::npos);
  EXPECT_NE(log.find("GET /metrics 401"), std::string::npos);
}

TEST_F(AuthTest, SighupChangesATokenOnAnOpenConnection) {
  RawConnection c(server_.port());
  auto get = [&](const std::string& token) {
    EXPECT_TRUE(c.Send("GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n"));
    auto response = c.ReadResponse();
    return response ? response->status : 0;
  };
  EXPECT_EQ(get("reader-token-1"), 200);
  server_.WriteConf("", "[auth]\ntokens = read:rotated-token-9\n");
  server_.Signal(SIGHUP);
  ASSERT_TRUE(server_.WaitForNotify("RELOADING=1", seconds(5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(get("reader-token-1"), 401);  // same connection, old token gone
  EXPECT_EQ(get("rotated-token-9"), 200);
}

/// The strict Prometheus text check (support/prometheus_text.hpp).
void ExpectValidExposition(const std::string& text) {
  PromExposition parsed = ParsePrometheusText(text);
  for (const auto& error : parsed.errors) ADD_FAILURE() << "/metrics: " << error;
  EXPECT_GT(parsed.samples.size(), 0u);
}

double SampleValue(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::atof(text.c_str() + at + series.size() + 2);
}

TEST_F(AuthTest, MetricsAreWellFormedAndMove) {
  auto scrape = [&] {
    auto result = Fetch(server_.Url("/metrics"), {.headers = {"Authorization: Bearer reader-token-1"}});
    EXPECT_EQ(result.status, 200);
    EXPECT_NE(result.headers.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
    return result.body;
  };
  std::string before = scrape();
  ExpectValidExposition(before);
  const std::string healthz = R"(sluice_http_requests_total{route="healthz",method="GET",status="200"})";
  double healthz_before = std::max(0.0, SampleValue(before, healthz));
  for (int i = 0; i < 5; ++i) Fetch(server_.Url("/healthz"));
  Fetch(server_.Url("/nope"));
  std::string after = scrape();
  ExpectValidExposition(after);
  EXPECT_EQ(SampleValue(after, healthz), healthz_before + 5) << after;
  EXPECT_GE(SampleValue(after, R"(sluice_http_requests_total{route="none",method="GET",status="404"})"), 1);
  EXPECT_GE(SampleValue(after, R"(sluice_http_request_duration_seconds_count{route="healthz"})"), 5);
  EXPECT_GT(SampleValue(after, "process_resident_memory_bytes"), 1e6);
  EXPECT_EQ(SampleValue(after, R"(sluice_db_pool_connections{state="in_use"})"), 0);
  EXPECT_GE(SampleValue(after, "sluice_http_connections_open"), 1);
  EXPECT_EQ(SampleValue(after, "sluice_uploads_running"), 0);
  EXPECT_EQ(SampleValue(after, "sluice_memory_budget_bytes"), 256.0 * 1024 * 1024);
  EXPECT_EQ(SampleValue(after, "sluice_memory_budget_used_bytes"), 0);
}

}  // namespace
}  // namespace sluice::testing
