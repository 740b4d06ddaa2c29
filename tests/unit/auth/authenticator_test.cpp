// Authenticator: static tokens and roles, the role hierarchy, JWT HS256 with
// exp/nbf/role, and every way a token must be refused (alg=none, wrong
// signature, expired, not yet valid, truncated, bad role, tampered payload).
#include "auth/authenticator.hpp"

#include <gtest/gtest.h>

namespace sluice::auth {
namespace {

constexpr int64_t kNow = 1790000000;
constexpr const char* kSecret = "jwt-secret-for-tests";

config::AuthConfig Config() {
  config::AuthConfig c;
  c.tokens = {{"read", "r-token"}, {"write", "w-token"}, {"admin", "a-token"}};
  c.jwt_secret = kSecret;
  return c;
}

std::string Bearer(const std::string& token) { return "Bearer " + token; }

std::string Jwt(const std::string& payload, const std::string& secret = kSecret,
                const std::string& header = R"({"alg":"HS256","typ":"JWT"})") {
  return SignJwtHs256(header, payload, secret);
}

TEST(Base64Url, RoundTripsAndRejectsJunk) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00\x01"}) {
    std::string back;
    ASSERT_TRUE(Base64UrlDecode(Base64UrlEncode(s), back)) << s;
    EXPECT_EQ(back, s);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("a", out));
  EXPECT_FALSE(Base64UrlDecode("ab=c", out));
  EXPECT_FALSE(Base64UrlDecode("a+b/", out));
}

TEST(Authenticator, DisabledWithoutTokensOrSecretActsAsAdmin) {
  Authenticator auth(config::AuthConfig{});
  EXPECT_FALSE(auth.enabled());
  auto outcome = auth.Check(std::nullopt, Role::kAdmin, kNow);
  ASSERT_TRUE(outcome.principal);
  EXPECT_EQ(outcome.principal->role, Role::kAdmin);
}

TEST(Authenticator, MissingOrMalformedHeaderIs401) {
  Authenticator auth(Config());
  auto missing = auth.Check(std::nullopt, Role::kRead, kNow);
  ASSERT_TRUE(missing.error);
  EXPECT_EQ(missing.error->status, 401);
  EXPECT_EQ(missing.error->code, "unauthorized");
  auto basic = auth.Check("Basic dXNlcjpwYXNz", Role::kRead, kNow);
  ASSERT_TRUE(basic.error);
  EXPECT_EQ(basic.error->status, 401);
  auto empty = auth.Check("Bearer ", Role::kRead, kNow);
  ASSERT_TRUE(empty.error);
}

TEST(Authenticator, StaticTokensCarryTheirRole) {
  Authenticator auth(Config());
  auto read = auth.Check(Bearer("r-token"), Role::kRead, kNow);
  ASSERT_TRUE(read.principal);
  EXPECT_EQ(read.principal->role, Role::kRead);
  EXPECT_EQ(read.principal->subject, "token:1");
  auto lower_case_scheme = auth.Check("bearer w-token", Role::kWrite, kNow);
  ASSERT_TRUE(lower_case_scheme.principal);
  auto unknown = auth.Check(Bearer("r-tokenx"), Role::kRead, kNow);
  ASSERT_TRUE(unknown.error);
  EXPECT_EQ(unknown.error->status, 401);
  auto prefix = auth.Check(Bearer("r-toke"), Role::kRead, kNow);
  ASSERT_TRUE(prefix.error);
}

TEST(Authenticator, RolesNest) {
  Authenticator auth(Config());
  struct Case {
    const char* token;
    Role needed;
    int status;  // 0 = allowed
  };
  for (const Case& c : {Case{"r-token", Role::kRead, 0}, Case{"r-token", Role::kWrite, 403},
                        Case{"r-token", Role::kAdmin, 403}, Case{"w-token", Role::kRead, 0},
                        Case{"w-token", Role::kWrite, 0}, Case{"w-token", Role::kAdmin, 403},
                        Case{"a-token", Role::kRead, 0}, Case{"a-token", Role::kWrite, 0},
                        Case{"a-token", Role::kAdmin, 0}}) {
    auto outcome = auth.Check(Bearer(c.token), c.needed, kNow);
    if (c.status == 0) {
      EXPECT_TRUE(outcome.principal) << c.token << " " << RoleName(c.needed);
    } else {
      ASSERT_TRUE(outcome.error) << c.token << " " << RoleName(c.needed);
      EXPECT_EQ(outcome.error->status, c.status);
      EXPECT_EQ(outcome.error->code, "forbidden");
    }
  }
}

TEST(Authenticator, ValidJwtGivesItsRole) {
  Authenticator auth(Config());
  auto jwt = Jwt(R"({"sub":"alice","role":"write","exp":)" + std::to_string(kNow + 60) + "}");
  auto outcome = auth.Check(Bearer(jwt), Role::kWrite, kNow);
  ASSERT_TRUE(outcome.principal) << outcome.error->message;
  EXPECT_EQ(outcome.principal->role, Role::kWrite);
  EXPECT_EQ(outcome.principal->subject, "alice");
  auto forbidden = auth.Check(Bearer(jwt), Role::kAdmin, kNow);
  ASSERT_TRUE(forbidden.error);
  EXPECT_EQ(forbidden.error->status, 403);
}

TEST(Authenticator, RefusesBadJwts) {
  Authenticator auth(Config());
  const std::string exp = std::to_string(kNow + 60);
  struct Case {
    std::string name;
    std::string token;
    std::string message_part;
  };
  std::string good = Jwt(R"({"role":"admin","exp":)" + exp + "}");
  std::string tampered = good;
  tampered[good.find('.') + 3] ^= 1;  // flips a payload character
  std::vector<Case> cases = {
      {"expired", Jwt(R"({"role":"admin","exp":)" + std::to_string(kNow) + "}"), "expired"},
      {"not yet valid", Jwt(R"({"role":"admin","exp":)" + exp + R"(,"nbf":)" + std::to_string(kNow + 10) + "}"),
       "not valid yet"},
      {"wrong secret", Jwt(R"({"role":"admin","exp":)" + exp + "}", "other-secret"), "signature"},
      {"alg none", Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(R"({"role":"admin","exp":)" + exp + "}") + ".",
       "HS256"},
      {"alg HS512", Jwt(R"({"role":"admin","exp":)" + exp + "}", kSecret, R"({"alg":"HS512"})"), "HS256"},
      {"no exp", Jwt(R"({"role":"admin"})"), "exp"},
      {"bad role", Jwt(R"({"role":"root","exp":)" + exp + "}"), "role"},
      {"no role", Jwt(R"({"exp":)" + exp + "}"), "role"},
      {"truncated", good.substr(0, good.size() - 5), ""},
      {"signature cut to a valid length", good.substr(0, good.size() - 3), "signature"},
      {"tampered payload", tampered, ""},
      {"payload not json", Jwt("not json"), "JSON"},
  };
  for (const auto& c : cases) {
    auto outcome = auth.Check(Bearer(c.token), Role::kRead, kNow);
    ASSERT_TRUE(outcome.error) << c.name;
    EXPECT_EQ(outcome.error->status, 401) << c.name;
    EXPECT_NE(outcome.error->message.find(c.message_part), std::string::npos) << c.name << ": " << outcome.error->message;
  }
}

TEST(Authenticator, JwtsNeedASecret) {
  config::AuthConfig c;
  c.tokens = {{"admin", "a-token"}};
  Authenticator auth(c);
  auto outcome = auth.Check(Bearer(Jwt(R"({"role":"admin","exp":9999999999})")), Role::kRead, kNow);
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->status, 401);
}

}  // namespace
}  // namespace sluice::auth
