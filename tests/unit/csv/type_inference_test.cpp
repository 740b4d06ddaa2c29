// Type inference: each value's narrowest type, widening by later values
// (never losing or altering one), leading zeros and `+`, DECIMAL limits,
// DOUBLE's 15 digits, dates and date-times, NULLs, overrides and `types=text`,
// merging blocks inferred in parallel, and the titanic columns end to end.
#include "csv/type_inference.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "csv/header.hpp"
#include "csv/parser.hpp"

namespace sluice::csv {
namespace {

std::string TypeOf(std::initializer_list<std::string_view> values) {
  ColumnType t;
  for (std::string_view v : values) t = Widen(t, v);
  return SqlTypeText(t);
}

TEST(Classify, Integers) {
  EXPECT_EQ(TypeOf({"0"}), "BIGINT");
  EXPECT_EQ(TypeOf({"42", "-7", "-0"}), "BIGINT");
  EXPECT_EQ(TypeOf({"9223372036854775807", "-9223372036854775808"}), "BIGINT");
  EXPECT_EQ(TypeOf({"9223372036854775808"}), "DECIMAL(19,0)");  // BIGINT overflow
  EXPECT_EQ(TypeOf({"1", "123456789012345678901234567890"}), "DECIMAL(30,0)");
}

TEST(Classify, LeadingZerosAndPlusStayText) {
  EXPECT_EQ(TypeOf({"007"}), "TEXT");
  EXPECT_EQ(TypeOf({"1", "2", "0042"}), "TEXT");
  EXPECT_EQ(TypeOf({"+34"}), "TEXT");
  EXPECT_EQ(TypeOf({"-007"}), "TEXT");
  EXPECT_EQ(TypeOf({"00.5"}), "TEXT");
  EXPECT_EQ(TypeOf({"0.5", "0"}), "DECIMAL(1,1)");
}

TEST(Classify, OtherNonNumbersStayText) {
  for (std::string_view v : {" 5", "5 ", "1.", ".5", "1,5", "1e", "1e+", "--1", "-", "inf", "NaN", "0x1F",
                             "1_000", "١٢"}) {
    EXPECT_EQ(TypeOf({v}), "TEXT") << v;
  }
}

TEST(Classify, Decimals) {
  EXPECT_EQ(TypeOf({"1.5", "10.25"}), "DECIMAL(4,2)");
  EXPECT_EQ(TypeOf({"-0.001"}), "DECIMAL(3,3)");
  EXPECT_EQ(TypeOf({"1.50"}), "DECIMAL(3,2)");  // the trailing zero stays
  EXPECT_EQ(TypeOf({"12", "0.5"}), "DECIMAL(3,1)");
  // Limits: precision 65, scale 30.
  const std::string p65 = std::string(35, '9') + "." + std::string(30, '9');
  EXPECT_EQ(TypeOf({p65}), "DECIMAL(65,30)");
}

TEST(Classify, DoubleForExponentsAndPastDecimalLimits) {
  EXPECT_EQ(TypeOf({"1e5", "2.5E-3", "-1.25e+10"}), "DOUBLE");
  EXPECT_EQ(TypeOf({"1", "1.5", "1e3"}), "DOUBLE");
  // Scale 31 but few significant digits: DOUBLE holds it.
  EXPECT_EQ(TypeOf({"0." + std::string(30, '0') + "1"}), "DOUBLE");
  // 66 digits of precision, one significant: DOUBLE.
  EXPECT_EQ(TypeOf({"1" + std::string(65, '0')}), "DOUBLE");
}

TEST(Classify, TextWhenDoubleWouldRound) {
  // 40 significant digits past DECIMAL's scale: DOUBLE would round it.
  EXPECT_EQ(TypeOf({"0." + std::string(40, '1')}), "TEXT");
  // A 19-digit integer cannot join a DOUBLE column without rounding.
  EXPECT_EQ(TypeOf({"1234567890123456789", "1e3"}), "TEXT");
  EXPECT_EQ(TypeOf({"1e3", "1234567890123456789"}), "TEXT");
  EXPECT_EQ(TypeOf({"123456789012345", "1e3"}), "DOUBLE");  // 15 digits are fine
  // Out of DOUBLE's range.
  EXPECT_EQ(TypeOf({"1e400"}), "TEXT");
  EXPECT_EQ(TypeOf({"1e-400"}), "TEXT");
  EXPECT_EQ(TypeOf({"0e5"}), "DOUBLE");
  EXPECT_EQ(TypeOf({"-0.000e-999"}), "DOUBLE");  // zero is zero at any exponent
  EXPECT_EQ(TypeOf({"0.0001e-400"}), "TEXT");
}

TEST(Classify, DatesAndDatetimes) {
  EXPECT_EQ(TypeOf({"2020-01-02", "1999-12-31"}), "DATE");
  EXPECT_EQ(TypeOf({"2024-02-29"}), "DATE");
  EXPECT_EQ(TypeOf({"2023-02-29"}), "TEXT");  // not a leap year
  EXPECT_EQ(TypeOf({"2000-02-29"}), "DATE");
  EXPECT_EQ(TypeOf({"1900-02-29"}), "TEXT");
  for (std::string_view v : {"2020-13-01", "2020-00-10", "2020-04-31", "0000-01-01", "2020-1-01", "2020/01/01",
                             "2020-01-01 ", "2020-01-01 25:00:00", "2020-01-01 10:60:00",
                             "2020-01-01 10:00:60", "2020-01-01 10:00", "2020-01-01 10:00:00Z",
                             "2020-01-01T10:00:00+02:00", "2020-01-01 10:00:00.", "2020-01-01 10:00:00.1234567"}) {
    EXPECT_EQ(TypeOf({v}), "TEXT") << v;
  }
  EXPECT_EQ(TypeOf({"2020-01-02 03:04:05"}), "DATETIME");
  EXPECT_EQ(TypeOf({"2020-01-02T03:04:05"}), "DATETIME");
  EXPECT_EQ(TypeOf({"2020-01-02 03:04:05.123"}), "DATETIME(3)");
  EXPECT_EQ(TypeOf({"2020-01-02 03:04:05.1", "2020-01-02T03:04:05.123456"}), "DATETIME(6)");
  EXPECT_EQ(TypeOf({"2020-01-02", "2020-01-02 03:04:05"}), "DATETIME");  // a date widens to midnight
  EXPECT_EQ(TypeOf({"2020-01-02", "42"}), "TEXT");
}

TEST(Widen, EmptyValuesAreNullAndDoNotChangeTheType) {
  EXPECT_EQ(TypeOf({"", "1", "", "2"}), "BIGINT");
  EXPECT_EQ(TypeOf({"", ""}), "TEXT");
  ColumnType t = Widen(ColumnType{}, "");
  EXPECT_EQ(t.kind, TypeKind::kNull);
}

TEST(Widen, LaterValuesWidenTheColumn) {
  ColumnType t;
  t = Widen(t, "1");
  EXPECT_EQ(SqlTypeText(t), "BIGINT");
  t = Widen(t, "2.50");
  EXPECT_EQ(SqlTypeText(t), "DECIMAL(3,2)");
  t = Widen(t, "1234.5");
  EXPECT_EQ(SqlTypeText(t), "DECIMAL(6,2)");
  t = Widen(t, "6e2");
  EXPECT_EQ(SqlTypeText(t), "DOUBLE");
  t = Widen(t, "n/a");
  EXPECT_EQ(SqlTypeText(t), "TEXT");
  t = Widen(t, "5");  // TEXT never narrows
  EXPECT_EQ(SqlTypeText(t), "TEXT");
}

TEST(Widen, TextGrowsWithTheLongestValue) {
  ColumnType t = Widen(ColumnType{}, "x");
  t = Widen(t, std::string(70000, 'y'));
  EXPECT_EQ(SqlTypeText(t), "MEDIUMTEXT");
  t.max_bytes = 20u << 20;
  EXPECT_EQ(SqlTypeText(t), "LONGTEXT");
  // A number column that turns into TEXT keeps its longest value.
  ColumnType n = Widen(ColumnType{}, std::string(70000, '1'));
  EXPECT_EQ(SqlTypeText(n), "MEDIUMTEXT");
}

TEST(Join, IsOrderFree) {
  const std::vector<std::string_view> values = {"1", "2.5", "", "-300", "0.125"};
  ColumnType forward, backward;
  for (auto v : values) forward = Widen(forward, v);
  for (auto it = values.rbegin(); it != values.rend(); ++it) backward = Widen(backward, *it);
  EXPECT_EQ(forward, backward);
  EXPECT_EQ(SqlTypeText(forward), "DECIMAL(6,3)");
  EXPECT_EQ(Join(Classify("1"), Classify("2020-01-01")).kind, TypeKind::kText);
}

TEST(Fits, ForcedTypes) {
  auto bigint = *ParseTypeName("bigint");
  EXPECT_TRUE(Fits(bigint, "12"));
  EXPECT_TRUE(Fits(bigint, ""));
  EXPECT_FALSE(Fits(bigint, "1.5"));
  EXPECT_FALSE(Fits(bigint, "007"));
  auto dec = *ParseTypeName("DECIMAL(5, 2)");
  EXPECT_TRUE(Fits(dec, "123.45"));
  EXPECT_FALSE(Fits(dec, "1234.5"));
  EXPECT_FALSE(Fits(dec, "1.234"));
  auto dbl = *ParseTypeName("double");
  EXPECT_TRUE(Fits(dbl, "1e300"));
  EXPECT_TRUE(Fits(dbl, "0.1234567890123456789"));
  EXPECT_FALSE(Fits(dbl, "abc"));
  auto dt = *ParseTypeName("datetime");
  EXPECT_TRUE(Fits(dt, "2020-01-01"));
  EXPECT_TRUE(Fits(dt, "2020-01-01 10:00:00"));
  EXPECT_FALSE(Fits(dt, "2020-01-01 10:00:00.5"));
  EXPECT_TRUE(Fits(*ParseTypeName("datetime(3)"), "2020-01-01 10:00:00.5"));
  EXPECT_FALSE(Fits(*ParseTypeName("date"), "2020-01-01 10:00:00"));
  EXPECT_TRUE(Fits(*ParseTypeName("text"), "anything"));
}

TEST(ParseTypeName, NamesAndErrors) {
  EXPECT_EQ(SqlTypeText(*ParseTypeName("TEXT")), "TEXT");
  EXPECT_EQ(SqlTypeText(*ParseTypeName("decimal(10,2)")), "DECIMAL(10,2)");
  EXPECT_EQ(SqlTypeText(*ParseTypeName("decimal(7)")), "DECIMAL(7,0)");
  EXPECT_EQ(SqlTypeText(*ParseTypeName("datetime(6)")), "DATETIME(6)");
  for (std::string_view bad : {"varchar", "decimal(66,2)", "decimal(5,6)", "decimal()", "decimal(a,b)",
                               "datetime(7)", "decimal(10,2", ""}) {
    auto r = ParseTypeName(bad);
    EXPECT_FALSE(r.has_value()) << bad;
  }
  EXPECT_EQ(ParseTypeName("varchar").error().message(),
            "unknown type 'varchar' (expected text, bigint, decimal(p,s), double, date or datetime)");
}

std::vector<Column> Cols(std::initializer_list<std::string> names) {
  std::vector<std::string> v(names);
  return NameColumns(v);
}

TEST(SchemaInference, InfersPerColumnAndMerges) {
  const auto cols = Cols({"id", "zip", "when", "note"});
  auto a = SchemaInference::Make(cols, {});
  ASSERT_TRUE(a.has_value());
  SchemaInference b = *a;  // a second "worker"
  const std::vector<std::string_view> r1 = {"1", "01234", "2020-01-01", ""};
  const std::vector<std::string_view> r2 = {"2", "12345", "2020-01-01 10:00:00", ""};
  a->Observe(r1);
  b.Observe(r2);
  a->Merge(b);
  EXPECT_EQ(a->SqlTypes(), (std::vector<std::string>{"BIGINT", "TEXT", "DATETIME", "TEXT"}));
  EXPECT_EQ(a->types()[3].kind, TypeKind::kNull);
}

TEST(SchemaInference, OverridesAndAllText) {
  const auto cols = Cols({"Zip", "Amount", "d"});
  TypeOptions opts;
  opts.overrides = {{"zip", "text"}, {"AMOUNT", "decimal(12,2)"}};
  auto s = SchemaInference::Make(cols, opts);
  ASSERT_TRUE(s.has_value());
  const std::vector<std::string_view> row = {"12345", "5", "2020-01-01"};
  s->Observe(row);
  EXPECT_EQ(s->SqlTypes(), (std::vector<std::string>{"TEXT", "DECIMAL(12,2)", "DATE"}));
  EXPECT_TRUE(s->forced(0));
  EXPECT_FALSE(s->forced(2));

  TypeOptions all;
  all.all_text = true;
  auto t = SchemaInference::Make(cols, all);
  t->Observe(row);
  EXPECT_EQ(t->SqlTypes(), (std::vector<std::string>{"TEXT", "TEXT", "TEXT"}));

  TypeOptions unknown;
  unknown.overrides = {{"nope", "text"}};
  auto u = SchemaInference::Make(cols, unknown);
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().message(), "type.nope: no column named 'nope'");
  TypeOptions bad_type;
  bad_type.overrides = {{"d", "timestamp"}};
  EXPECT_FALSE(SchemaInference::Make(cols, bad_type).has_value());
}

TEST(SchemaInference, Titanic) {
  std::ifstream in(std::string(SLUICE_SHARED_DATA_DIR) + "/titanic.csv", std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  Block block;
  block.data = s.str();
  ParseOptions po;
  po.skip_header = true;
  ParsedBlock pb = ParseBlock(std::move(block), po);
  const std::vector<std::string_view> header(pb.header().begin(), pb.header().end());
  auto inference = SchemaInference::Make(NameColumns(header), {});
  ASSERT_TRUE(inference.has_value());
  inference->Observe(pb);
  EXPECT_EQ(inference->SqlTypes(),
            (std::vector<std::string>{"BIGINT", "BIGINT", "BIGINT", "TEXT", "TEXT", "DECIMAL(4,2)", "BIGINT",
                                      "BIGINT", "TEXT", "DECIMAL(7,4)", "TEXT", "TEXT"}));
}

}  // namespace
}  // namespace sluice::csv
