// The console over real HTTP from the real binary (auth on, no other
// services needed): GET / and /assets/* are public while the API is not;
// content types; ETag and 304 (no body, no length); gzip that decodes to the
// same bytes; the Content-Security-Policy on every answer; HEAD; 404.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "support/http_client.hpp"
#include "support/sluice_process.hpp"
#include "zlib/gzip_stream.hpp"

namespace sluice::testing {
namespace {

std::string HeaderOf(const std::string& headers, const std::string& name) {
  std::regex line("(?:^|\r\n)" + name + ": ([^\r\n]*)", std::regex::icase);
  std::smatch m;
  return std::regex_search(headers, m, line) ? m[1].str() : "";
}

std::string Gunzip(const std::string& gz) {
  std::string out;
  glue::GzipInflater inflater;
  EXPECT_TRUE(inflater.Feed(gz, [&out](std::string_view piece) { out.append(piece); })) << inflater.error();
  EXPECT_TRUE(inflater.Finish());
  return out;
}

class ConsoleHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.WriteConf("", "[auth]\ntokens = read:console-http-token\n");
    std::string error;
    ASSERT_TRUE(server_.Start(&error)) << error;
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << server_.Log();
  }
  SluiceProcess server_;
};

TEST_F(ConsoleHttpTest, PageIsPublicHtmlWithStrictPolicy) {
  auto page = Fetch(server_.Url("/"));
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(HeaderOf(page.headers, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<!doctype html>"), std::string::npos);
  EXPECT_NE(page.body.find("/assets/app.js"), std::string::npos);
  std::string csp = HeaderOf(page.headers, "Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << page.headers;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(HeaderOf(page.headers, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(HeaderOf(page.headers, "Content-Length"), std::to_string(page.body.size()));
  // The API itself still wants the token.
  EXPECT_EQ(Fetch(server_.Url("/v1/tables")).status, 401);
}

TEST_F(ConsoleHttpTest, AssetsHaveTheirContentTypes) {
  struct Case {
    const char* path;
    const char* type;
  };
  for (auto [path, type] : {Case{"/assets/app.js", "text/javascript; charset=utf-8"},
                            Case{"/assets/console.css", "text/css; charset=utf-8"},
                            Case{"/assets/favicon.svg", "image/svg+xml"},
                            Case{"/assets/index.html", "text/html; charset=utf-8"}}) {
    auto r = Fetch(server_.Url(path));
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(HeaderOf(r.headers, "Content-Type"), type) << path;
    EXPECT_FALSE(HeaderOf(r.headers, "Content-Security-Policy").empty()) << path;
    EXPECT_FALSE(r.body.empty()) << path;
  }
  auto missing = Fetch(server_.Url("/assets/nope.js"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("\"code\":\"not_found\""), std::string::npos) << missing.body;
  EXPECT_EQ(Fetch(server_.Url("/assets/")).status, 404);
  EXPECT_EQ(Fetch(server_.Url("/assets/a/b.js")).status, 404);
  EXPECT_EQ(Fetch(server_.Url("/"), {.method = "POST", .body = "x"}).status, 405);
}

TEST_F(ConsoleHttpTest, EtagGivesNotModified) {
  auto first = Fetch(server_.Url("/assets/app.js"));
  ASSERT_EQ(first.status, 200);
  std::string etag = HeaderOf(first.headers, "ETag");
  ASSERT_FALSE(etag.empty()) << first.headers;
  EXPECT_EQ(HeaderOf(first.headers, "Cache-Control"), "no-cache");

  auto again = Fetch(server_.Url("/assets/app.js"), {.headers = {"If-None-Match: " + etag}});
  EXPECT_EQ(again.status, 304) << again.headers;
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(HeaderOf(again.headers, "ETag"), etag);
  EXPECT_EQ(HeaderOf(again.headers, "Content-Length"), "");
  EXPECT_FALSE(HeaderOf(again.headers, "Content-Security-Policy").empty());

  auto other = Fetch(server_.Url("/assets/app.js"), {.headers = {"If-None-Match: \"something-else\""}});
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.body, first.body);
  // Another file's tag does not revalidate this one.
  auto page = Fetch(server_.Url("/"), {.headers = {"If-None-Match: " + etag}});
  EXPECT_EQ(page.status, 200);
}

TEST_F(ConsoleHttpTest, GzipWhenAcceptedDecodesToTheSameBytes) {
  auto plain = Fetch(server_.Url("/assets/table_browser.js"));
  ASSERT_EQ(plain.status, 200);
  auto gz = Fetch(server_.Url("/assets/table_browser.js"), {.headers = {"Accept-Encoding: gzip"}});
  ASSERT_EQ(gz.status, 200);
  EXPECT_EQ(HeaderOf(gz.headers, "Content-Encoding"), "gzip");
  EXPECT_EQ(HeaderOf(gz.headers, "Vary"), "Accept-Encoding");
  EXPECT_LT(gz.body.size(), plain.body.size());
  EXPECT_EQ(Gunzip(gz.body), plain.body);
  EXPECT_NE(HeaderOf(gz.headers, "ETag"), HeaderOf(plain.headers, "ETag"));
  // The gzip tag revalidates too.
  auto again = Fetch(server_.Url("/assets/table_browser.js"),
                     {.headers = {"Accept-Encoding: gzip", "If-None-Match: " + HeaderOf(gz.headers, "ETag")}});
  EXPECT_EQ(again.status, 304);
}

TEST_F(ConsoleHttpTest, HeadAnswersHeadersOnly) {
  auto head = Fetch(server_.Url("/"), {.method = "HEAD"});
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_FALSE(HeaderOf(head.headers, "ETag").empty());
}

}  // namespace
}  // namespace sluice::testing
