// ParseRowsQuery / ParseAggregateQuery: every reserved parameter, every
// operator's value rules, column matching without case, and each kind of
// refusal with the parameter it names.
#include "query/query_params.hpp"

#include <gtest/gtest.h>

#include "query_test_support.hpp"

namespace sluice::query {
namespace {

using testing::Mixed;
using testing::Plays;
using testing::Q;
using testing::Titanic;

RowsQuery Rows(std::string_view query, const TableSchema& schema = Titanic(), ParamLimits limits = {}) {
  ParamError error;
  auto parsed = ParseRowsQuery(Q(query), schema, limits, &error);
  EXPECT_TRUE(parsed.has_value()) << query << ": " << error.code << " " << error.param << ": " << error.message;
  return parsed.value_or(RowsQuery{});
}

ParamError RowsError(std::string_view query, const TableSchema& schema = Titanic(), ParamLimits limits = {}) {
  ParamError error;
  auto parsed = ParseRowsQuery(Q(query), schema, limits, &error);
  EXPECT_FALSE(parsed.has_value()) << query << " was accepted";
  return error;
}

AggregateQuery Agg(std::string_view query, const TableSchema& schema = Plays()) {
  ParamError error;
  auto parsed = ParseAggregateQuery(Q(query), schema, {}, &error);
  EXPECT_TRUE(parsed.has_value()) << query << ": " << error.code << " " << error.param << ": " << error.message;
  return parsed.value_or(AggregateQuery{});
}

ParamError AggError(std::string_view query, const TableSchema& schema = Plays()) {
  ParamError error;
  auto parsed = ParseAggregateQuery(Q(query), schema, {}, &error);
  EXPECT_FALSE(parsed.has_value()) << query << " was accepted";
  return error;
}

TEST(QueryParams, DefaultsWithNoParameters) {
  RowsQuery query = Rows("");
  EXPECT_TRUE(query.filters.empty());
  EXPECT_TRUE(query.sort.empty());
  EXPECT_TRUE(query.select.empty());
  EXPECT_EQ(query.offset, 0u);
  EXPECT_EQ(query.limit, 100u);
  EXPECT_EQ(query.count, CountMode::kNone);
  EXPECT_FALSE(query.format.has_value());
  EXPECT_TRUE(query.cursor.empty());
}

TEST(QueryParams, TheOriginalToolsExampleQuery) {
  RowsQuery query = Rows("limit=0,2&sex=male&name=like:Braund&ticket=like:A&fare=gt:7&sort=name:desc,sex:asc");
  EXPECT_EQ(query.offset, 0u);
  EXPECT_EQ(query.limit, 2u);
  ASSERT_EQ(query.filters.size(), 4u);
  EXPECT_EQ(query.filters[0], (Filter{4, Op::kEq, {"male"}}));
  EXPECT_EQ(query.filters[1], (Filter{3, Op::kLike, {"Braund"}}));
  EXPECT_EQ(query.filters[2], (Filter{8, Op::kLike, {"A"}}));
  EXPECT_EQ(query.filters[3], (Filter{9, Op::kGt, {"7"}}));
  ASSERT_EQ(query.sort.size(), 2u);
  EXPECT_EQ(query.sort[0], (SortKey{3, true}));
  EXPECT_EQ(query.sort[1], (SortKey{4, false}));
}

TEST(QueryParams, ColumnsMatchWithoutCase) {
  // `sElEcT` is no reserved parameter (those are lower case) and no column.
  EXPECT_EQ(RowsError("sElEcT=x").code, "unknown_parameter");
  RowsQuery upper = Rows("PASSENGERID=1&select=NAME,sex&sort=FARE:DESC");
  EXPECT_EQ(upper.filters[0].column, 0u);
  EXPECT_EQ(upper.select, (std::vector<std::size_t>{3, 4}));
  EXPECT_EQ(upper.sort[0], (SortKey{9, true}));
}

TEST(QueryParams, EveryOperator) {
  struct Case {
    const char* query;
    Op op;
    std::vector<std::string> values;
  };
  const Case cases[] = {
      {"name=eq:Braund", Op::kEq, {"Braund"}},       {"name=Braund", Op::kEq, {"Braund"}},
      {"name=neq:x", Op::kNeq, {"x"}},               {"fare=lt:7.5", Op::kLt, {"7.5"}},
      {"fare=lte:7", Op::kLte, {"7"}},               {"fare=gt:-1e2", Op::kGt, {"-1e2"}},
      {"fare=gte:.5", Op::kGte, {".5"}},             {"name=like:Br*nd", Op::kLike, {"Br*nd"}},
      {"name=ilike:braund", Op::kIlike, {"braund"}}, {"pclass=in:1,3", Op::kIn, {"1", "3"}},
      {"cabin=is:null", Op::kIs, {"null"}},          {"cabin=is:NotNull", Op::kIs, {"notnull"}},
      {"name=EQ:x", Op::kEq, {"x"}},                 {"name=eq:", Op::kEq, {""}},
      {"name=", Op::kEq, {""}},                      {"name=eq:a:b", Op::kEq, {"a:b"}},
  };
  for (const auto& c : cases) {
    RowsQuery query = Rows(c.query);
    ASSERT_EQ(query.filters.size(), 1u) << c.query;
    EXPECT_EQ(query.filters[0].op, c.op) << c.query;
    EXPECT_EQ(query.filters[0].values, c.values) << c.query;
  }
}

TEST(QueryParams, InSplitsOnCommasOutsideQuotes) {
  RowsQuery query = Rows("name=in:%22Braund,%20Mr.%20Owen%20Harris%22,x,%22say%20%22%22hi%22%22%22,");
  EXPECT_EQ(query.filters[0].values,
            (std::vector<std::string>{"Braund, Mr. Owen Harris", "x", "say \"hi\"", ""}));
  EXPECT_EQ(RowsError("name=in:%22open").code, "invalid_parameter");
  EXPECT_EQ(RowsError("name=in:%22a%22b").code, "invalid_parameter");
}

TEST(QueryParams, TextBeforeAColonIsPartOfAnEqValue) {
  RowsQuery query = Rows("cabin=C:85&ticket=12:30&name=Mr.%20X:%20y");
  EXPECT_EQ(query.filters[0].values[0], "C:85");
  EXPECT_EQ(query.filters[1].values[0], "12:30");
  EXPECT_EQ(query.filters[2].values[0], "Mr. X: y");
  ParamError error = RowsError("name=nte:x");
  EXPECT_EQ(error.code, "unknown_operator");
  EXPECT_EQ(error.param, "name");
  EXPECT_NE(error.message.find("'nte'"), std::string::npos) << error.message;
}

TEST(QueryParams, NumericColumnsTakeNumbersOnly) {
  for (const char* query : {"fare=abc", "fare=gt:abc", "fare=in:1,x", "pclass=1;DROP", "fare=gt:0x10",
                            "fare=gt:1e", "fare=gt:", "fare=gt:1e9999", "pclass=%201"}) {
    ParamError error = RowsError(query);
    EXPECT_EQ(error.code, "invalid_parameter") << query;
  }
  EXPECT_EQ(RowsError("fare=gt:abc").param, "fare");
  // like on a number column matches its text.
  EXPECT_EQ(Rows("fare=like:7.2*").filters[0].op, Op::kLike);
}

TEST(QueryParams, DateColumnsTakeDates) {
  EXPECT_EQ(Rows("date=gte:2020-01-01", Plays()).filters[0].values[0], "2020-01-01");
  Rows("date=lt:2020-02-29%2012:30:59.5", Plays());
  Rows("date=2020-02-29T12:30", Plays());
  for (const char* query : {"date=2021-02-29", "date=2020-13-01", "date=gt:yesterday", "date=2020-01-01x",
                            "date=2020-01-01%2024:00", "date=in:2020-01-01,soon"}) {
    EXPECT_EQ(RowsError(query, Plays()).code, "invalid_parameter") << query;
  }
}

TEST(QueryParams, RangeOnTextIsNumericOnlyForNumbers) {
  RowsQuery query = Rows("ticket=gt:3000&name=lt:M&cabin=gte:-1.5");
  EXPECT_TRUE(query.filters[0].numeric_text);
  EXPECT_FALSE(query.filters[1].numeric_text);
  EXPECT_TRUE(query.filters[2].numeric_text);
}

TEST(QueryParams, IsTakesNullOrNotnull) {
  ParamError error = RowsError("cabin=is:empty");
  EXPECT_EQ(error.code, "invalid_parameter");
  EXPECT_EQ(error.param, "cabin");
}

TEST(QueryParams, WhereDotNamesAColumnLikeAReservedParameter) {
  RowsQuery query = Rows("where.limit=5&limit=3&where.n=gt:2", Mixed());
  ASSERT_EQ(query.filters.size(), 2u);
  EXPECT_EQ(query.filters[0].column, 6u);
  EXPECT_EQ(query.filters[0].values[0], "5");
  EXPECT_EQ(query.limit, 3u);
  ParamError error = RowsError("where.nope=1");
  EXPECT_EQ(error.code, "unknown_column");
  EXPECT_EQ(error.param, "where.nope");
}

TEST(QueryParams, UnknownParameterIsNamed) {
  ParamError error = RowsError("colour=red");
  EXPECT_EQ(error.code, "unknown_parameter");
  EXPECT_EQ(error.param, "colour");
  EXPECT_NE(error.message.find("colour"), std::string::npos);
}

TEST(QueryParams, Limits) {
  EXPECT_EQ(Rows("limit=5").limit, 5u);
  EXPECT_EQ(Rows("limit=0").limit, 0u);
  RowsQuery both = Rows("limit=10,5");
  EXPECT_EQ(both.offset, 10u);
  EXPECT_EQ(both.limit, 5u);
  EXPECT_EQ(Rows("offset=7&limit=3").offset, 7u);
  EXPECT_EQ(Rows("", Titanic(), {50, 100}).limit, 50u);
  EXPECT_EQ(Rows("limit=100", Titanic(), {50, 100}).limit, 100u);
  for (const char* query : {"limit=101", "limit=-1", "limit=a", "limit=1,", "limit=,1", "limit=1,2,3", "limit=",
                            "offset=-2", "offset=1.5", "limit=5,5&offset=2", "limit=1&limit=2",
                            "offset=99999999999999999999"}) {
    ParamError error = RowsError(query, Titanic(), {50, 100});
    EXPECT_EQ(error.code, "invalid_parameter") << query;
    EXPECT_TRUE(error.param == "limit" || error.param == "offset") << query << " " << error.param;
  }
  EXPECT_NE(RowsError("limit=101", Titanic(), {50, 100}).message.find("100"), std::string::npos);
}

TEST(QueryParams, SortSelectCountFormatCursor) {
  RowsQuery query = Rows("sort=age,fare:desc,NAME:ASC&select=name,age&count=exact&format=CSV&cursor=abc");
  EXPECT_EQ(query.sort, (std::vector<SortKey>{{5, false}, {9, true}, {3, false}}));
  EXPECT_EQ(query.select, (std::vector<std::size_t>{3, 5}));
  EXPECT_EQ(query.count, CountMode::kExact);
  EXPECT_EQ(query.format, Format::kCsv);
  EXPECT_EQ(query.cursor, "abc");
  EXPECT_EQ(Rows("count=estimate").count, CountMode::kEstimate);
  EXPECT_EQ(Rows("count=none").count, CountMode::kNone);
  EXPECT_EQ(Rows("format=ndjson").format, Format::kNdjson);

  EXPECT_EQ(RowsError("sort=nope").code, "unknown_column");
  EXPECT_EQ(RowsError("sort=name:up").param, "sort");
  EXPECT_EQ(RowsError("sort=name,,age").param, "sort");
  EXPECT_EQ(RowsError("sort=name,NAME:desc").param, "sort");
  EXPECT_EQ(RowsError("select=name,nope").code, "unknown_column");
  EXPECT_EQ(RowsError("select=name,Name").param, "select");
  EXPECT_EQ(RowsError("select=").param, "select");
  EXPECT_EQ(RowsError("count=maybe").param, "count");
  EXPECT_EQ(RowsError("format=xml").param, "format");
  EXPECT_EQ(RowsError("format=csv&format=json").param, "format");
}

TEST(QueryParams, ColumnNamesHoldingCommasAndColonsAreQuoted) {
  TableSchema schema;
  schema.name = "odd";
  schema.columns = {testing::Col("a,b", "TEXT"), testing::Col("c:desc", "TEXT"), testing::Col("c", "TEXT")};
  RowsQuery query = Rows("select=%22a,b%22,c&sort=c:desc,%22a,b%22:desc", schema);
  EXPECT_EQ(query.select, (std::vector<std::size_t>{0, 2}));
  // "c:desc" is itself a column: the whole name wins over the direction.
  EXPECT_EQ(query.sort, (std::vector<SortKey>{{1, false}, {0, true}}));
}

TEST(QueryParams, HostileColumnNamesAreOnlyEverLookedUp) {
  // None of these is a column; each is refused with its own text as the name.
  for (const char* name : {"name`; DROP TABLE titanic; --", "name'", "na\"me", "name/*", "%00name", "n%C3%A4me",
                           "%F0%9F%98%80"}) {
    std::string query = std::string(name) + "=1";
    ParamError error = RowsError(query);
    EXPECT_EQ(error.code, "unknown_parameter") << name;
  }
  EXPECT_EQ(RowsError("select=name,%60Sex%60").code, "unknown_column");
  EXPECT_EQ(RowsError("sort=name%60%20DESC").code, "unknown_column");
  EXPECT_EQ(RowsError("sort=name;").code, "unknown_column");
  EXPECT_EQ(RowsError("where.Name%00=x").code, "unknown_column");
}

TEST(QueryParams, ValuesMustBeUtf8) {
  EXPECT_EQ(RowsError("name=%FF%FE").code, "invalid_parameter");
  EXPECT_EQ(Rows("name=%C3%A9%00x").filters[0].values[0], std::string("\xC3\xA9\0x", 4));
}

TEST(QueryParams, ChooseFormat) {
  EXPECT_EQ(ChooseFormat(std::nullopt, ""), Format::kJson);
  EXPECT_EQ(ChooseFormat(std::nullopt, "*/*"), Format::kJson);
  EXPECT_EQ(ChooseFormat(std::nullopt, "text/csv"), Format::kCsv);
  EXPECT_EQ(ChooseFormat(std::nullopt, "Application/X-NDJSON"), Format::kNdjson);
  EXPECT_EQ(ChooseFormat(std::nullopt, "application/json, text/csv"), Format::kJson);
  EXPECT_EQ(ChooseFormat(std::nullopt, "text/csv;q=0.9, application/x-ndjson"), Format::kCsv);
  EXPECT_EQ(ChooseFormat(Format::kNdjson, "text/csv"), Format::kNdjson);
}

TEST(QueryParams, SplitList) {
  EXPECT_EQ(*SplitList("a,b"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*SplitList(""), (std::vector<std::string>{""}));
  EXPECT_EQ(*SplitList("\"a,b\",c"), (std::vector<std::string>{"a,b", "c"}));
  EXPECT_EQ(*SplitList("\"\"\"\""), (std::vector<std::string>{"\""}));
  EXPECT_EQ(*SplitList("\"a:b\":desc"), (std::vector<std::string>{"a:b:desc"}));
  EXPECT_EQ(*SplitList("a\"b"), (std::vector<std::string>{"a\"b"}));
  EXPECT_FALSE(SplitList("\"a").has_value());
  EXPECT_FALSE(SplitList("\"a\"x").has_value());
}

TEST(QueryParams, NumbersAndDates) {
  for (const char* ok : {"0", "-1", "+2", "3.", ".5", "1.5e10", "1E-3", "007", "123456789012345678901234567890"}) {
    EXPECT_TRUE(IsNumber(ok)) << ok;
  }
  for (const char* bad : {"", "-", ".", "e5", "1e", "1e+", "0x1f", "1,5", " 1", "1 ", "NaN", "inf", "1e1234", "1-1",
                          "1;", "1'"}) {
    EXPECT_FALSE(IsNumber(bad)) << bad;
  }
  for (const char* ok : {"2020-01-31", "2020-02-29", "2000-02-29", "2020-12-31 23:59:59", "2020-12-31T23:59",
                         "2020-12-31 23:59:59.123456"}) {
    EXPECT_TRUE(IsDateOrDateTime(ok)) << ok;
  }
  for (const char* bad : {"2020-1-01", "1900-02-29", "2020-04-31", "2020-01-01 24:00", "2020-01-01 12:60",
                          "2020-01-01 12:00:00.", "2020-01-01 12:00:00.1234567", "2020-01-01Z", "20200101"}) {
    EXPECT_FALSE(IsDateOrDateTime(bad)) << bad;
  }
}

// ---- /aggregate -------------------------------------------------------------

TEST(AggregateParams, ThePlaysExample) {
  AggregateQuery query = Agg("group_by=song,date&sum=Number%20of%20Plays&format=csv");
  EXPECT_EQ(query.group_by, (std::vector<std::size_t>{0, 1}));
  ASSERT_EQ(query.aggregates.size(), 1u);
  EXPECT_EQ(query.aggregates[0], (Aggregate{AggFn::kSum, 2, "sum_Number of Plays"}));
  EXPECT_EQ(query.format, Format::kCsv);
  EXPECT_TRUE(query.sort.empty());
}

TEST(AggregateParams, EveryFunctionFiltersSortAndPaging) {
  AggregateQuery query = Agg(
      "group_by=Song&sum=number%20of%20plays&avg=Number%20of%20Plays&min=date,number%20of%20plays&max=date"
      "&count=true&date=gte:2020-01-01&sort=count:desc,SUM_NUMBER%20OF%20PLAYS&limit=10,5");
  ASSERT_EQ(query.aggregates.size(), 6u);
  EXPECT_EQ(query.aggregates[0].name, "sum_Number of Plays");
  EXPECT_EQ(query.aggregates[1].name, "avg_Number of Plays");
  EXPECT_EQ(query.aggregates[2].name, "min_Date");
  EXPECT_EQ(query.aggregates[3].name, "min_Number of Plays");
  EXPECT_EQ(query.aggregates[4].name, "max_Date");
  EXPECT_EQ(query.aggregates[5], (Aggregate{AggFn::kCount, 0, "count"}));
  ASSERT_EQ(query.filters.size(), 1u);
  EXPECT_EQ(query.sort, (std::vector<SortKey>{{6, true}, {1, false}}));
  EXPECT_EQ(query.offset, 10u);
  EXPECT_EQ(query.limit, 5u);
}

TEST(AggregateParams, Refusals) {
  EXPECT_EQ(AggError("").param, "group_by");
  EXPECT_EQ(AggError("group_by=nope").code, "unknown_column");
  EXPECT_EQ(AggError("group_by=song&sum=nope").param, "sum");
  EXPECT_EQ(AggError("group_by=song&sum=date").param, "sum");
  EXPECT_EQ(AggError("group_by=song&avg=date").param, "avg");
  EXPECT_EQ(AggError("group_by=song&count=yes").param, "count");
  EXPECT_EQ(AggError("group_by=song&sort=sum_plays").code, "unknown_column");
  EXPECT_EQ(AggError("group_by=song,SONG").param, "group_by");
  EXPECT_EQ(AggError("group_by=song&colour=1").code, "unknown_parameter");
  EXPECT_EQ(AggError("group_by=song&song=gt:x&date=gt:x").param, "date");
}

TEST(AggregateParams, CountWithoutGroupsAndNameCollisions) {
  AggregateQuery query = Agg("count=true");
  EXPECT_TRUE(query.group_by.empty());
  EXPECT_EQ(query.aggregates.size(), 1u);
  TableSchema schema;
  schema.name = "t";
  schema.columns = {testing::Col("count", "BIGINT"), testing::Col("x", "BIGINT"), testing::Col("sum_x", "BIGINT")};
  EXPECT_EQ(AggError("group_by=count&count=true", schema).code, "invalid_parameter");
  EXPECT_EQ(AggError("group_by=sum_x&sum=x", schema).code, "invalid_parameter");
}

}  // namespace
}  // namespace sluice::query
