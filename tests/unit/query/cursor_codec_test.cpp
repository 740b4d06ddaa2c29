// CursorCodec: round trips of keyset and offset positions (NULLs, empty and
// binary values), and every kind of tampering refused: each flipped bit, each
// truncation, a cursor of another query, another key, not base64url at all.
#include "query/cursor_codec.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "query/query_params.hpp"
#include "query_test_support.hpp"

namespace sluice::query {
namespace {

using testing::Q;
using testing::Titanic;

RowsQuery Parse(std::string_view text) {
  ParamError error;
  auto parsed = ParseRowsQuery(Q(text), Titanic(), {}, &error);
  EXPECT_TRUE(parsed.has_value()) << error.message;
  return parsed.value_or(RowsQuery{});
}

TEST(CursorCodec, KeysetRoundTrip) {
  CursorCodec codec("secret");
  KeysetPosition position{{std::string("Braund, Mr. Owen Harris"), std::nullopt, std::string(""),
                           std::string("\0\xff'`", 4)},
                          1234567890123};
  std::string token = codec.Encode("scope", position);
  for (char c : token) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << token;
  auto decoded = codec.Decode(token, "scope", 4);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message();
  EXPECT_EQ(std::get<KeysetPosition>(*decoded), position);
}

TEST(CursorCodec, TheTagIsStandardHmacSha256OfTheDerivedKey) {
  // Cursors made by earlier builds (OpenSSL's one-shot HMAC) must still be
  // accepted after a restart with the same jwt_secret: the tag is exactly
  // HMAC-SHA256(HMAC-SHA256(secret, label), payload), first 16 bytes.
  const std::string secret = "a-jwt-secret-of-some-length";
  CursorCodec codec(secret);
  for (const CursorPosition& position :
       {CursorPosition(KeysetPosition{{std::string("x"), std::nullopt}, 42}), CursorPosition(std::uint64_t{7})}) {
    std::string bytes;
    ASSERT_TRUE(Base64UrlDecode(codec.Encode("scope", position), bytes));
    ASSERT_GT(bytes.size(), 16u);
    const std::string label = "sluice cursor key v1";
    unsigned char key[32], mac[32];
    unsigned int length = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(label.data()), label.size(), key, &length);
    HMAC(EVP_sha256(), key, sizeof key, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size() - 16, mac,
         &length);
    EXPECT_EQ(bytes.substr(bytes.size() - 16), std::string(reinterpret_cast<const char*>(mac), 16));
  }
}

TEST(CursorCodec, OffsetRoundTrip) {
  CursorCodec codec("");
  auto decoded = codec.Decode(codec.Encode("agg", CursorPosition(std::uint64_t{5000000})), "agg", 0);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(std::get<std::uint64_t>(*decoded), 5000000u);
}

TEST(CursorCodec, EveryFlippedBitAndTruncationIsRefused) {
  CursorCodec codec("secret");
  std::string token = codec.Encode("scope", KeysetPosition{{std::string("x")}, 7});
  std::string bytes;
  ASSERT_TRUE(Base64UrlDecode(token, bytes));
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string altered = bytes;
      altered[i] = static_cast<char>(altered[i] ^ (1 << bit));
      auto decoded = codec.Decode(Base64UrlEncode(altered), "scope", 1);
      EXPECT_FALSE(decoded.has_value()) << "byte " << i << " bit " << bit;
      if (!decoded.has_value()) {
        EXPECT_EQ(decoded.error().domain(), core::ErrorDomain::kInvalid);
      }
    }
  }
  for (std::size_t length = 0; length < token.size(); ++length) {
    EXPECT_FALSE(codec.Decode(token.substr(0, length), "scope", 1).has_value()) << length;
  }
  // Each changed character of the text, too (also where only unused bits change).
  for (std::size_t i = 0; i < token.size(); ++i) {
    std::string altered = token;
    altered[i] = altered[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(codec.Decode(altered, "scope", 1).has_value()) << i;
  }
}

TEST(CursorCodec, AnotherQueryAnotherKeyOrGarbageIsRefused) {
  CursorCodec codec("secret");
  std::string token = codec.Encode("scope", KeysetPosition{{std::string("x")}, 7});
  EXPECT_FALSE(codec.Decode(token, "other scope", 1).has_value());
  EXPECT_FALSE(codec.Decode(token, "scope", 2).has_value());
  EXPECT_FALSE(CursorCodec("other secret").Decode(token, "scope", 1).has_value());
  EXPECT_FALSE(CursorCodec("").Decode(token, "scope", 1).has_value());
  EXPECT_TRUE(CursorCodec("secret").Decode(token, "scope", 1).has_value());  // same secret: same key
  for (const char* garbage : {"", "abc", "%%%", "a b", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "=", "null"}) {
    auto decoded = codec.Decode(garbage, "scope", 1);
    EXPECT_FALSE(decoded.has_value()) << garbage;
  }
  auto offset_token = codec.Encode("scope", CursorPosition(std::uint64_t{3}));
  EXPECT_FALSE(std::holds_alternative<KeysetPosition>(*codec.Decode(offset_token, "scope", 1)));
}

TEST(CursorCodec, ScopeCoversFiltersAndSortButNotSelectOrLimit) {
  TableSchema schema = Titanic();
  std::string base = RowsCursorScope(schema, Parse("sex=male&sort=name"));
  EXPECT_EQ(base, RowsCursorScope(schema, Parse("sex=male&sort=name&select=age&limit=5&format=csv")));
  EXPECT_NE(base, RowsCursorScope(schema, Parse("sex=female&sort=name")));
  EXPECT_NE(base, RowsCursorScope(schema, Parse("sex=neq:male&sort=name")));
  EXPECT_NE(base, RowsCursorScope(schema, Parse("sex=male&sort=name:desc")));
  EXPECT_NE(base, RowsCursorScope(schema, Parse("sex=male")));
  EXPECT_NE(base, RowsCursorScope(schema, Parse("sex=male&sort=name&age=gt:3")));
  TableSchema other = schema;
  other.name = "titanic2";
  EXPECT_NE(base, RowsCursorScope(other, Parse("sex=male&sort=name")));
  // Values are length-prefixed: moving a boundary changes the scope.
  EXPECT_NE(RowsCursorScope(schema, Parse("name=in:ab,c")), RowsCursorScope(schema, Parse("name=in:a,bc")));
}

TEST(CursorCodec, Base64Url) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  std::string out;
  EXPECT_TRUE(Base64UrlDecode("-_8", out));
  EXPECT_EQ(out, "\xfb\xff");
  EXPECT_FALSE(Base64UrlDecode("Zh", out));   // unused bits set: not canonical
  EXPECT_FALSE(Base64UrlDecode("Zm9v=", out));
  EXPECT_FALSE(Base64UrlDecode("Z", out));
  EXPECT_FALSE(Base64UrlDecode("Zm+v", out));
}

}  // namespace
}  // namespace sluice::query
