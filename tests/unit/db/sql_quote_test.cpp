// sql_quote: identifiers from hostile CSV headers (backticks, quotes,
// backslashes, unicode, NUL, overlong, trailing space, invalid UTF-8) and
// string literals with every byte mysql_real_escape_string escapes.
#include "db/sql_quote.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sluice::db {
namespace {

TEST(SqlQuoteTest, QuotesPlainAndHostileNames) {
  EXPECT_EQ(*QuoteIdentifier("name"), "`name`");
  EXPECT_EQ(*QuoteIdentifier("Number of Plays"), "`Number of Plays`");
  EXPECT_EQ(*QuoteIdentifier("a`b"), "`a``b`");
  EXPECT_EQ(*QuoteIdentifier("``"), "``````");
  EXPECT_EQ(*QuoteIdentifier("it's \"x\"\\"), "`it's \"x\"\\`");
  EXPECT_EQ(*QuoteIdentifier("x`; DROP TABLE t; --"), "`x``; DROP TABLE t; --`");
  EXPECT_EQ(*QuoteIdentifier("Größe €"), "`Größe €`");
  EXPECT_EQ(*QuoteIdentifier(" lead"), "` lead`");
  EXPECT_EQ(*QuoteIdentifier("tab\t"), "`tab\t`");  // only U+0020 is refused at the end
  EXPECT_EQ(*QuoteIdentifier("line\nbreak"), "`line\nbreak`");
}

TEST(SqlQuoteTest, RejectsWhatMariadbCannotStore) {
  EXPECT_FALSE(QuoteIdentifier(""));
  EXPECT_FALSE(QuoteIdentifier(std::string("a\0b", 3)));
  EXPECT_FALSE(QuoteIdentifier("trailing "));
  EXPECT_FALSE(QuoteIdentifier("emoji 😀"));                // outside the BMP
  EXPECT_FALSE(QuoteIdentifier("\xff\xfe"));               // not UTF-8
  EXPECT_FALSE(QuoteIdentifier("\xc0\x80"));               // overlong NUL
  EXPECT_FALSE(QuoteIdentifier("\xed\xa0\x80"));           // a surrogate
  EXPECT_FALSE(QuoteIdentifier("\xe2\x82"));               // truncated
  auto status = ValidateIdentifier(std::string("a\0", 2));
  EXPECT_EQ(status.domain(), core::ErrorDomain::kInvalid);
  EXPECT_NE(status.message().find("NUL"), std::string::npos);
}

TEST(SqlQuoteTest, CountsCharactersNotBytes) {
  std::string ascii(64, 'a');
  EXPECT_TRUE(QuoteIdentifier(ascii));
  EXPECT_FALSE(QuoteIdentifier(ascii + "a"));
  std::string wide;
  for (int i = 0; i < 64; ++i) wide += "é";  // 128 bytes, 64 characters
  EXPECT_TRUE(QuoteIdentifier(wide));
  EXPECT_FALSE(QuoteIdentifier(wide + "é"));
  EXPECT_EQ(Utf8Length(wide), 64);
  EXPECT_EQ(Utf8Length("\x80"), -1);
}

TEST(SqlQuoteTest, EscapesStringLiterals) {
  EXPECT_EQ(QuoteString(""), "''");
  EXPECT_EQ(QuoteString("plain"), "'plain'");
  EXPECT_EQ(QuoteString("O'Brien"), "'O\\'Brien'");
  EXPECT_EQ(QuoteString("a\\b"), "'a\\\\b'");
  EXPECT_EQ(QuoteString(std::string("n\0l", 3)), "'n\\0l'");
  EXPECT_EQ(QuoteString("l1\nl2\r"), "'l1\\nl2\\r'");
  EXPECT_EQ(QuoteString("say \"hi\""), "'say \\\"hi\\\"'");
  EXPECT_EQ(QuoteString("\x1a"), "'\\Z'");
  EXPECT_EQ(QuoteString("tab\tünï"), "'tab\tünï'");
  EXPECT_EQ(QuoteString("' OR 1=1 --"), "'\\' OR 1=1 --'");
}

}  // namespace
}  // namespace sluice::db
