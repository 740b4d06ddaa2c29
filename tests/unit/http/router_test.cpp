// Router: literal and parameter segments, 404 vs 405 with Allow, HEAD via GET,
// trailing slashes, malformed patterns and duplicates.
#include "http/router.hpp"

#include <gtest/gtest.h>

#include "http/exchange.hpp"

namespace sluice::http {
namespace {

Route MakeRoute(std::string method, std::string pattern, std::string name) {
  return Route{std::move(method), std::move(pattern), std::move(name), BodyLimit::kSmall, nullptr};
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(router_.Add(MakeRoute("GET", "/healthz", "healthz")));
    ASSERT_TRUE(router_.Add(MakeRoute("GET", "/v1/uploads", "uploads.list")));
    ASSERT_TRUE(router_.Add(MakeRoute("POST", "/v1/uploads", "uploads.create")));
    ASSERT_TRUE(router_.Add(MakeRoute("GET", "/v1/uploads/{id}", "uploads.get")));
    ASSERT_TRUE(router_.Add(MakeRoute("DELETE", "/v1/uploads/{id}", "uploads.delete")));
    ASSERT_TRUE(router_.Add(MakeRoute("GET", "/v1/uploads/{id}/events", "uploads.events")));
    ASSERT_TRUE(router_.Add(MakeRoute("GET", "/v1/tables/{table}/rows", "tables.rows")));
  }
  Router router_;
};

TEST_F(RouterTest, MatchesLiteralRoute) {
  auto m = router_.Match("GET", "/healthz");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->name, "healthz");
  EXPECT_TRUE(m.params.empty());
}

TEST_F(RouterTest, ExtractsPathParameters) {
  auto m = router_.Match("GET", "/v1/uploads/01JABC/events");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->name, "uploads.events");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "id");
  EXPECT_EQ(m.params[0].second, "01JABC");

  auto rows = router_.Match("GET", "/v1/tables/titanic/rows");
  ASSERT_EQ(rows.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(rows.params[0], (std::pair<std::string, std::string>{"table", "titanic"}));
}

TEST_F(RouterTest, MethodDecidesBetweenRoutesOnOnePath) {
  EXPECT_EQ(router_.Match("POST", "/v1/uploads").route->name, "uploads.create");
  EXPECT_EQ(router_.Match("GET", "/v1/uploads").route->name, "uploads.list");
  EXPECT_EQ(router_.Match("DELETE", "/v1/uploads/x").route->name, "uploads.delete");
}

TEST_F(RouterTest, UnknownPathIsNotFound) {
  EXPECT_EQ(router_.Match("GET", "/nope").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router_.Match("GET", "/v1/uploads/a/b/c").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router_.Match("GET", "/v1").kind, RouteMatch::Kind::kNotFound);
}

TEST_F(RouterTest, KnownPathWithOtherMethodIsMethodNotAllowed) {
  auto m = router_.Match("PUT", "/v1/uploads/x");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, HEAD, DELETE");
  auto h = router_.Match("POST", "/healthz");
  ASSERT_EQ(h.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(h.allow, "GET, HEAD");
}

TEST_F(RouterTest, HeadIsServedByGet) {
  auto m = router_.Match("HEAD", "/v1/uploads/abc");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->name, "uploads.get");
}

TEST_F(RouterTest, TrailingSlashIsIgnored) {
  EXPECT_EQ(router_.Match("GET", "/v1/uploads/").route->name, "uploads.list");
  EXPECT_EQ(router_.Match("GET", "/healthz/").route->name, "healthz");
}

TEST_F(RouterTest, EmptyParameterSegmentDoesNotMatch) {
  EXPECT_EQ(router_.Match("GET", "/v1/tables//rows").kind, RouteMatch::Kind::kNotFound);
}

TEST(Router, RejectsMalformedAndDuplicatePatterns) {
  Router router;
  EXPECT_FALSE(router.Add(MakeRoute("GET", "", "a")));
  EXPECT_FALSE(router.Add(MakeRoute("GET", "no-slash", "a")));
  EXPECT_FALSE(router.Add(MakeRoute("GET", "/x/{id", "a")));
  EXPECT_FALSE(router.Add(MakeRoute("GET", "/x/a{id}", "a")));
  EXPECT_FALSE(router.Add(MakeRoute("GET", "/x/{}", "a")));
  EXPECT_TRUE(router.Add(MakeRoute("GET", "/x/{id}", "a")));
  EXPECT_FALSE(router.Add(MakeRoute("GET", "/x/{id}", "b")));
  EXPECT_TRUE(router.Add(MakeRoute("POST", "/x/{id}", "c")));
  EXPECT_EQ(router.routes().size(), 2u);
}

TEST(Router, RootPath) {
  Router router;
  ASSERT_TRUE(router.Add(MakeRoute("GET", "/", "console")));
  EXPECT_EQ(router.Match("GET", "/").kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(router.Match("GET", "/x").kind, RouteMatch::Kind::kNotFound);
}

}  // namespace
}  // namespace sluice::http
