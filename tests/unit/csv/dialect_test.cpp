// Dialect: validation, option resolution (format=tsv, explicit delimiter and
// quote) and delimiter sniffing, including the ambiguous and hopeless cases
// and samples whose quoted fields hide other candidates.
#include "csv/dialect.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace sluice::csv {
namespace {

char Sniff(std::string_view sample, bool whole = true) {
  auto r = SniffDelimiter(sample, '"', whole);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
  return r ? *r : '?';
}

TEST(Sniff, EachCandidate) {
  EXPECT_EQ(Sniff("a,b,c\n1,2,3\n4,5,6\n"), ',');
  EXPECT_EQ(Sniff("a;b;c\n1;2;3\n"), ';');
  EXPECT_EQ(Sniff("a\tb\n1\t2\n"), '\t');
  EXPECT_EQ(Sniff("a|b\n1|2\n"), '|');
}

TEST(Sniff, QuotedFieldsHideOtherCandidates) {
  // Commas inside quotes, semicolons as delimiter.
  EXPECT_EQ(Sniff("name;city\n\"Doe, John\";\"Paris, FR\"\n\"a,b,c\";x\n"), ';');
  // Newlines and semicolons inside quotes do not break the comma rows.
  EXPECT_EQ(Sniff("id,note\n1,\"x;y\nz;w\"\n2,\"p;q\"\n"), ',');
}

TEST(Sniff, DecimalCommasUnderSemicolons) {
  EXPECT_EQ(Sniff("product;price\nA;1,50\nB;2\nC;3,75\n"), ';');
}

TEST(Sniff, MajorityWinsOverARaggedRow) {
  EXPECT_EQ(Sniff("a,b\n1,2\n3,4,5\n6,7\n8,9\n"), ',');
}

TEST(Sniff, CutLastRowIsIgnoredUnlessWholeFile) {
  // The sample ends inside a row: ignored, so ',' is still consistent.
  EXPECT_EQ(Sniff("a,b,c\n1,2,3\n4,5", false), ',');
  // An open quote at the end of a sample is a cut row too.
  EXPECT_EQ(Sniff("a,b\n1,\"x\ny", false), ',');
}

TEST(Sniff, CrLfAndCrRows) {
  EXPECT_EQ(Sniff("a;b\r\n1;2\r\n"), ';');
  EXPECT_EQ(Sniff("a|b\r1|2\r"), '|');
}

TEST(Sniff, HeaderOnlyFile) { EXPECT_EQ(Sniff("id,name,amount"), ','); }

TEST(Sniff, AmbiguousIsAnErrorNamingTheCandidates) {
  auto r = SniffDelimiter("a,b;c\n1,2;3\n", '"', true);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().domain(), core::ErrorDomain::kInvalid);
  EXPECT_EQ(r.error().message(),
            "ambiguous delimiter: ',' (2 fields), ';' (2 fields) each give 2 of 2 rows the same field "
            "count; set delimiter=");
  auto tab_pipe = SniffDelimiter("a\tb|c\n", '"', true);
  ASSERT_FALSE(tab_pipe.has_value());
  EXPECT_NE(tab_pipe.error().message().find("tab (2 fields), '|' (2 fields)"), std::string::npos);
}

TEST(Sniff, NoCandidateIsAnError) {
  auto one_column = SniffDelimiter("email\na@b.c\nd@e.f\n", '"', true);
  ASSERT_FALSE(one_column.has_value());
  EXPECT_NE(one_column.error().message().find("set delimiter="), std::string::npos);
  auto ragged = SniffDelimiter("a,b\n1\n2\n3\n", '"', true);  // only the header has 2 fields
  EXPECT_FALSE(ragged.has_value());
  auto empty = SniffDelimiter("", '"', true);
  ASSERT_FALSE(empty.has_value());
  EXPECT_NE(empty.error().message().find("no complete row"), std::string::npos);
  EXPECT_FALSE(SniffDelimiter("\n\n", '"', true).has_value());
}

TEST(Sniff, OtherQuoteCharacter) {
  auto r = SniffDelimiter("'a;b',c\n'x;y',d\n", '\'', true);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, ',');
}

TEST(Sniff, Titanic) {
  std::ifstream in(std::string(SLUICE_SHARED_DATA_DIR) + "/titanic.csv", std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  EXPECT_EQ(Sniff(s.str().substr(0, 4096), false), ',');
}

TEST(ResolveDialect, Options) {
  DialectOptions o;
  auto sniffed = ResolveDialect(o, "a;b\n1;2\n", true);
  ASSERT_TRUE(sniffed.has_value());
  EXPECT_EQ(sniffed->delimiter, ';');
  EXPECT_EQ(sniffed->quote, '"');
  EXPECT_TRUE(sniffed->header);

  o.format = Format::kTsv;
  auto tsv = ResolveDialect(o, "a,b\n", true);  // tsv does not sniff
  ASSERT_TRUE(tsv.has_value());
  EXPECT_EQ(tsv->delimiter, '\t');

  o.delimiter = "|";
  o.quote = "'";
  o.header = false;
  auto explicit_one = ResolveDialect(o, "", true);
  ASSERT_TRUE(explicit_one.has_value());
  EXPECT_EQ(explicit_one->delimiter, '|');
  EXPECT_EQ(explicit_one->quote, '\'');
  EXPECT_FALSE(explicit_one->header);

  o.delimiter = "tab";
  EXPECT_EQ(ResolveDialect(o, "", true)->delimiter, '\t');
}

TEST(ResolveDialect, BadOptions) {
  DialectOptions o;
  o.delimiter = ";;";
  auto two = ResolveDialect(o, "", true);
  ASSERT_FALSE(two.has_value());
  EXPECT_EQ(two.error().message(), "delimiter must be one character, got ';;'");
  o.delimiter = "\"";
  auto same = ResolveDialect(o, "", true);
  ASSERT_FALSE(same.has_value());
  EXPECT_EQ(same.error().message(), "delimiter and quote are both '\"'");
  o.delimiter = "\n";
  EXPECT_FALSE(ResolveDialect(o, "", true).has_value());
  o.delimiter = ",";
  o.quote = "";
  EXPECT_FALSE(ResolveDialect(o, "", true).has_value());
  o.quote = "\r";
  EXPECT_FALSE(ResolveDialect(o, "", true).has_value());
}

TEST(ResolveDialect, SniffErrorsPassThrough) {
  DialectOptions o;
  auto r = ResolveDialect(o, "x,y;z\n", true);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("ambiguous delimiter"), std::string::npos);
}

}  // namespace
}  // namespace sluice::csv
