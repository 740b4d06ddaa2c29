// Golden SQL for the renderer: every operator on every kind of column, the
// API.md example, keyset predicates for every direction and NULL, aggregates,
// count/estimate — and injection attempts in values, column names, sort,
// select and table names, which must come out as inert literals or quoted
// identifiers.
#include "query/sql_render.hpp"

#include <gtest/gtest.h>

#include "query/query_params.hpp"
#include "query_test_support.hpp"

namespace sluice::query {
namespace {

using testing::Col;
using testing::Mixed;
using testing::Plays;
using testing::Q;
using testing::Titanic;

RowsQuery ParseRows(std::string_view query, const TableSchema& schema) {
  ParamError error;
  auto parsed = ParseRowsQuery(Q(query), schema, {}, &error);
  EXPECT_TRUE(parsed.has_value()) << query << ": " << error.message;
  return parsed.value_or(RowsQuery{});
}

/// The WHERE condition rendered for one query string.
std::string Where(std::string_view query, const TableSchema& schema = Mixed()) {
  return RenderConditions(schema, ParseRows(query, schema).filters);
}

std::string RowsSql(std::string_view query, const TableSchema& schema, const KeysetPosition* after = nullptr,
                    std::uint64_t fetch = 11) {
  return RenderRowsSelect(schema, ParseRows(query, schema), after, fetch).sql;
}

std::string AggSql(std::string_view query, const TableSchema& schema = Plays(), std::uint64_t offset = 0,
                   std::uint64_t fetch = 101) {
  ParamError error;
  auto parsed = ParseAggregateQuery(Q(query), schema, {}, &error);
  EXPECT_TRUE(parsed.has_value()) << query << ": " << error.message;
  return RenderAggregateSelect(schema, parsed.value_or(AggregateQuery{}), offset, fetch).sql;
}

constexpr const char* kNumericText =
    "'^[[:space:]]*[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?[[:space:]]*$'";

TEST(SqlRender, TheOriginalToolsExampleQuery) {
  RowsQuery query =
      ParseRows("limit=0,2&sex=male&name=like:Braund&ticket=like:A&fare=gt:7&sort=name:desc,sex:asc", Titanic());
  RenderedSelect rendered = RenderRowsSelect(Titanic(), query, nullptr, query.limit + 1);
  EXPECT_EQ(rendered.sql,
            "SELECT `PassengerId`, `Survived`, `Pclass`, `Name`, `Sex`, `Age`, `SibSp`, `Parch`, `Ticket`, `Fare`, "
            "`Cabin`, `Embarked`, `_row` FROM `titanic` WHERE `Sex` = 'male' COLLATE utf8mb4_nopad_bin AND `Name` "
            "LIKE '%Braund%' COLLATE utf8mb4_nopad_bin AND `Ticket` LIKE '%A%' COLLATE utf8mb4_nopad_bin AND `Fare` > "
            "7 ORDER BY `Name` DESC, `Sex` ASC, `_row` ASC LIMIT 3");
  EXPECT_EQ(rendered.visible, 12u);
  EXPECT_EQ(rendered.keys, (std::vector<std::size_t>{3, 4, 12}));
  EXPECT_EQ(rendered.names.back(), "_row");
}

TEST(SqlRender, EqAndNeqOnEveryKindOfColumn) {
  EXPECT_EQ(Where("t=abc"), "`t` = 'abc' COLLATE utf8mb4_nopad_bin");
  EXPECT_EQ(Where("t=neq:abc"), "`t` <> 'abc' COLLATE utf8mb4_nopad_bin");
  EXPECT_EQ(Where("t=12"), "`t` = '12' COLLATE utf8mb4_nopad_bin");  // text compares as text
  EXPECT_EQ(Where("n=eq:%2B42"), "`n` = 42");
  EXPECT_EQ(Where("n=neq:-7"), "`n` <> -7");
  EXPECT_EQ(Where("d=1.5e3"), "`d` = 1.5e3");
  EXPECT_EQ(Where("dec=.5"), "`dec` = .5");
  EXPECT_EQ(Where("day=2020-01-02"), "`day` = '2020-01-02'");
  EXPECT_EQ(Where("at=neq:2020-01-02T03:04:05.678"), "`at` <> '2020-01-02T03:04:05.678'");
}

TEST(SqlRender, RangeOperators) {
  EXPECT_EQ(Where("n=lt:5"), "`n` < 5");
  EXPECT_EQ(Where("n=lte:5"), "`n` <= 5");
  EXPECT_EQ(Where("d=gt:5"), "`d` > 5");
  EXPECT_EQ(Where("dec=gte:5.25"), "`dec` >= 5.25");
  EXPECT_EQ(Where("day=lt:2020-01-01"), "`day` < '2020-01-01'");
  EXPECT_EQ(Where("at=gte:2020-01-01%2012:00"), "`at` >= '2020-01-01 12:00'");
  EXPECT_EQ(Where("t=gt:M"), "`t` > 'M' COLLATE utf8mb4_nopad_bin");
  EXPECT_EQ(Where("t=lte:10"), std::string("(`t` REGEXP ") + kNumericText + " AND CAST(`t` AS DOUBLE) <= 10)");
  EXPECT_EQ(Where("t=gt:-1.5e2"), std::string("(`t` REGEXP ") + kNumericText + " AND CAST(`t` AS DOUBLE) > -1.5e2)");
}

TEST(SqlRender, LikeAndIlike) {
  EXPECT_EQ(Where("t=like:Braund"), "`t` LIKE '%Braund%' COLLATE utf8mb4_nopad_bin");
  EXPECT_EQ(Where("t=like:Br*nd"), "`t` LIKE 'Br%nd' COLLATE utf8mb4_nopad_bin");
  EXPECT_EQ(Where("t=like:Braund*"), "`t` LIKE 'Braund%' COLLATE utf8mb4_nopad_bin");
  EXPECT_EQ(Where("t=like:*"), "`t` LIKE '%' COLLATE utf8mb4_nopad_bin");
  // % _ and \ are literal characters: escaped for LIKE, then for the string.
  EXPECT_EQ(Where("t=like:50%25_off%5C"), "`t` LIKE '%50\\\\%\\\\_off\\\\\\\\%' COLLATE utf8mb4_nopad_bin");
  EXPECT_EQ(Where("t=ilike:%C3%A9lan"), "`t` LIKE '%\xC3\xA9lan%' COLLATE utf8mb4_unicode_520_ci");
  EXPECT_EQ(Where("n=like:7*"), "CAST(`n` AS CHAR) LIKE '7%' COLLATE utf8mb4_nopad_bin");
  EXPECT_EQ(Where("day=ilike:2020-01"), "CAST(`day` AS CHAR) LIKE '%2020-01%' COLLATE utf8mb4_unicode_520_ci");
  EXPECT_EQ(LikePattern("a*b"), "a%b");
  EXPECT_EQ(LikePattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
}

TEST(SqlRender, InAndIs) {
  EXPECT_EQ(Where("t=in:a,%22b,c%22,"),
            "`t` IN ('a' COLLATE utf8mb4_nopad_bin, 'b,c' COLLATE utf8mb4_nopad_bin, '' COLLATE utf8mb4_nopad_bin)");
  EXPECT_EQ(Where("n=in:1,-2,3.5"), "`n` IN (1, -2, 3.5)");
  EXPECT_EQ(Where("day=in:2020-01-01,2020-01-02"), "`day` IN ('2020-01-01', '2020-01-02')");
  EXPECT_EQ(Where("t=is:null"), "(`t` IS NULL OR `t` = '')");
  EXPECT_EQ(Where("t=is:notnull"), "(`t` IS NOT NULL AND `t` <> '')");
  EXPECT_EQ(Where("n=is:null"), "`n` IS NULL");
  EXPECT_EQ(Where("day=is:notnull"), "`day` IS NOT NULL");
}

TEST(SqlRender, FiltersAreAndedInOrder) {
  EXPECT_EQ(Where("n=gt:1&n=lt:9&t=is:notnull&where.limit=x"),
            "`n` > 1 AND `n` < 9 AND (`t` IS NOT NULL AND `t` <> '') AND `limit` = 'x' COLLATE utf8mb4_nopad_bin");
}

TEST(SqlRender, SelectSortLimitOffset) {
  EXPECT_EQ(RowsSql("", Mixed(), nullptr, 101),
            "SELECT `t`, `n`, `d`, `dec`, `day`, `at`, `limit`, `_row` FROM `mixed` ORDER BY `_row` ASC LIMIT 101");
  RowsQuery query = ParseRows("select=n,t&sort=d:desc,t&offset=20&limit=10", Mixed());
  RenderedSelect rendered = RenderRowsSelect(Mixed(), query, nullptr, 11);
  EXPECT_EQ(rendered.sql,
            "SELECT `n`, `t`, `d`, `_row` FROM `mixed` ORDER BY `d` DESC, `t` ASC, `_row` ASC LIMIT 11 OFFSET 20");
  EXPECT_EQ(rendered.visible, 2u);
  EXPECT_EQ(rendered.names, (std::vector<std::string>{"n", "t", "d", "_row"}));
  EXPECT_EQ(rendered.keys, (std::vector<std::size_t>{2, 1, 3}));
}

TEST(SqlRender, KeysetAfterARowInFileOrder) {
  KeysetPosition after{{}, 41};
  EXPECT_EQ(RowsSql("limit=10", Mixed(), &after),
            "SELECT `t`, `n`, `d`, `dec`, `day`, `at`, `limit`, `_row` FROM `mixed` WHERE `_row` > 41 ORDER BY `_row` "
            "ASC LIMIT 11");
  EXPECT_EQ(RowsSql("select=n&n=gt:3&limit=10", Mixed(), &after),
            "SELECT `n`, `_row` FROM `mixed` WHERE `n` > 3 AND `_row` > 41 ORDER BY `_row` ASC LIMIT 11");
}

TEST(SqlRender, KeysetForEveryDirectionAndNull) {
  KeysetPosition asc{{std::string("7")}, 5};
  EXPECT_EQ(RowsSql("select=n&sort=n", Mixed(), &asc),
            "SELECT `n`, `_row` FROM `mixed` WHERE (`n` > 7 OR (`n` = 7 AND `_row` > 5)) ORDER BY `n` ASC, `_row` "
            "ASC LIMIT 11");
  KeysetPosition desc{{std::string("it's")}, 5};
  EXPECT_EQ(RowsSql("select=n&sort=t:desc", Mixed(), &desc),
            "SELECT `n`, `t`, `_row` FROM `mixed` WHERE ((`t` < 'it\\'s' OR `t` IS NULL) OR (`t` = 'it\\'s' AND "
            "`_row` < 5)) ORDER BY `t` DESC, `_row` DESC LIMIT 11");
  KeysetPosition null_asc{{std::nullopt}, 5};
  EXPECT_EQ(RowsSql("select=n&sort=day", Mixed(), &null_asc),
            "SELECT `n`, `day`, `_row` FROM `mixed` WHERE (`day` IS NOT NULL OR (`day` IS NULL AND `_row` > 5)) "
            "ORDER BY `day` ASC, `_row` ASC LIMIT 11");
  KeysetPosition null_desc{{std::nullopt}, 5};
  EXPECT_EQ(RowsSql("select=n&sort=day:desc", Mixed(), &null_desc),
            "SELECT `n`, `day`, `_row` FROM `mixed` WHERE (`day` IS NULL AND `_row` < 5) ORDER BY `day` DESC, `_row` "
            "DESC LIMIT 11");
  // Two keys, and a DOUBLE key written as a DOUBLE literal.
  KeysetPosition two{{std::string("2020-01-01"), std::string("0.1")}, 9};
  EXPECT_EQ(RowsSql("select=n&sort=day:desc,d", Mixed(), &two),
            "SELECT `n`, `day`, `d`, `_row` FROM `mixed` WHERE ((`day` < '2020-01-01' OR `day` IS NULL) OR (`day` = "
            "'2020-01-01' AND `d` > 0.1e0) OR (`day` = '2020-01-01' AND `d` = 0.1e0 AND `_row` > 9)) ORDER BY `day` "
            "DESC, `d` ASC, `_row` ASC LIMIT 11");
}

TEST(SqlRender, KeysetValuesFromACursorAreStillOnlyLiterals) {
  // A cursor is signed, but the renderer does not rely on it.
  KeysetPosition hostile{{std::string("1 OR 1=1; DROP TABLE mixed")}, 1};
  std::string sql = RowsSql("select=t&sort=n", Mixed(), &hostile);
  EXPECT_NE(sql.find("`n` > '1 OR 1=1; DROP TABLE mixed'"), std::string::npos) << sql;
}

TEST(SqlRender, CountAndEstimate) {
  TableSchema schema = Mixed();
  EXPECT_EQ(RenderCount(schema, {}), "SELECT COUNT(*) FROM `mixed`");
  EXPECT_EQ(RenderCount(schema, ParseRows("n=gt:1", schema).filters), "SELECT COUNT(*) FROM `mixed` WHERE `n` > 1");
  EXPECT_EQ(RenderEstimate(schema, ParseRows("t=x", schema).filters),
            "EXPLAIN FORMAT=JSON SELECT * FROM `mixed` WHERE `t` = 'x' COLLATE utf8mb4_nopad_bin");
}

TEST(SqlRender, AggregateThePlaysExample) {
  EXPECT_EQ(AggSql("group_by=song,date&sum=Number%20of%20Plays&format=csv"),
            "SELECT `Song`, `Date`, SUM(`Number of Plays`) AS `sum_Number of Plays` FROM `plays` GROUP BY `Song`, "
            "`Date` ORDER BY 1 ASC, 2 ASC LIMIT 101");
}

TEST(SqlRender, AggregateEveryFunctionSortFilterPaging) {
  EXPECT_EQ(AggSql("group_by=date&sum=number%20of%20plays&avg=number%20of%20plays&min=song&max=date&count=true"
                   "&song=neq:x&sort=sum_number%20of%20plays:desc,count",
                   Plays(), 20, 11),
            "SELECT `Date`, SUM(`Number of Plays`) AS `sum_Number of Plays`, AVG(`Number of Plays`) AS `avg_Number of "
            "Plays`, MIN(`Song`) AS `min_Song`, MAX(`Date`) AS `max_Date`, COUNT(*) AS `count` FROM `plays` WHERE "
            "`Song` <> 'x' COLLATE utf8mb4_nopad_bin GROUP BY `Date` ORDER BY 2 DESC, 6 ASC, 1 ASC LIMIT 11 OFFSET 20");
  EXPECT_EQ(AggSql("count=true"), "SELECT COUNT(*) AS `count` FROM `plays` LIMIT 101");
  EXPECT_EQ(AggSql("group_by=song&sort=song:desc"),
            "SELECT `Song` FROM `plays` GROUP BY `Song` ORDER BY 1 DESC LIMIT 101");
}

TEST(SqlRender, AggregateOfNumbersStoredAsText) {
  TableSchema schema;
  schema.name = "plain";
  schema.columns = {Col("song", "TEXT"), Col("plays", "TEXT")};
  EXPECT_EQ(AggSql("group_by=song&sum=plays&max=plays", schema),
            std::string("SELECT `song`, SUM(CASE WHEN `plays` REGEXP ") + kNumericText +
                " THEN CAST(`plays` AS DOUBLE) END) AS `sum_plays`, MAX(`plays`) AS `max_plays` FROM `plain` GROUP BY "
                "`song` ORDER BY 1 ASC LIMIT 101");
}

TEST(SqlRender, InjectionInValuesBecomesInertLiterals) {
  struct Case {
    const char* query;
    const char* sql;
  };
  const Case cases[] = {
      {"t=x'%20OR%20'1'='1", "`t` = 'x\\' OR \\'1\\'=\\'1' COLLATE utf8mb4_nopad_bin"},
      {"t=a%5C'%3B%20DROP%20TABLE%20mixed%3B%20--", "`t` = 'a\\\\\\'; DROP TABLE mixed; --' COLLATE utf8mb4_nopad_bin"},
      {"t=%60x%60%20/*%20c%20*/", "`t` = '`x` /* c */' COLLATE utf8mb4_nopad_bin"},
      {"t=a%00b", "`t` = 'a\\0b' COLLATE utf8mb4_nopad_bin"},
      {"t=%22q%22%0A%0D%1A", "`t` = '\\\"q\\\"\\n\\r\\Z' COLLATE utf8mb4_nopad_bin"},
      {"t=like:%25'%20OR%201%20--", "`t` LIKE '%\\\\%\\' OR 1 --%' COLLATE utf8mb4_nopad_bin"},
      {"t=in:a')%20OR%20('1,b", "`t` IN ('a\\') OR (\\'1' COLLATE utf8mb4_nopad_bin, 'b' COLLATE utf8mb4_nopad_bin)"},
      {"t=%E2%80%99%EF%BC%87%CA%BC", "`t` = '\xE2\x80\x99\xEF\xBC\x87\xCA\xBC' COLLATE utf8mb4_nopad_bin"},
      {"t=gt:1%20OR%201", "`t` > '1 OR 1' COLLATE utf8mb4_nopad_bin"},
  };
  for (const auto& c : cases) EXPECT_EQ(Where(c.query), c.sql) << c.query;
}

TEST(SqlRender, InjectionInIdentifiersIsQuotedFromTheCatalog) {
  // Hostile names can only come from a file's header (through the catalog);
  // they are quoted, backticks doubled.
  TableSchema schema;
  schema.name = "t`; DROP TABLE x; --";
  schema.columns = {Col("a`b", "TEXT"), Col("c'; --", "BIGINT"), Col("\xF0\x9F\x98\x80 /*", "TEXT")};
  RowsQuery query = ParseRows("a%60b=1&c';%20--=gt:2&sort=a%60b:desc&select=c';%20--", schema);
  EXPECT_EQ(RenderRowsSelect(schema, query, nullptr, 5).sql,
            "SELECT `c'; --`, `a``b`, `_row` FROM `t``; DROP TABLE x; --` WHERE `a``b` = '1' COLLATE "
            "utf8mb4_nopad_bin AND `c'; --` > 2 ORDER BY `a``b` DESC, `_row` DESC LIMIT 5");
  std::string aggregate = AggSql("group_by=%F0%9F%98%80%20/*&sum=c';%20--", schema);
  EXPECT_EQ(aggregate,
            "SELECT `\xF0\x9F\x98\x80 /*`, SUM(`c'; --`) AS `sum_c'; --` FROM `t``; DROP TABLE x; --` GROUP BY "
            "`\xF0\x9F\x98\x80 /*` ORDER BY 1 ASC LIMIT 101");
}

TEST(SqlRender, AppendNumberRefusesAnythingButANumber) {
  std::string out;
  AppendNumber(out, "+12.5e-3");
  EXPECT_EQ(out, "12.5e-3");
  out.clear();
  AppendNumber(out, "1; DROP TABLE t");
  EXPECT_EQ(out, "'1; DROP TABLE t'");
}

}  // namespace
}  // namespace sluice::query
