// table_ddl: golden CREATE TABLE / LOAD DATA / INSERT heads, the type
// whitelist (no SQL through a type), duplicate and reserved names, staging
// names, and InnoDB's limits at the exact edges measured on MariaDB 10.11
// (383 TEXT, 996 BIGINT, 268 DECIMAL(65,30), 1016 DATE columns).
#include "db/table_ddl.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::db {
namespace {

std::vector<ColumnDef> Many(std::size_t count, const std::string& type) {
  std::vector<ColumnDef> columns;
  for (std::size_t i = 0; i < count; ++i) columns.push_back({"c" + std::to_string(i + 1), type});
  return columns;
}

TEST(TableDdlTest, CreateTableGolden) {
  std::vector<ColumnDef> columns = {{"PassengerId", "BIGINT"},
                                    {"Name", "TEXT"},
                                    {"Fare", "decimal(10,4)"},
                                    {"we`ird", "datetime(3)"},
                                    {"d", "DATE"},
                                    {"x", "double"}};
  auto sql = CreateTableSql("titanic", columns);
  ASSERT_TRUE(sql) << sql.error().message();
  EXPECT_EQ(*sql,
            "CREATE TABLE `titanic` (`_row` BIGINT NOT NULL, `PassengerId` BIGINT NULL, `Name` TEXT NULL, "
            "`Fare` DECIMAL(10,4) NULL, `we``ird` DATETIME(3) NULL, `d` DATE NULL, `x` DOUBLE NULL, "
            "PRIMARY KEY (`_row`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin");
}

TEST(TableDdlTest, LoadAndInsertGolden) {
  std::vector<std::string> columns = {"a", "b`c"};
  EXPECT_EQ(LoadDataSql("_sluice_stage_x", columns),
            "LOAD DATA LOCAL INFILE 'sluice-memory' INTO TABLE `_sluice_stage_x` CHARACTER SET utf8mb4 "
            "FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (`_row`,`a`,`b``c`)");
  EXPECT_EQ(LoadDataAtOffsetSql("t", columns, 41),
            "LOAD DATA LOCAL INFILE 'sluice-memory' INTO TABLE `t` CHARACTER SET utf8mb4 "
            "FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (@sluice_row,`a`,`b``c`) "
            "SET `_row` = @sluice_row + 41");
  EXPECT_EQ(InsertPrefixSql("t", columns), "INSERT INTO `t` (`_row`,`a`,`b``c`) VALUES ");
  EXPECT_EQ(DropTableSql("a`b"), "DROP TABLE IF EXISTS `a``b`");
}

TEST(TableDdlTest, TypeWhitelist) {
  EXPECT_EQ(SqlTypeText(*ParseSqlType("bigint(20)")), "BIGINT");
  EXPECT_EQ(SqlTypeText(*ParseSqlType("BIGINT")), "BIGINT");
  EXPECT_EQ(SqlTypeText(*ParseSqlType("decimal(65,30)")), "DECIMAL(65,30)");
  EXPECT_EQ(SqlTypeText(*ParseSqlType("DECIMAL(5)")), "DECIMAL(5,0)");
  EXPECT_EQ(SqlTypeText(*ParseSqlType("datetime")), "DATETIME");
  EXPECT_EQ(SqlTypeText(*ParseSqlType("DATETIME(6)")), "DATETIME(6)");
  EXPECT_EQ(SqlTypeText(*ParseSqlType("mediumtext")), "MEDIUMTEXT");
  EXPECT_EQ(SqlTypeText(*ParseSqlType("LongText")), "LONGTEXT");
  for (const char* bad : {"TEXT; DROP TABLE x", "VARCHAR(10)", "INT", "DECIMAL(66,0)", "DECIMAL(10,11)",
                          "DECIMAL(40,31)", "DATETIME(7)", "BIGINT(1,2)", "TEXT(10)", "", "decimal(a,b)",
                          "DOUBLE)", "DATE(1)"}) {
    EXPECT_FALSE(ParseSqlType(bad)) << bad;
  }
  auto sql = CreateTableSql("t", std::vector<ColumnDef>{{"a", "TEXT) ; DROP TABLE x; --"}});
  ASSERT_FALSE(sql);
  EXPECT_EQ(sql.error().domain(), core::ErrorDomain::kInvalid);
}

TEST(TableDdlTest, RowBytesPerType) {
  EXPECT_EQ(ColumnRowBytes(*ParseSqlType("BIGINT")), 8u);
  EXPECT_EQ(ColumnRowBytes(*ParseSqlType("DOUBLE")), 8u);
  EXPECT_EQ(ColumnRowBytes(*ParseSqlType("DATE")), 3u);
  EXPECT_EQ(ColumnRowBytes(*ParseSqlType("DATETIME")), 5u);
  EXPECT_EQ(ColumnRowBytes(*ParseSqlType("DATETIME(3)")), 7u);
  EXPECT_EQ(ColumnRowBytes(*ParseSqlType("DATETIME(6)")), 8u);
  EXPECT_EQ(ColumnRowBytes(*ParseSqlType("DECIMAL(65,30)")), 30u);
  EXPECT_EQ(ColumnRowBytes(*ParseSqlType("DECIMAL(10,2)")), 5u);
  EXPECT_EQ(ColumnRowBytes(*ParseSqlType("DECIMAL(1,0)")), 1u);
  EXPECT_EQ(ColumnRowBytes(*ParseSqlType("TEXT")), 21u);
  EXPECT_EQ(ColumnRowBytes(*ParseSqlType("LONGTEXT")), 21u);
}

TEST(TableDdlTest, InnodbLimitsAtTheEdges) {
  // The largest tables MariaDB 10.11 accepts, and one column more.
  struct Edge {
    const char* type;
    std::size_t fits;
  };
  for (Edge edge : {Edge{"TEXT", 383}, Edge{"BIGINT", 996}, Edge{"DECIMAL(65,30)", 268}, Edge{"DATETIME(6)", 996},
                    Edge{"DOUBLE", 996}, Edge{"DATE", 1016}}) {
    EXPECT_TRUE(CheckColumns(Many(edge.fits, edge.type)).ok()) << edge.type << " × " << edge.fits;
    core::Status over = CheckColumns(Many(edge.fits + 1, edge.type));
    EXPECT_FALSE(over.ok()) << edge.type << " × " << edge.fits + 1;
    EXPECT_EQ(over.domain(), core::ErrorDomain::kLimit);
  }
  core::Status too_many = CheckColumns(Many(1017, "DATE"));
  EXPECT_EQ(too_many.domain(), core::ErrorDomain::kLimit);
  EXPECT_NE(too_many.message().find("1016"), std::string::npos) << too_many.message();
  core::Status too_wide = CheckColumns(Many(400, "TEXT"));
  EXPECT_NE(too_wide.message().find("row too large"), std::string::npos) << too_wide.message();
}

TEST(TableDdlTest, ColumnNameChecks) {
  EXPECT_EQ(CheckColumns({}).domain(), core::ErrorDomain::kInvalid);
  auto dup = CheckColumns(std::vector<ColumnDef>{{"Name", "TEXT"}, {"x", "TEXT"}, {"NAME", "TEXT"}});
  EXPECT_EQ(dup.domain(), core::ErrorDomain::kInvalid);
  EXPECT_NE(dup.message().find("column 3"), std::string::npos) << dup.message();
  EXPECT_FALSE(CheckColumns(std::vector<ColumnDef>{{"Ä", "TEXT"}, {"ä", "TEXT"}}).ok());
  EXPECT_TRUE(CheckColumns(std::vector<ColumnDef>{{"a", "TEXT"}, {"ä", "TEXT"}}).ok());
  auto row = CheckColumns(std::vector<ColumnDef>{{"_ROW", "TEXT"}});
  EXPECT_NE(row.message().find("_row"), std::string::npos) << row.message();
  EXPECT_FALSE(CheckColumns(std::vector<ColumnDef>{{"bad ", "TEXT"}}).ok());
  EXPECT_FALSE(CheckColumns(std::vector<ColumnDef>{{std::string("a\0", 2), "TEXT"}}).ok());
  EXPECT_TRUE(SameColumnName("Größe", "GRÖSSE") == false);  // no ß expansion
  EXPECT_TRUE(SameColumnName("größe", "GRÖßE"));
}

TEST(TableDdlTest, EmptyIsNullForTypedColumnsOnly) {
  std::vector<ColumnDef> columns = {{"a", "TEXT"},   {"b", "BIGINT"},      {"c", "mediumtext"}, {"d", "DATE"},
                                    {"e", "DOUBLE"}, {"f", "DECIMAL(5,2)"}, {"g", "LONGTEXT"},   {"h", "DATETIME(3)"}};
  EXPECT_EQ(EmptyIsNull(columns), (std::vector<std::uint8_t>{0, 1, 0, 1, 1, 1, 0, 1}));
}

TEST(TableDdlTest, ReservedAndStagingNames) {
  EXPECT_TRUE(ValidateTableName("titanic").ok());
  EXPECT_TRUE(ValidateTableName("sluice_data").ok());
  EXPECT_FALSE(ValidateTableName("_sluice_stage_x").ok());
  EXPECT_FALSE(ValidateTableName("_SLUICE_x").ok());
  EXPECT_FALSE(ValidateTableName("sluice_uploads").ok());
  EXPECT_FALSE(ValidateTableName("Sluice_Tables").ok());
  EXPECT_FALSE(ValidateTableName("").ok());
  EXPECT_EQ(StagingTableName("01J5ABCDEF"), "_sluice_stage_01j5abcdef");
  EXPECT_EQ(ReplacedTableName("01J5ABCDEF"), "_sluice_old_01j5abcdef");
  EXPECT_EQ(StagingTableName("a`b;c"), "_sluice_stage_a_b_c");
  EXPECT_TRUE(CreateTableSql(StagingTableName("01ARZ3NDEKTSV4RRFFQ69G5FAV"), std::vector<ColumnDef>{{"a", "TEXT"}}));
}

}  // namespace
}  // namespace sluice::db
