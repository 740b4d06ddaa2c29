// Encoding: option names, UTF-8 validation (overlongs, surrogates, truncated
// sequences), BOM helpers, the Windows-1252 table, and the `auto` rule.
#include "csv/encoding.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sluice::csv {
namespace {

TEST(Encoding, ParseNames) {
  EXPECT_EQ(*ParseEncoding("utf-8"), Encoding::kUtf8);
  EXPECT_EQ(*ParseEncoding("UTF8"), Encoding::kUtf8);
  EXPECT_EQ(*ParseEncoding("latin-1"), Encoding::kLatin1);
  EXPECT_EQ(*ParseEncoding("ISO-8859-1"), Encoding::kLatin1);
  EXPECT_EQ(*ParseEncoding("windows-1252"), Encoding::kLatin1);
  EXPECT_EQ(*ParseEncoding("Auto"), Encoding::kAuto);
  auto bad = ParseEncoding("utf-16");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "encoding must be utf-8, latin-1 or auto, got 'utf-16'");
  EXPECT_EQ(EncodingName(Encoding::kLatin1), "latin-1");
}

TEST(Encoding, ValidatesUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("é € 😀"));
  EXPECT_FALSE(IsValidUtf8("caf\xE9"));            // Latin-1 é
  EXPECT_FALSE(IsValidUtf8("\xC3"));               // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));           // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));       // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));   // > U+10FFFF
  std::string big(1 << 20, 'x');
  EXPECT_TRUE(IsValidUtf8(big));
  big[700000] = '\xFF';
  EXPECT_FALSE(IsValidUtf8(big));
}

TEST(Encoding, Bom) {
  EXPECT_TRUE(HasUtf8Bom("\xEF\xBB\xBFx"));
  EXPECT_FALSE(HasUtf8Bom("\xEF\xBB"));
  EXPECT_EQ(StripUtf8Bom("\xEF\xBB\xBFid"), "id");
  EXPECT_EQ(StripUtf8Bom("id"), "id");
}

TEST(Encoding, Latin1ToUtf8) {
  EXPECT_EQ(Latin1ToUtf8("plain, ascii text over eight bytes"), "plain, ascii text over eight bytes");
  EXPECT_EQ(Latin1ToUtf8("caf\xE9 na\xEFve \xA0\xFF"), "café naïve \xC2\xA0ÿ");
  EXPECT_EQ(Latin1ToUtf8("\x80\x85\x8A\x92\x96\x97\x99\x9F"), "€…Š’–—™Ÿ");
  EXPECT_EQ(Latin1ToUtf8("\x81\x8D\x8F\x90\x9D"), "\xC2\x81\xC2\x8D\xC2\x8F\xC2\x90\xC2\x9D");
  // Every byte gives valid UTF-8.
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::string utf8 = Latin1ToUtf8(all);
  EXPECT_TRUE(IsValidUtf8(utf8));
  std::string appended = "x";
  AppendLatin1AsUtf8("\xE9", appended);
  EXPECT_EQ(appended, "xé");
}

TEST(Encoding, AutoDecidesOnTheFirstBlock) {
  EXPECT_EQ(DecideEncoding(Encoding::kAuto, "a,b\n1,2\n", false), Encoding::kUtf8);
  EXPECT_EQ(DecideEncoding(Encoding::kAuto, "a,b\ncafé,2\n", false), Encoding::kUtf8);
  EXPECT_EQ(DecideEncoding(Encoding::kAuto, "a,b\ncaf\xE9,2\n", false), Encoding::kLatin1);
  EXPECT_EQ(DecideEncoding(Encoding::kAuto, "a,b\ncaf\xE9,2\n", true), Encoding::kUtf8);  // BOM says UTF-8
  EXPECT_EQ(DecideEncoding(Encoding::kUtf8, "caf\xE9", false), Encoding::kUtf8);
  EXPECT_EQ(DecideEncoding(Encoding::kLatin1, "café", false), Encoding::kLatin1);
}

}  // namespace
}  // namespace sluice::csv
