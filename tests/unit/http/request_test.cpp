// Request helpers: percent-decoding, query strings, header lookup; the API
// error body and ULIDs, which every response carries.
#include "http/request.hpp"

#include <gtest/gtest.h>

#include "core/ids.hpp"
#include "http/status.hpp"

namespace sluice::http {
namespace {

TEST(PercentDecode, DecodesEscapesAndPlus) {
  std::string out;
  ASSERT_TRUE(PercentDecode("a%20b%2Fc+d", out, true));
  EXPECT_EQ(out, "a b/c d");
  ASSERT_TRUE(PercentDecode("a+b", out, false));
  EXPECT_EQ(out, "a+b");
  ASSERT_TRUE(PercentDecode("%e2%82%AC", out, false));
  EXPECT_EQ(out, "\xe2\x82\xac");
}

TEST(PercentDecode, RejectsMalformedEscapes) {
  std::string out;
  EXPECT_FALSE(PercentDecode("%", out, false));
  EXPECT_FALSE(PercentDecode("%4", out, false));
  EXPECT_FALSE(PercentDecode("abc%", out, false));
  EXPECT_FALSE(PercentDecode("%zz", out, false));
  EXPECT_TRUE(PercentDecode("%41", out, false));
  EXPECT_EQ(out, "A");
}

TEST(ParseQueryString, SplitsAndDecodesInOrder) {
  ParamList params;
  ASSERT_TRUE(ParseQueryString("limit=0,2&sex=male&name=like%3ABraund&flag&&x=a%26b", params));
  ASSERT_EQ(params.size(), 5u);
  EXPECT_EQ(params[0], (std::pair<std::string, std::string>{"limit", "0,2"}));
  EXPECT_EQ(params[2], (std::pair<std::string, std::string>{"name", "like:Braund"}));
  EXPECT_EQ(params[3], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(params[4], (std::pair<std::string, std::string>{"x", "a&b"}));
  EXPECT_FALSE(ParseQueryString("a=%G1", params));
}

TEST(Request, HeaderLookupIgnoresCase) {
  Request request;
  request.headers = {{"Content-Type", "text/csv"}, {"x-request-id", "abc"}};
  EXPECT_EQ(request.Header("content-type").value_or(""), "text/csv");
  EXPECT_EQ(request.Header("X-REQUEST-ID").value_or(""), "abc");
  EXPECT_FALSE(request.Header("Accept"));
}

TEST(ErrorBody, HasTheApiShape) {
  EXPECT_EQ(ErrorBody("not_found", "no route for /x"), R"({"error":{"code":"not_found","message":"no route for /x"}})");
  EXPECT_EQ(ErrorBody("invalid_parameter", "bad \"ms\"", "ms"),
            R"({"error":{"code":"invalid_parameter","message":"bad \"ms\"","param":"ms"}})");
  EXPECT_EQ(ErrorBody("internal", "boom", "", "01J"), R"({"error":{"code":"internal","message":"boom","id":"01J"}})");
}

TEST(Ulid, KnownEncodingAndOrder) {
  EXPECT_EQ(core::FormatUlid(0, 0, 0), "00000000000000000000000000");
  EXPECT_EQ(core::FormatUlid(1469918176385ull, 0, 0).substr(0, 10), "01ARYZ6S41");  // from the ULID spec
  EXPECT_EQ(core::FormatUlid(0, 0xffff, ~0ull).substr(10), "ZZZZZZZZZZZZZZZZ");
  auto a = core::NewUlid();
  auto b = core::NewUlid();
  EXPECT_EQ(a.size(), 26u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace sluice::http
